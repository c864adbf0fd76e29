package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"mitra/internal/platform/config"
	"mitra/internal/platform/database"
	"mitra/internal/platform/jobs"
	"mitra/internal/platform/logging"
	"mitra/internal/platform/migrations"
	"mitra/internal/server"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// program is the whole of mitra. Its fields are hooks for tests; the zero
// value is the real program.
type program struct {
	// wrap, when set, wraps the server's handler (tests add routes).
	wrap func(http.Handler) http.Handler
	// listening, when set, receives the address the server listens on.
	listening chan<- string
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func isUsage(err error) bool {
	var u usageError
	var c *config.Error
	return errors.As(err, &u) || errors.As(err, &c)
}

const topUsage = `Mitra: the backend of the Persona and Agent apps.

Usage:
  mitra [serve] [flags]          serve the API (default)
  mitra migrate up|down|status   apply, roll back one, or list migrations
  mitra openapi [--yaml]         print the OpenAPI 3.1 document
  mitra admin create --email E --password P [--role super_admin|admin] [--name N]
                                 create an administrator
  mitra keys rotate              add a new token signing key
  mitra seed [--password P]      load a demo data set and print its logins
  mitra version                  print the version

Run 'mitra COMMAND --help' for a command's flags. Every flag can also be
set with its MITRA_* environment variable.
`

// run runs one command. It returns nil after a graceful shutdown.
func (p program) run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return p.serve(ctx, args, getenv, stderr)
	case "migrate":
		return migrateCmd(ctx, args, getenv, stdout, stderr)
	case "openapi":
		return openapiCmd(args, getenv, stdout, stderr)
	case "admin":
		return adminCmd(ctx, args, getenv, stdout, stderr)
	case "keys":
		return keysCmd(ctx, args, getenv, stdout, stderr)
	case "seed":
		return seedCmd(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "mitra", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, topUsage)
		return nil
	}
	fmt.Fprint(stderr, topUsage)
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

// loadConfig parses a command's flags; --help prints usage and ends the
// command successfully.
func loadConfig(name string, getenv func(string) string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (config.Config, []string, bool, error) {
	cfg, rest, err := config.Load(name, getenv, args, stderr, extra)
	if errors.Is(err, flag.ErrHelp) {
		return cfg, nil, true, nil
	}
	if err != nil && !isUsage(err) {
		err = usageError{err.Error()}
	}
	return cfg, rest, false, err
}

func newLogger(cfg config.Config, stderr io.Writer) (*slog.Logger, func() error) {
	return logging.New(logging.Options{Format: cfg.LogFormat, Level: cfg.LogLevel, File: cfg.LogFile, Out: stderr})
}

func openDB(ctx context.Context, cfg config.Config, log *slog.Logger) (*database.DB, error) {
	return database.Open(ctx, database.Options{URL: cfg.DatabaseURL, Schema: cfg.DatabaseSchema, SQLitePath: cfg.SQLitePath(), Logger: log})
}

func (p program) serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, _, help, err := loadConfig("serve", getenv, args, stderr, nil)
	if help || err != nil {
		return err
	}
	log, closeLog := newLogger(cfg, stderr)
	defer closeLog()
	log.Info("starting mitra", "version", buildVersion(), "config", cfg)

	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	queue := a.queue
	if err := queue.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	keyCtx, stopKeys := context.WithCancel(context.Background())
	defer stopKeys()
	a.auth.StartKeyRefresh(keyCtx, time.Minute)

	srv := server.New(server.Deps{Config: cfg, Version: buildVersion(), Logger: log, DB: a.db, Redis: a.rdb, Jobs: queue, Auth: a.auth, Limiter: a.limiter, AI: a.ai, Persona: a.persona, Insurance: a.insurance, Presentations: a.presentations})
	var handler http.Handler = srv
	if p.wrap != nil {
		handler = p.wrap(handler)
	}
	httpServer := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// No WriteTimeout: it would cut streams. Ordinary requests get a
		// per-request write deadline from the middleware.
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		stopQueue(queue, log)
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "database", a.db.Dialect(), "docs", "http://"+displayAddr(ln.Addr())+"/docs")
	if p.listening != nil {
		p.listening <- ln.Addr().String()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- httpServer.Serve(ln) }()

	select {
	case err := <-serveErr:
		stopQueue(queue, log)
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	log.Info("shutting down: draining in-flight requests", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := httpServer.Shutdown(sctx); err != nil {
		log.Warn("shutdown timeout reached: closing remaining connections", "err", err)
		_ = httpServer.Close()
	}
	stopQueue(queue, log)
	log.Info("stopped")
	return nil
}

func stopQueue(q *jobs.Queue, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := q.Stop(ctx); err != nil {
		log.Warn("job queue stop", "err", err)
	}
}

func displayAddr(a net.Addr) string {
	s := a.String()
	if strings.HasPrefix(s, "[::]:") {
		return "localhost:" + strings.TrimPrefix(s, "[::]:")
	}
	if strings.HasPrefix(s, "0.0.0.0:") {
		return "localhost:" + strings.TrimPrefix(s, "0.0.0.0:")
	}
	return s
}

func openRedis(ctx context.Context, url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, usageError{"invalid MITRA_REDIS_URL (--redis-url): not a Redis URL"}
	}
	rdb := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis at %s unreachable", config.RedactURL(url))
	}
	return rdb, nil
}

func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "usage: mitra migrate up|down|status [flags]"
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(stdout, usage)
			return nil
		}
		return usageError{usage}
	}
	action := args[0]
	if action != "up" && action != "down" && action != "status" {
		return usageError{usage}
	}
	cfg, _, help, err := loadConfig("migrate "+action, getenv, args[1:], stderr, nil)
	if help || err != nil {
		return err
	}
	log, closeLog := newLogger(cfg, stderr)
	defer closeLog()
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	switch action {
	case "up":
		applied, err := migrations.Up(ctx, db)
		for _, a := range applied {
			fmt.Fprintf(stdout, "applied %-5s %4d %s (%s)\n", a.Source, a.Version, a.Name, a.Duration.Round(time.Millisecond))
		}
		if err == nil && len(applied) == 0 {
			fmt.Fprintln(stdout, "database is up to date")
		}
		return err
	case "down":
		a, err := migrations.Down(ctx, db)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rolled back %s %d %s\n", a.Source, a.Version, a.Name)
		return nil
	default:
		list, err := migrations.List(ctx, db)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "database: %s\n", cfg.DatabaseDisplay())
		for _, m := range list {
			state := "pending"
			if m.Applied {
				state = "applied"
				if !m.AppliedAt.IsZero() {
					state += " " + m.AppliedAt.UTC().Format(time.RFC3339)
				}
			}
			fmt.Fprintf(stdout, "%-5s %4d %-40s %s\n", m.Source, m.Version, m.Name, state)
		}
		return nil
	}
}

func openapiCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var asYAML bool
	cfg, _, help, err := loadConfig("openapi", getenv, args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&asYAML, "yaml", false, "print YAML instead of JSON")
	})
	if help || err != nil {
		return err
	}
	spec := server.New(server.Deps{Config: cfg, Version: buildVersion()}).OpenAPI()
	var b []byte
	if asYAML {
		b, err = spec.YAML()
	} else {
		b, err = spec.MarshalJSON()
	}
	if err != nil {
		return err
	}
	_, err = stdout.Write(append(b, '\n'))
	return err
}
