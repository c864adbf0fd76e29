// Package dbtest runs store tests on every database: SQLite always, and
// PostgreSQL when MITRA_TEST_DATABASE_URL is set. Each test gets a fresh,
// migrated database (a new SQLite file, or a new PostgreSQL schema dropped
// afterwards), so tests never see each other's rows.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"mitra/internal/platform/database"
	"mitra/internal/platform/migrations"
	"mitra/internal/platform/testenv"
)

// Run runs fn as subtests "sqlite" and "postgres" with a migrated database.
func Run(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite returns a migrated SQLite database in a temporary directory.
func SQLite(t testing.TB) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), database.Options{SQLitePath: filepath.Join(t.TempDir(), "test.db")})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	migrate(t, db)
	return db
}

// Postgres returns a migrated PostgreSQL database in a fresh schema, or
// skips when MITRA_TEST_DATABASE_URL is unset (fails when required).
func Postgres(t testing.TB) *database.DB {
	t.Helper()
	url := testenv.PostgresURL(t)
	schema := NewSchema(t, url)
	db, err := database.Open(context.Background(), database.Options{URL: url, Schema: schema, MaxConns: 8, ConnectAttempts: 1})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	migrate(t, db)
	return db
}

// NewSchema returns the name of a schema that does not exist yet and drops
// it (with everything in it) when the test ends.
func NewSchema(t testing.TB, url string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop test schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	return schema
}

func migrate(t testing.TB, db *database.DB) {
	t.Helper()
	if _, err := migrations.Up(context.Background(), db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
}
