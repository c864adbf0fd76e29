package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Querier runs SQL written with '?' placeholders. *DB and *Tx implement it,
// so store helpers take a Querier and work inside or outside a transaction.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (Result, error)
	Query(ctx context.Context, query string, args ...any) (*Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *Row
}

// Result reports what an Exec changed.
type Result struct{ rowsAffected int64 }

// RowsAffected is the number of rows inserted, updated or deleted.
func (r Result) RowsAffected() int64 { return r.rowsAffected }

// Rows is the result of a query. Always Close it (or read it to the end).
type Rows struct {
	sq      *sql.Rows
	pg      pgx.Rows
	dialect Dialect
}

// Next prepares the next row for Scan.
func (r *Rows) Next() bool {
	if r.sq != nil {
		return r.sq.Next()
	}
	return r.pg.Next()
}

// Scan copies the current row into dest.
func (r *Rows) Scan(dest ...any) error {
	if r.sq != nil {
		return scanSQLite(r.sq.Scan, dest)
	}
	return r.pg.Scan(dest...)
}

// Err returns the error met while iterating.
func (r *Rows) Err() error {
	if r.sq != nil {
		return r.sq.Err()
	}
	return r.pg.Err()
}

// Close releases the rows.
func (r *Rows) Close() error {
	if r.sq != nil {
		return r.sq.Close()
	}
	r.pg.Close()
	return nil
}

// Row is the result of QueryRow.
type Row struct {
	sq  *sql.Row
	pg  pgx.Row
	err error
}

// Scan copies the row into dest; it returns ErrNoRows when there was none.
func (r *Row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	var err error
	if r.sq != nil {
		err = scanSQLite(r.sq.Scan, dest)
	} else {
		err = r.pg.Scan(dest...)
	}
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return ErrNoRows
	}
	return err
}

// Exec runs a statement on the writer.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (Result, error) {
	if db.dialect == SQLite {
		return sqliteExec(ctx, db.write, query, args)
	}
	return pgExec(ctx, db.pool, db.rebind(query), args)
}

// Query runs a query on the read pool (SQLite) or the pool (PostgreSQL).
func (db *DB) Query(ctx context.Context, query string, args ...any) (*Rows, error) {
	if db.dialect == SQLite {
		var rows *sql.Rows
		var err error
		if st := db.stmts.get(ctx, db.read, query); st != nil {
			rows, err = st.QueryContext(ctx, sqliteArgs(args)...)
		} else {
			rows, err = db.read.QueryContext(ctx, query, sqliteArgs(args)...)
		}
		if err != nil {
			return nil, err
		}
		return &Rows{sq: rows, dialect: SQLite}, nil
	}
	rows, err := db.pool.Query(ctx, db.rebind(query), args...)
	if err != nil {
		return nil, err
	}
	return &Rows{pg: rows, dialect: Postgres}, nil
}

// QueryRow runs a query expected to return at most one row.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *Row {
	if db.dialect == SQLite {
		if st := db.stmts.get(ctx, db.read, query); st != nil {
			return &Row{sq: st.QueryRowContext(ctx, sqliteArgs(args)...)}
		}
		return &Row{sq: db.read.QueryRowContext(ctx, query, sqliteArgs(args)...)}
	}
	return &Row{pg: db.pool.QueryRow(ctx, db.rebind(query), args...)}
}

// Tx is a transaction. It implements Querier.
type Tx struct {
	db *DB
	sq *sql.Tx
	pg pgx.Tx
}

// Dialect returns the database in use.
func (tx *Tx) Dialect() Dialect { return tx.db.dialect }

// SQLTx returns the database/sql transaction on SQLite, else nil. For
// libraries that join the transaction (the job queue).
func (tx *Tx) SQLTx() *sql.Tx { return tx.sq }

// PgxTx returns the pgx transaction on PostgreSQL, else nil.
func (tx *Tx) PgxTx() pgx.Tx { return tx.pg }

// Exec runs a statement in the transaction.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (Result, error) {
	if tx.sq != nil {
		return sqliteExec(ctx, tx.sq, query, args)
	}
	return pgExec(ctx, tx.pg, tx.db.rebind(query), args)
}

// Query runs a query in the transaction.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*Rows, error) {
	if tx.sq != nil {
		rows, err := tx.sq.QueryContext(ctx, query, sqliteArgs(args)...)
		if err != nil {
			return nil, err
		}
		return &Rows{sq: rows, dialect: SQLite}, nil
	}
	rows, err := tx.pg.Query(ctx, tx.db.rebind(query), args...)
	if err != nil {
		return nil, err
	}
	return &Rows{pg: rows, dialect: Postgres}, nil
}

// QueryRow runs a one-row query in the transaction.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *Row {
	if tx.sq != nil {
		return &Row{sq: tx.sq.QueryRowContext(ctx, query, sqliteArgs(args)...)}
	}
	return &Row{pg: tx.pg.QueryRow(ctx, tx.db.rebind(query), args...)}
}

// InTx runs fn in a transaction on the writer, committing when fn returns
// nil and rolling back otherwise (and on panic, which is re-raised). On
// SQLite the transaction begins IMMEDIATE, so it holds the write lock from
// the start and never fails to upgrade. fn must use tx, not db: on SQLite
// the single writer connection is held by the transaction.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	tx := &Tx{db: db}
	if db.dialect == SQLite {
		if tx.sq, err = db.write.BeginTx(ctx, nil); err != nil {
			return fmt.Errorf("database: begin: %w", err)
		}
	} else {
		if tx.pg, err = db.pool.Begin(ctx); err != nil {
			return fmt.Errorf("database: begin: %w", err)
		}
	}
	defer func() {
		if p := recover(); p != nil {
			tx.rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		tx.rollback()
		return err
	}
	if tx.sq != nil {
		err = tx.sq.Commit()
	} else {
		err = tx.pg.Commit(context.WithoutCancel(ctx))
	}
	if err != nil {
		return fmt.Errorf("database: commit: %w", err)
	}
	return nil
}

func (tx *Tx) rollback() {
	if tx.sq != nil {
		_ = tx.sq.Rollback()
		return
	}
	_ = tx.pg.Rollback(context.Background())
}

type sqlExecer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func sqliteExec(ctx context.Context, e sqlExecer, query string, args []any) (Result, error) {
	res, err := e.ExecContext(ctx, query, sqliteArgs(args)...)
	if err != nil {
		return Result{}, err
	}
	n, _ := res.RowsAffected()
	return Result{rowsAffected: n}, nil
}

type pgExecer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func pgExec(ctx context.Context, e pgExecer, query string, args []any) (Result, error) {
	tag, err := e.Exec(ctx, query, args...)
	if err != nil {
		return Result{}, err
	}
	return Result{rowsAffected: tag.RowsAffected()}, nil
}

// rebind turns '?' placeholders into $1, $2, ... for PostgreSQL, leaving
// question marks inside quoted strings and identifiers alone. Results are
// cached: the set of queries is the set written in the code.
func (db *DB) rebind(query string) string {
	if q, ok := db.rebound.Load(query); ok {
		return q.(string)
	}
	q := Rebind(query)
	db.rebound.Store(query, q)
	return q
}

// Rebind rewrites '?' placeholders as $n.
func Rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// TimeLayout is how SQLite stores times: UTC, fixed width, so text order is
// time order.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// sqliteArgs converts time arguments to SQLite's text form. It copies the
// slice before changing it: the caller's arguments are left alone.
func sqliteArgs(args []any) []any {
	out := args
	for i, a := range args {
		var v any
		switch t := a.(type) {
		case time.Time:
			v = t.UTC().Format(TimeLayout)
		case *time.Time:
			if t != nil {
				v = t.UTC().Format(TimeLayout)
			}
		case sql.NullTime:
			if t.Valid {
				v = t.Time.UTC().Format(TimeLayout)
			}
		default:
			continue
		}
		if &out[0] == &args[0] {
			out = append([]any(nil), args...)
		}
		out[i] = v
	}
	return out
}

// timeScanner reads a SQLite time column (text, or a time the driver
// already parsed) into a time.Time, or marks it null.
type timeScanner struct {
	t     *time.Time
	valid bool
}

func (s *timeScanner) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		s.valid = false
		return nil
	case time.Time:
		*s.t, s.valid = v.UTC(), true
		return nil
	case string:
		return s.parse(v)
	case []byte:
		return s.parse(string(v))
	}
	return fmt.Errorf("database: cannot scan %T into time", src)
}

func (s *timeScanner) parse(v string) error {
	for _, layout := range []string{TimeLayout, time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			*s.t, s.valid = t.UTC(), true
			return nil
		}
	}
	return fmt.Errorf("database: cannot parse time %q", v)
}

// scanSQLite scans with time destinations adapted to SQLite's text times.
func scanSQLite(scan func(...any) error, dest []any) error {
	var fix []func() error
	adapted := dest
	for i, d := range dest {
		switch v := d.(type) {
		case *time.Time:
			if fix == nil {
				adapted = append([]any(nil), dest...)
			}
			ts := &timeScanner{t: v}
			adapted[i] = ts
			fix = append(fix, func() error {
				if !ts.valid {
					return errors.New("database: NULL scanned into time.Time (use *time.Time or sql.NullTime)")
				}
				return nil
			})
		case **time.Time:
			if fix == nil {
				adapted = append([]any(nil), dest...)
			}
			var t time.Time
			ts := &timeScanner{t: &t}
			adapted[i] = ts
			fix = append(fix, func() error {
				if ts.valid {
					*v = &t
				} else {
					*v = nil
				}
				return nil
			})
		case *sql.NullTime:
			if fix == nil {
				adapted = append([]any(nil), dest...)
			}
			ts := &timeScanner{t: &v.Time}
			adapted[i] = ts
			fix = append(fix, func() error { v.Valid = ts.valid; return nil })
		}
	}
	if err := scan(adapted...); err != nil {
		return err
	}
	for _, f := range fix {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// EscapeLike escapes s for a LIKE pattern written with ESCAPE '\' (the
// same on SQLite and PostgreSQL): %, _ and \ match themselves.
func EscapeLike(s string) string {
	return likeEscaper.Replace(s)
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// stmtCache keeps prepared read statements: parsing and planning a query
// costs SQLite (compiled to Go) more than running an indexed lookup. Each
// query text is prepared once per read connection, lazily, by
// database/sql. The cache holds at most maxStmts texts; beyond that (a
// caller building many distinct texts) queries run unprepared.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

const maxStmts = 512

// get returns the prepared statement of query, or nil when it cannot be
// prepared (the caller then runs it directly and sees the error).
func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st
	}
	if len(c.m) >= maxStmts {
		return nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	return st
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.m {
		errs = append(errs, st.Close())
	}
	c.m = nil
	return errors.Join(errs...)
}
