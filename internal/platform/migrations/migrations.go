// Package migrations holds Mitra's embedded schema migrations, one set per
// dialect (sqlite/, postgres/; files NNNN_name.sql, never edited once
// released), and applies them together with the job queue's own migrations.
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"mitra/internal/platform/database"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// Applied is one migration that ran.
type Applied struct {
	Source    string // "mitra" or "river"
	Version   int64
	Name      string
	Direction string
	Duration  time.Duration
}

// Status is the state of one migration.
type Status struct {
	Source    string
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time
}

func provider(db *database.DB) (*goose.Provider, error) {
	dir, dialect := "sqlite", goose.DialectSQLite3
	var opts []goose.ProviderOption
	if db.Dialect() == database.Postgres {
		dir, dialect = "postgres", goose.DialectPostgres
		// Several nodes may start at once: one migrates, the others wait.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	sub, err := fs.Sub(files, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(dialect, db.SQL(), sub, append(opts, goose.WithDisableGlobalRegistry(true))...)
}

type riverMigrator interface {
	Migrate(ctx context.Context, direction rivermigrate.Direction, opts *rivermigrate.MigrateOpts) (*rivermigrate.MigrateResult, error)
	ExistingVersions(ctx context.Context) ([]rivermigrate.Migration, error)
	AllVersions() []rivermigrate.Migration
}

func river(db *database.DB) (riverMigrator, error) {
	if db.Dialect() == database.Postgres {
		return rivermigrate.New(riverpgxv5.New(db.PgxPool()), nil)
	}
	return rivermigrate.New(riversqlite.New(db.SQL()), nil)
}

// Up applies every pending migration: the job queue's, then Mitra's.
func Up(ctx context.Context, db *database.DB) ([]Applied, error) {
	var out []Applied
	rm, err := river(db)
	if err != nil {
		return nil, fmt.Errorf("migrations: job queue: %w", err)
	}
	rres, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("migrations: job queue: %w", err)
	}
	for _, v := range rres.Versions {
		out = append(out, Applied{Source: "river", Version: int64(v.Version), Name: v.Name, Direction: "up", Duration: v.Duration})
	}
	p, err := provider(db)
	if err != nil {
		return out, fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	for _, r := range res {
		out = append(out, fromGoose(r, "up"))
	}
	if err != nil {
		return out, fmt.Errorf("migrations: %w", err)
	}
	return out, nil
}

// Down rolls back the newest of Mitra's migrations (the job queue's
// schema is left in place).
func Down(ctx context.Context, db *database.DB) (*Applied, error) {
	p, err := provider(db)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	r, err := p.Down(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	a := fromGoose(r, "down")
	return &a, nil
}

// List reports every known migration and whether it is applied.
func List(ctx context.Context, db *database.DB) ([]Status, error) {
	rm, err := river(db)
	if err != nil {
		return nil, err
	}
	existing, err := rm.ExistingVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: job queue: %w", err)
	}
	applied := map[int]time.Time{}
	for _, m := range existing {
		applied[m.Version] = time.Time{}
	}
	var out []Status
	for _, m := range rm.AllVersions() {
		_, ok := applied[m.Version]
		out = append(out, Status{Source: "river", Version: int64(m.Version), Name: m.Name, Applied: ok})
	}
	p, err := provider(db)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	for _, s := range st {
		out = append(out, Status{Source: "mitra", Version: s.Source.Version, Name: s.Source.Path,
			Applied: s.State == goose.StateApplied, AppliedAt: s.AppliedAt})
	}
	return out, nil
}

func fromGoose(r *goose.MigrationResult, dir string) Applied {
	if r == nil || r.Source == nil {
		return Applied{Source: "mitra", Direction: dir}
	}
	return Applied{Source: "mitra", Version: r.Source.Version, Name: r.Source.Path, Direction: dir, Duration: r.Duration}
}
