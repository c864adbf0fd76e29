package proc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ParseRates reads a comma-separated list of request rates ("500,1000").
func ParseRates(s string) ([]float64, error) {
	var out []float64
	for _, r := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(r), 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("bad rate %q", r)
		}
		out = append(out, v)
	}
	return out, nil
}

// Ms is d in milliseconds, for tables.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// DropSchema removes a benchmark's PostgreSQL schema (best effort).
func DropSchema(url, schema string) {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return
	}
	defer c.Close(ctx)
	_, _ = c.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
}

// NumCPU is the machine's processor count as /proc/cpuinfo has it (not
// GOMAXPROCS).
func NumCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}

// GoVersion is the toolchain's version line.
func GoVersion() string {
	out, _ := exec.Command("go", "version").Output()
	return strings.TrimSpace(string(out))
}
