// Package database opens Mitra's relational store, SQLite or PostgreSQL, and
// gives domain code one small API over both: Exec, Query and QueryRow with
// '?' placeholders, and InTx for transactions.
//
// SQLite runs in WAL mode with a single writer connection (writes and
// transactions) and a pool of read-only connections (queries outside a
// transaction). PostgreSQL runs on a pgx pool; an optional schema is created
// when missing and put on every connection's search_path.
//
// Times are stored as timestamptz on PostgreSQL and as fixed-width UTC text
// (2006-01-02T15:04:05.000000Z, which sorts) on SQLite; Scan into time.Time
// works on both.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the SQL database in use.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrNoRows is returned by Row.Scan when the query selected nothing.
var ErrNoRows = errors.New("database: no rows")

// Options configure Open.
type Options struct {
	// URL is a postgres:// URL; empty selects SQLite at SQLitePath.
	URL        string
	Schema     string
	SQLitePath string
	// MaxConns bounds the PostgreSQL pool and the SQLite read pool; 0 picks
	// a default from the CPU count.
	MaxConns int
	// ConnectAttempts is how many times Open tries to reach PostgreSQL,
	// with exponential backoff, before giving up (default 5).
	ConnectAttempts int
	Logger          *slog.Logger
}

// DB is an open database. It is safe for concurrent use.
type DB struct {
	dialect Dialect
	schema  string

	write, read *sql.DB // SQLite
	pool        *pgxpool.Pool
	pgSQL       *sql.DB // PostgreSQL through database/sql, for tools that need it

	rebound sync.Map  // query -> query with $n placeholders (PostgreSQL)
	stmts   stmtCache // prepared reads (SQLite; pgx caches its own)
}

// Open opens and checks the database described by o.
func Open(ctx context.Context, o Options) (*DB, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxConns <= 0 {
		o.MaxConns = max(4, 2*runtime.NumCPU())
	}
	if o.URL == "" {
		return openSQLite(ctx, o)
	}
	return openPostgres(ctx, o)
}

func openSQLite(ctx context.Context, o Options) (*DB, error) {
	if o.SQLitePath == "" {
		return nil, errors.New("database: no SQLite path")
	}
	if dir := filepath.Dir(o.SQLitePath); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("database: create data dir: %w", err)
		}
	}
	// Reads go through a 256 MiB memory map (pages shared with the OS cache,
	// no read syscalls) and a 16 MiB page cache per connection: with a
	// large table (a million policies) the defaults turn every lookup into
	// reads from the kernel.
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)" +
		"&_pragma=mmap_size(268435456)&_pragma=cache_size(-16384)&_pragma=temp_store(MEMORY)"
	write, err := sql.Open("sqlite", "file:"+o.SQLitePath+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("database: open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	// The writer connects first so that WAL mode is set before readers open.
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("database: open sqlite: %w", err)
	}
	read, err := sql.Open("sqlite", "file:"+o.SQLitePath+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("database: open sqlite: %w", err)
	}
	read.SetMaxOpenConns(o.MaxConns)
	read.SetMaxIdleConns(o.MaxConns)
	read.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{dialect: SQLite, write: write, read: read}, nil
}

func openPostgres(ctx context.Context, o Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(o.URL)
	if err != nil {
		return nil, errors.New("database: invalid PostgreSQL URL") // the URL holds secrets: not wrapped
	}
	cfg.MaxConns = int32(o.MaxConns)
	cfg.HealthCheckPeriod = 30 * time.Second
	// Times come back in UTC on both dialects.
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		c.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID, Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
	}
	attempts := o.ConnectAttempts
	if attempts <= 0 {
		attempts = 5
	}
	if o.Schema != "" {
		if err := retry(ctx, attempts, o.Logger, func() error { return createSchema(ctx, cfg.ConnConfig, o.Schema) }); err != nil {
			return nil, err
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = o.Schema
	}
	var pool *pgxpool.Pool
	err = retry(ctx, attempts, o.Logger, func() error {
		p, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return err
		}
		if err := p.Ping(ctx); err != nil {
			p.Close()
			return err
		}
		pool = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &DB{dialect: Postgres, schema: o.Schema, pool: pool, pgSQL: stdlib.OpenDBFromPool(pool)}, nil
}

func createSchema(ctx context.Context, cc *pgx.ConnConfig, schema string) error {
	conn, err := pgx.ConnectConfig(ctx, cc.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
	return err
}

// retry calls fn up to attempts times with exponential backoff from 250ms.
// Connection errors are reported without their text, which may name hosts
// and users; the final error says only that the database is unreachable.
func retry(ctx context.Context, attempts int, log *slog.Logger, fn func() error) error {
	wait := 250 * time.Millisecond
	var err error
	for i := 1; i <= attempts; i++ {
		if err = fn(); err == nil {
			return nil
		}
		if i == attempts {
			break
		}
		log.Warn("database not reachable, retrying", "attempt", i, "wait", wait, "reason", safeReason(err))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
	return fmt.Errorf("database: PostgreSQL unreachable after %d attempts (%s)", attempts, safeReason(err))
}

// safeReason describes a connection error without echoing credentials.
func safeReason(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return "server error " + pgErr.Code
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		s := connErr.Unwrap().Error()
		if strings.Contains(s, "password") {
			return "authentication failed"
		}
		return s
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "connection failed"
}

// Dialect returns the database in use.
func (db *DB) Dialect() Dialect { return db.dialect }

// Schema returns the PostgreSQL schema, or "".
func (db *DB) Schema() string { return db.schema }

// SQL returns a database/sql handle for tools that need one (migrations):
// the single writer on SQLite, the pool on PostgreSQL.
func (db *DB) SQL() *sql.DB {
	if db.dialect == SQLite {
		return db.write
	}
	return db.pgSQL
}

// PgxPool returns the PostgreSQL pool, or nil on SQLite.
func (db *DB) PgxPool() *pgxpool.Pool { return db.pool }

// Close closes every connection.
func (db *DB) Close() error {
	if db.dialect == SQLite {
		return errors.Join(db.stmts.close(), db.read.Close(), db.write.Close())
	}
	err := db.pgSQL.Close()
	db.pool.Close()
	return err
}

// Ping checks the database (the writer on SQLite) and returns the round trip.
func (db *DB) Ping(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	var err error
	if db.dialect == SQLite {
		err = db.write.PingContext(ctx)
	} else {
		err = db.pool.Ping(ctx)
	}
	return time.Since(start), err
}

// PoolStats describes one connection pool.
type PoolStats struct {
	Name         string        `json:"name"`
	MaxOpen      int           `json:"max_open"`
	Open         int           `json:"open"`
	InUse        int           `json:"in_use"`
	Idle         int           `json:"idle"`
	WaitCount    int64         `json:"wait_count"`
	WaitDuration time.Duration `json:"wait_duration_ns"`
}

// PoolStats returns the statistics of each pool: "write" and "read" on
// SQLite, "postgres" on PostgreSQL.
func (db *DB) PoolStats() []PoolStats {
	if db.dialect == SQLite {
		return []PoolStats{sqlStats("write", db.write.Stats()), sqlStats("read", db.read.Stats())}
	}
	s := db.pool.Stat()
	return []PoolStats{{
		Name: "postgres", MaxOpen: int(s.MaxConns()), Open: int(s.TotalConns()), InUse: int(s.AcquiredConns()),
		Idle: int(s.IdleConns()), WaitCount: s.EmptyAcquireCount(), WaitDuration: s.EmptyAcquireWaitTime(),
	}}
}

func sqlStats(name string, s sql.DBStats) PoolStats {
	return PoolStats{Name: name, MaxOpen: s.MaxOpenConnections, Open: s.OpenConnections, InUse: s.InUse,
		Idle: s.Idle, WaitCount: s.WaitCount, WaitDuration: s.WaitDuration}
}

// IsUniqueViolation reports whether err is a unique or primary-key conflict.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// IsForeignKeyViolation reports whether err is a foreign-key failure.
func IsForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23503"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}
