package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"mitra/internal/platform/database/dbtest"
	"mitra/internal/platform/testenv"
)

// TestMain lets the test binary act as the mitra process itself, with a
// slow route added, so signal handling is tested on a real process.
func TestMain(m *testing.M) {
	if os.Getenv("MITRA_TEST_HELPER") == "serve-slow" {
		os.Args = []string{"mitra", "serve"}
		os.Exit(mainWith(program{wrap: withSlowRoute}))
	}
	os.Exit(m.Run())
}

func withSlowRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/test/slow" {
			next.ServeHTTP(w, r)
			return
		}
		time.Sleep(2 * time.Second)
		_, _ = io.WriteString(w, "finished")
	})
}

func envMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// startInProcess runs the program until the test ends and returns its
// address.
func startInProcess(t *testing.T, env map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		done <- program{listening: ready}.run(ctx, []string{"serve"}, envMap(env), io.Discard, &logs)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run returned %v after cancel; logs:\n%s", err, logs.String())
		}
	})
	select {
	case addr := <-ready:
		return "http://" + addr
	case err := <-done:
		t.Fatalf("run ended before listening: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("not listening after 30s")
	}
	return ""
}

func TestServeOnSQLite(t *testing.T) {
	base := startInProcess(t, map[string]string{"MITRA_ADDR": "127.0.0.1:0", "MITRA_DATA_DIR": t.TempDir()})
	resp, err := http.Get(base + "/api/v1/health/database")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&b)
	if resp.StatusCode != 200 || b["dialect"] != "sqlite" {
		t.Fatalf("%d %v", resp.StatusCode, b)
	}
}

// The same program on PostgreSQL with a schema puts every table there.
func TestServeOnPostgresSchema(t *testing.T) {
	url := testenv.PostgresURL(t)
	schema := dbtest.NewSchema(t, url)
	base := startInProcess(t, map[string]string{
		"MITRA_ADDR": "127.0.0.1:0", "MITRA_DATA_DIR": t.TempDir(),
		"MITRA_DATABASE_URL": url, "MITRA_DATABASE_SCHEMA": schema,
	})
	resp, err := http.Get(base + "/api/v1/health/database")
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&b)
	resp.Body.Close()
	if b["dialect"] != "postgres" || b["schema"] != schema {
		t.Fatalf("%v", b)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"app_settings", "goose_db_version", "river_job", "river_migration"} {
		found := false
		for _, tbl := range tables {
			found = found || tbl == want
		}
		if !found {
			t.Fatalf("table %s not in schema %s (have %v)", want, schema, tables)
		}
	}
}

// SIGTERM while a request is in flight: the request completes, then the
// process exits 0.
func TestSIGTERMDrainsInFlightRequest(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MITRA_TEST_HELPER=serve-slow", "MITRA_ADDR=127.0.0.1:0",
		"MITRA_DATA_DIR="+t.TempDir(), "MITRA_LOG_FORMAT=json", "MITRA_DATABASE_URL=", "MITRA_REDIS_URL=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck // in case the test fails early

	var logs strings.Builder
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "listening" {
				addr <- rec["addr"].(string)
			}
		}
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start:\n%s", logs.String())
	}

	type result struct {
		body string
		code int
		err  error
	}
	res := make(chan result, 1)
	started := time.Now()
	go func() {
		resp, err := http.Get(base + "/test/slow")
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		res <- result{string(b), resp.StatusCode, err}
	}()
	time.Sleep(500 * time.Millisecond) // the request is now in the handler
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-res
	if r.err != nil || r.code != 200 || r.body != "finished" {
		t.Fatalf("in-flight request: %+v\n%s", r, logs.String())
	}
	if time.Since(started) < 2*time.Second {
		t.Fatal("request returned before its handler finished")
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("process did not exit after SIGTERM")
	}
	if cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("exit code %d", cmd.ProcessState.ExitCode())
	}
	if !strings.Contains(logs.String(), "shutting down") || !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Fatalf("shutdown not logged:\n%s", logs.String())
	}
}

func TestInvalidConfigNamesVariable(t *testing.T) {
	var stderr bytes.Buffer
	err := program{}.run(context.Background(), []string{"serve"}, envMap(map[string]string{"MITRA_ADDR": "nonsense"}), io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "MITRA_ADDR") {
		t.Fatalf("got %v", err)
	}
	if code := exitCode(err, io.Discard); code != 2 {
		t.Fatalf("exit code %d, want 2", code)
	}
}

func TestCommands(t *testing.T) {
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := program{}.run(context.Background(), args, envMap(map[string]string{"MITRA_DATA_DIR": t.TempDir()}), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	out, err := run("version")
	if err != nil || !strings.HasPrefix(out, "mitra ") {
		t.Fatalf("version: %q %v", out, err)
	}
	out, err = run("openapi")
	if err != nil || !strings.Contains(out, `"openapi":"3.1.0"`) {
		t.Fatalf("openapi: %.200s %v", out, err)
	}
	out, err = run("openapi", "--yaml")
	if err != nil || !strings.Contains(out, "openapi: 3.1.0") {
		t.Fatalf("openapi --yaml: %.200s %v", out, err)
	}
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"migrate", "--help"}, {"migrate", "up", "--help"}, {"openapi", "--help"}} {
		if out, err := run(args...); err != nil || !strings.Contains(strings.ToLower(out), "usage") {
			t.Fatalf("%v: %q %v", args, out, err)
		}
	}
	if _, err := run("frobnicate"); err == nil || exitCode(err, io.Discard) != 2 {
		t.Fatalf("unknown command: %v", err)
	}
	if _, err := run("migrate", "sideways"); err == nil || exitCode(err, io.Discard) != 2 {
		t.Fatalf("bad migrate action: %v", err)
	}
}

func TestMigrateCommand(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := (program{}).run(context.Background(), args, envMap(map[string]string{"MITRA_DATA_DIR": dir}), &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out.String()
	}
	if out := run("migrate", "status"); !strings.Contains(out, " pending\n") {
		t.Fatalf("fresh status: %s", out)
	}
	if out := run("migrate", "up"); !strings.Contains(out, "applied mitra") || !strings.Contains(out, "applied river") {
		t.Fatalf("up: %s", out)
	}
	if out := run("migrate", "up"); !strings.Contains(out, "up to date") {
		t.Fatalf("second up: %s", out)
	}
	if out := run("migrate", "status"); strings.Contains(out, " pending\n") {
		t.Fatalf("status after up: %s", out)
	}
	if out := run("migrate", "down"); !strings.Contains(out, "rolled back mitra") {
		t.Fatalf("down: %s", out)
	}
	if out := run("migrate", "status"); strings.Count(out, " pending\n") != 1 || !strings.Contains(out, "0001_app_settings.sql") {
		t.Fatalf("status after down: want exactly the newest migration pending:\n%s", out)
	}
}
