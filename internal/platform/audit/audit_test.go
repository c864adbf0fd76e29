package audit_test

import (
	"context"
	"testing"
	"time"

	"mitra/internal/platform/access"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
)

func TestRecordListAndAppendOnly(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		ctx := access.WithPrincipal(context.Background(), access.Principal{UserID: "admin-1", Role: access.Admin})
		for i, action := range []string{"auth.login", "auth.login_failed", "user.role_changed", "flag.updated", "auth.logout"} {
			err := db.InTx(ctx, func(tx *database.Tx) error {
				return audit.Record(ctx, tx, audit.Entry{Action: action, TargetType: "user", TargetID: "u" + string(rune('0'+i%2)),
					Before: map[string]string{"role": "member"}, After: map[string]string{"role": "agent"}})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		all, next, err := audit.List(ctx, db, audit.Filter{Limit: 2})
		if err != nil || len(all) != 2 || next == "" || all[0].Action != "auth.logout" {
			t.Fatalf("page 1: %v %q %v", all, next, err)
		}
		if *all[0].ActorID != "admin-1" || string(all[0].After) != `{"role":"agent"}` {
			t.Fatalf("entry %+v", all[0])
		}
		seen := len(all)
		for next != "" {
			var p []audit.Stored
			p, next, err = audit.List(ctx, db, audit.Filter{Limit: 2, Cursor: next})
			if err != nil {
				t.Fatal(err)
			}
			seen += len(p)
		}
		if seen != 5 {
			t.Fatalf("paged through %d entries, want 5", seen)
		}
		auth, _, _ := audit.List(ctx, db, audit.Filter{Action: "auth."})
		if len(auth) != 3 {
			t.Fatalf("prefix filter: %d", len(auth))
		}
		byTarget, _, _ := audit.List(ctx, db, audit.Filter{TargetID: "u1"})
		if len(byTarget) != 2 {
			t.Fatalf("target filter: %d", len(byTarget))
		}
		future, _, _ := audit.List(ctx, db, audit.Filter{From: time.Now().Add(time.Hour)})
		if len(future) != 0 {
			t.Fatalf("time filter: %d", len(future))
		}
		if _, _, err := audit.List(ctx, db, audit.Filter{Cursor: "!!"}); err == nil {
			t.Fatal("malformed cursor accepted")
		}
		// The database itself refuses to change or delete entries.
		if _, err := db.Exec(ctx, `UPDATE audit_log SET action = 'x'`); err == nil {
			t.Fatal("audit entry updated")
		}
		if _, err := db.Exec(ctx, `DELETE FROM audit_log`); err == nil {
			t.Fatal("audit entry deleted")
		}
	})
}
