package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"mitra/bench/load"
)

// A tiny run of the whole benchmark: every target at one fixed rate and
// in closed loop answers, twice, without errors, and the table says so.
func TestBaselineSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server and loads it for a few seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	args := []string{"-quick", "-duration", "200ms", "-warmup", "50ms", "-rates", "200", "-concurrency", "2", "-repeat", "2"}
	if err := run(ctx, args, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	t.Log("\n" + out.String())

	rows := map[string]int{} // load -> rows
	inResults := false
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "| scenario | load | achieved") {
			inResults = true
			continue
		}
		if !strings.HasPrefix(line, "|") {
			inResults = false
			continue
		}
		if !inResults || strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 13 {
			t.Fatalf("row has %d cells: %q", len(cells), line)
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		name, loadName := cells[0], cells[1]
		completed, err := strconv.Atoi(cells[3])
		if err != nil || completed <= 0 {
			t.Errorf("%s at %s: completed %q", name, loadName, cells[3])
		}
		if cells[9] != "0" {
			t.Errorf("%s at %s: errors %s", name, loadName, cells[9])
		}
		if p50, err := strconv.ParseFloat(cells[4], 64); err != nil || p50 <= 0 {
			t.Errorf("%s at %s: p50 %q", name, loadName, cells[4])
		}
		if loadName == "200/s" {
			// 200 ms at 200/s is 40 requests.
			if completed != 40 {
				t.Errorf("%s at 200/s: completed %d, want 40", name, completed)
			}
		}
		rows[loadName]++
	}
	if rows["200/s"] != 4 || rows["closed 2"] != 4 || len(rows) != 2 {
		t.Errorf("rows per load %v, want 4 targets at 200/s and at closed 2", rows)
	}
	for _, want := range []string{"Overhead over the bare handler", "max RSS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestFlags(t *testing.T) {
	var errOut bytes.Buffer
	o, err := parseFlags(nil, &errOut)
	if err != nil || o.duration != 10*time.Second || o.warmup != 2*time.Second || len(o.rates) != 2 || o.concurrency != 64 || o.repeat != 3 || o.maxInFlight != 64 {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	o, err = parseFlags([]string{"-quick"}, &errOut)
	if err != nil || o.duration != time.Second || o.warmup != 250*time.Millisecond || len(o.rates) != 2 || o.concurrency != 64 || o.repeat != 1 {
		t.Errorf("-quick: %+v, %v", o, err)
	}
	o, err = parseFlags([]string{"-quick", "-duration", "2s", "-rates", " 300, 700 "}, &errOut)
	if err != nil || o.duration != 2*time.Second || len(o.rates) != 2 || o.rates[0] != 300 || o.rates[1] != 700 {
		t.Errorf("explicit flags: %+v, %v", o, err)
	}
	for _, bad := range [][]string{
		{"-rates", "abc"}, {"-rates", "0"}, {"-duration", "0s"}, {"-duration", "1h"},
		{"-concurrency", "-1"}, {"-rates", "", "-concurrency", "0"}, {"-max-in-flight", "0"}, {"-repeat", "0"}, {"extra"},
	} {
		if _, err := parseFlags(bad, &errOut); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Medians are taken per figure, and overheads pair each run with the bare
// run of the same repetition.
func TestMediansAndPairing(t *testing.T) {
	mk := func(rates ...float64) *cell {
		c := &cell{}
		for _, r := range rates {
			c.runs = append(c.runs, run1{res: load.Result{Achieved: r}})
		}
		return c
	}
	// The machine slows down run after run; the scenario is always 80% of
	// the bare handler next to it.
	bare := mk(50000, 40000, 30000)
	mitra := mk(40000, 32000, 24000)
	if got := mitra.median(achieved); got != 32000 {
		t.Errorf("median = %v, want 32000", got)
	}
	ratio := mitra.paired(bare, func(x, b run1) float64 { return x.res.Achieved / b.res.Achieved })
	if ratio < 0.7999 || ratio > 0.8001 {
		t.Errorf("paired ratio = %v, want 0.8", ratio)
	}
	if lo, hi := bare.spread(achieved); lo != 30000 || hi != 50000 {
		t.Errorf("spread = %v–%v", lo, hi)
	}
	if got := mk(1, 4, 2, 3).median(achieved); got != 2.5 {
		t.Errorf("even median = %v, want 2.5", got)
	}
	if got := mk().median(achieved); got != 0 {
		t.Errorf("empty median = %v", got)
	}
}
