package database_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
)

const table = `CREATE TABLE notes (
	id TEXT PRIMARY KEY,
	body TEXT NOT NULL,
	n INTEGER NOT NULL DEFAULT 0,
	done BOOLEAN NOT NULL DEFAULT FALSE,
	created_at %s NOT NULL,
	deleted_at %s
)`

func createNotes(t *testing.T, db *database.DB) {
	t.Helper()
	ts := "TEXT"
	if db.Dialect() == database.Postgres {
		ts = "TIMESTAMPTZ"
	}
	if _, err := db.Exec(context.Background(), sprintf(table, ts, ts)); err != nil {
		t.Fatal(err)
	}
}

func TestRoundTripAndTimes(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		createNotes(t, db)
		created := time.Date(2026, 11, 21, 10, 30, 0, 123456000, time.FixedZone("WIB", 7*3600))
		args := []any{"a", "hello?", 3, true, created}
		if _, err := db.Exec(ctx, `INSERT INTO notes (id, body, n, done, created_at) VALUES (?, ?, ?, ?, ?)`, args...); err != nil {
			t.Fatal(err)
		}
		if _, ok := args[4].(time.Time); !ok {
			t.Fatalf("Exec changed the caller's arguments: %T", args[4])
		}
		var (
			body    string
			n       int
			done    bool
			at      time.Time
			deleted *time.Time
			nt      sql.NullTime
		)
		err := db.QueryRow(ctx, `SELECT body, n, done, created_at, deleted_at, deleted_at FROM notes WHERE id = ? AND body = 'hello?'`, "a").
			Scan(&body, &n, &done, &at, &deleted, &nt)
		if err != nil {
			t.Fatal(err)
		}
		if body != "hello?" || n != 3 || !done || !at.Equal(created) || at.Location() != time.UTC || deleted != nil || nt.Valid {
			t.Fatalf("got %q %d %v %v %v %v", body, n, done, at, deleted, nt)
		}
		if err := db.QueryRow(ctx, `SELECT body FROM notes WHERE id = ?`, "missing").Scan(&body); !errors.Is(err, database.ErrNoRows) {
			t.Fatalf("missing row: got %v, want ErrNoRows", err)
		}
		// Times order correctly in SQL on both dialects.
		later := created.Add(time.Second)
		if _, err := db.Exec(ctx, `INSERT INTO notes (id, body, created_at, deleted_at) VALUES (?, ?, ?, ?)`, "b", "x", later, &later); err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query(ctx, `SELECT id, deleted_at FROM notes WHERE created_at > ? ORDER BY created_at`, created)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id, &deleted); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(ids) != 1 || ids[0] != "b" || deleted == nil || !deleted.Equal(later) {
			t.Fatalf("got %v %v", ids, deleted)
		}
	})
}

func TestInTxCommitsAndRollsBack(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		createNotes(t, db)
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *database.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO notes (id, body, created_at) VALUES (?, ?, ?)`, "r", "rolled back", time.Now()); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx returned %v, want boom", err)
		}
		err = db.InTx(ctx, func(tx *database.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO notes (id, body, created_at) VALUES (?, ?, ?)`, "c", "committed", time.Now())
			if err != nil {
				return err
			}
			var n int
			// Reads inside the transaction see its own writes.
			return tx.QueryRow(ctx, `SELECT count(*) FROM notes WHERE id = ?`, "c").Scan(&n)
		})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		rows, err := db.Query(ctx, `SELECT id FROM notes ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			_ = rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		if len(ids) != 1 || ids[0] != "c" {
			t.Fatalf("rows after commit+rollback: %v", ids)
		}
		// A panic rolls back and propagates.
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("panic swallowed")
				}
			}()
			_ = db.InTx(ctx, func(tx *database.Tx) error {
				_, _ = tx.Exec(ctx, `INSERT INTO notes (id, body, created_at) VALUES (?, ?, ?)`, "p", "panic", time.Now())
				panic("x")
			})
		}()
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM notes WHERE id = 'p'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("panicking tx left %d rows (%v)", n, err)
		}
	})
}

func TestConstraintErrors(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		createNotes(t, db)
		q := `INSERT INTO notes (id, body, created_at) VALUES (?, ?, ?)`
		if _, err := db.Exec(ctx, q, "u", "1", time.Now()); err != nil {
			t.Fatal(err)
		}
		_, err := db.Exec(ctx, q, "u", "2", time.Now())
		if !database.IsUniqueViolation(err) {
			t.Fatalf("duplicate key: %v is not a unique violation", err)
		}
		if _, err := db.Exec(ctx, `CREATE TABLE children (id TEXT PRIMARY KEY, note_id TEXT NOT NULL REFERENCES notes(id))`); err != nil {
			t.Fatal(err)
		}
		_, err = db.Exec(ctx, `INSERT INTO children (id, note_id) VALUES (?, ?)`, "c1", "nope")
		if !database.IsForeignKeyViolation(err) {
			t.Fatalf("missing parent: %v is not a foreign-key violation", err)
		}
	})
}

// Concurrent writers on SQLite queue on the single writer instead of
// failing with SQLITE_BUSY; readers run alongside.
func TestConcurrentWrites(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		createNotes(t, db)
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for i := range 100 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				errs <- db.InTx(ctx, func(tx *database.Tx) error {
					_, err := tx.Exec(ctx, `INSERT INTO notes (id, body, created_at) VALUES (?, ?, ?)`, sprintf("w%03d", i), "w", time.Now())
					return err
				})
			}()
			go func() {
				defer wg.Done()
				var n int
				errs <- db.QueryRow(ctx, `SELECT count(*) FROM notes`).Scan(&n)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM notes`).Scan(&n); err != nil || n != 100 {
			t.Fatalf("count %d (%v), want 100", n, err)
		}
	})
}

func TestRebind(t *testing.T) {
	got := database.Rebind(`SELECT '?', "a?" FROM t WHERE a = ? AND b IN (?, ?)`)
	want := `SELECT '?', "a?" FROM t WHERE a = $1 AND b IN ($2, $3)`
	if got != want {
		t.Fatalf("Rebind:\n got %s\nwant %s", got, want)
	}
}

func TestPingAndStats(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		d, err := db.Ping(context.Background())
		if err != nil || d <= 0 {
			t.Fatalf("ping %v %v", d, err)
		}
		st := db.PoolStats()
		if len(st) == 0 || st[0].MaxOpen == 0 {
			t.Fatalf("stats %+v", st)
		}
	})
}
