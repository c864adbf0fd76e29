package insurance

import (
	"context"
	"sync"
	"testing"
	"time"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
	"mitra/internal/platform/ids"
	"mitra/internal/platform/logging"
)

// testClock is a time the test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// bookFixture is the service on a real database with one provider and plan,
// an approved agent with one customer, and an administrator.
type bookFixture struct {
	svc                      *Service
	db                       *database.DB
	clock                    *testClock
	agent, admin             context.Context
	provider, plan, customer string
	today                    time.Time
}

func newBookFixture(t *testing.T, db *database.DB) *bookFixture {
	t.Helper()
	ctx := context.Background()
	f := &bookFixture{db: db, clock: &testClock{t: time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)}, provider: ids.New(), plan: ids.New()}
	now := f.clock.now()
	f.today = todayIn(now)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	user := func(role access.Role) (context.Context, string) {
		id := ids.New()
		exec(`INSERT INTO users (id, name, role, status, created_at, updated_at) VALUES (?, ?, ?, 'active', ?, ?)`, id, "U "+string(role), string(role), now, now)
		return access.WithPrincipal(logging.WithLogger(ctx, logging.Discard()), access.Principal{UserID: id, Role: role}), id
	}
	var agentID string
	f.agent, agentID = user(access.Agent)
	f.admin, _ = user(access.Admin)
	exec(`INSERT INTO providers (id, code, name, created_at, updated_at) VALUES (?, 'LIC', 'LIC of India', ?, ?)`, f.provider, now, now)
	exec(`INSERT INTO provider_plans (id, provider_id, plan_number, name, plan_type, terms, premium_terms, min_entry_age, max_entry_age, min_sum_assured, modes, created_at, updated_at)
		VALUES (?, ?, '914', 'New Endowment', 'endowment', '[]', '[]', 0, 99, 1, '[]', ?, ?)`, f.plan, f.provider, now, now)
	exec(`INSERT INTO agents (user_id, provider_id, licence_number, licence_expiry, status, created_at, updated_at) VALUES (?, ?, 'LIC/1', '2030-12-31', 'approved', ?, ?)`,
		agentID, f.provider, now, now)
	f.svc = NewService(db, nil, nil, f.clock.now)
	c, err := f.svc.CreateCustomer(f.agent, CustomerInput{Name: "Asha", DateOfBirth: "1985-04-02"})
	if err != nil {
		t.Fatal(err)
	}
	f.customer = c.ID
	return f
}

// input is a yearly policy of 20 years paying 15, commencing on start with
// paid premiums.
func (f *bookFixture) input(number string, start time.Time, paid int) PolicyInput {
	return PolicyInput{PolicyNumber: number, ProviderID: f.provider, PlanID: f.plan, CustomerID: f.customer, SumAssured: 500000_00, Premium: 25000_00,
		PremiumMode: ModeYearly, Term: 20, PremiumTerm: 15, CommencementDate: formatDate(start), PremiumsPaid: paid}
}

func (f *bookFixture) create(t *testing.T, in PolicyInput) *Policy {
	t.Helper()
	p, err := f.svc.CreatePolicy(f.agent, in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// stored returns a policy as stored, and fails the test when its stored
// dates do not follow from its stored terms, premiums and status.
func (f *bookFixture) stored(t *testing.T, id string) *policyRow {
	t.Helper()
	ctx := context.Background()
	p, err := f.svc.policy(ctx, f.db, Scope{All: true}, id, false)
	if err != nil {
		t.Fatal(err)
	}
	var due, grace, maturity string
	if err := f.db.QueryRow(ctx, `SELECT next_due_date, grace_end_date, maturity_date FROM policies WHERE id = ?`, id).Scan(&due, &grace, &maturity); err != nil {
		t.Fatal(err)
	}
	sch := p.terms.schedule(p.PremiumsPaid, p.Status)
	if due != dateColumn(sch.nextDue) || grace != dateColumn(sch.graceEnd) || maturity != dateColumn(sch.maturity) {
		t.Fatalf("policy %s (%s, from %s, %d paid): stored dates %s %s %s, its terms give %s %s %s", id, p.Status, p.CommencementDate, p.PremiumsPaid,
			due, grace, maturity, dateColumn(sch.nextDue), dateColumn(sch.graceEnd), dateColumn(sch.maturity))
	}
	return p
}

// The daily job reads a batch, a correction of one of its policies commits
// before the job writes: the job must not write dates computed from the
// terms it read (PostgreSQL: it locks what it reads; every dialect: the
// write is guarded by updated_at).
func TestSweepRacingACorrection(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		f := newBookFixture(t, db)
		ctx := logging.WithLogger(context.Background(), logging.Discard())
		// Two years ago, one premium paid: its grace ended eleven months ago.
		p := f.create(t, f.input("R-1", addYears(f.today, -2), 1))
		// The correction: it commenced ten days ago, nothing is overdue.
		corrected := f.input("R-1", f.today.AddDate(0, 0, -10), 0)
		f.clock.add(time.Minute)

		done := make(chan error, 1)
		sweepHook = func() {
			sweepHook = nil
			go func() {
				_, err := f.svc.UpdatePolicy(f.agent, p.ID, corrected)
				done <- err
			}()
			// Give the correction time to commit, unless the job's locks
			// hold it back (then it goes after the job).
			select {
			case err := <-done:
				done <- err
			case <-time.After(300 * time.Millisecond):
			}
		}
		t.Cleanup(func() { sweepHook = nil })
		if _, err := f.svc.SweepPolicyStatuses(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("correction: %v", err)
		}
		got := f.stored(t, p.ID)
		if got.CommencementDate != corrected.CommencementDate {
			t.Fatalf("the correction was lost: %+v", got.Policy)
		}
	})
}

// A transition based on a read older than the policy's last write changes
// nothing: policy_changed (409), even when the clock has not moved.
func TestTransitionGuard(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		f := newBookFixture(t, db)
		ctx := logging.WithLogger(context.Background(), logging.Discard())
		p := f.create(t, f.input("G-1", addYears(f.today, -2), 1))
		stale := f.stored(t, p.ID)
		if _, err := f.svc.UpdatePolicy(f.agent, p.ID, f.input("G-1", f.today.AddDate(0, 0, -10), 0)); err != nil {
			t.Fatal(err)
		}
		now := f.clock.now()
		for what, write := range map[string]func(tx *database.Tx) error{
			"transition": func(tx *database.Tx) error {
				return f.svc.transition(ctx, tx, stale, StatusLapsed, "stale", f.today, now, "daily_job")
			},
		} {
			err := db.InTx(ctx, write)
			if e, ok := apperr.As(err); !ok || e.Code != "policy_changed" || e.HTTPStatus() != 409 {
				t.Fatalf("%s on a stale read: %v", what, err)
			}
		}
		if got := f.stored(t, p.ID); got.Status != StatusInForce || got.CommencementDate != formatDate(f.today.AddDate(0, 0, -10)) {
			t.Fatalf("after the refused write: %+v", got.Policy)
		}
		// A premium recorded, then a correction from the read before it.
		fresh := f.stored(t, p.ID)
		if err := db.InTx(ctx, func(tx *database.Tx) error { return f.svc.RecordPremium(ctx, tx, p.ID) }); err != nil {
			t.Fatal(err)
		}
		err := db.InTx(ctx, func(tx *database.Tx) error {
			return f.svc.transition(ctx, tx, fresh, StatusSurrendered, "stale", f.today, now, "api")
		})
		if codeOf(err) != "policy_changed" {
			t.Fatalf("transition after a premium: %v", err)
		}
		if got := f.stored(t, p.ID); got.PremiumsPaid != 2 || got.Status != StatusInForce {
			t.Fatalf("after a premium: %+v", got.Policy)
		}
	})
}

// On PostgreSQL the job skips a policy another transaction holds instead of
// waiting for it, and leaves it for the next run.
func TestSweepSkipsLockedPolicies(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		if db.Dialect() != database.Postgres {
			t.Skip("SQLite has no row locks: a transaction takes the one writer at BEGIN")
		}
		f := newBookFixture(t, db)
		ctx := logging.WithLogger(context.Background(), logging.Discard())
		held := f.create(t, f.input("L-1", addYears(f.today, -2), 1))
		free := f.create(t, f.input("L-2", addYears(f.today, -2), 1))
		locked, release, finished := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			finished <- db.InTx(ctx, func(tx *database.Tx) error {
				if _, err := f.svc.policy(ctx, tx, Scope{All: true}, held.ID, true); err != nil {
					return err
				}
				close(locked)
				<-release
				return nil
			})
		}()
		<-locked
		// Waiting for the lock would never end (the holder waits for the
		// sweep): a deadline turns that into a failure.
		deadline, cancel := context.WithTimeout(ctx, 10*time.Second)
		r, err := f.svc.SweepPolicyStatuses(deadline)
		cancel()
		close(release)
		if err != nil || r.Lapsed != 1 || f.stored(t, free.ID).Status != StatusLapsed || f.stored(t, held.ID).Status != StatusInForce {
			t.Fatalf("with one policy held: %+v %v", r, err)
		}
		if err := <-finished; err != nil {
			t.Fatal(err)
		}
		if r, err := f.svc.SweepPolicyStatuses(ctx); err != nil || r.Lapsed != 1 || f.stored(t, held.ID).Status != StatusLapsed {
			t.Fatalf("next run: %+v %v", r, err)
		}
	})
}

// The premium schedule is the agent's to correct on the day they enter
// the policy; afterwards only administrators change it.
func TestScheduleCorrections(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		f := newBookFixture(t, db)
		start := addYears(f.today, -3)
		p := f.create(t, f.input("C-1", start, 2))
		// The same day: the agent fixes the count they entered.
		if got, err := f.svc.UpdatePolicy(f.agent, p.ID, f.input("C-1", start, 3)); err != nil || got.PremiumsPaid != 3 {
			t.Fatalf("same-day correction: %v", err)
		}
		f.clock.add(25 * time.Hour)
		for what, in := range map[string]PolicyInput{
			"premiums paid": f.input("C-1", start, 4),
			"commencement":  f.input("C-1", start.AddDate(0, 1, 0), 0),
			"mode":          func() PolicyInput { in := f.input("C-1", start, 0); in.PremiumMode = ModeMonthly; return in }(),
			"term":          func() PolicyInput { in := f.input("C-1", start, 0); in.Term = 25; return in }(),
		} {
			_, err := f.svc.UpdatePolicy(f.agent, p.ID, in)
			if e, ok := apperr.As(err); !ok || e.Code != "policy_schedule_locked" || e.HTTPStatus() != 409 || len(e.Fields) != 1 {
				t.Errorf("agent changes the %s a day later: %v", what, err)
			}
		}
		// The same count, or none, and other fields: fine.
		in := f.input("C-1", start, 3)
		in.SumAssured = 600000_00
		if got, err := f.svc.UpdatePolicy(f.agent, p.ID, in); err != nil || got.SumAssured != 600000_00 {
			t.Fatalf("unchanged schedule: %v", err)
		}
		if got, err := f.svc.UpdatePolicy(f.agent, p.ID, f.input("C-1", start, 0)); err != nil || got.PremiumsPaid != 3 {
			t.Fatalf("absent count: %v", err)
		}
		// Administrators may.
		if got, err := f.svc.UpdatePolicy(f.admin, p.ID, f.input("C-1", start, 2)); err != nil || got.PremiumsPaid != 2 {
			t.Fatalf("administrator: %v", err)
		}
	})
}

func TestPolicyStatusTimeout(t *testing.T) {
	if d := (&PolicyStatusWorker{}).Timeout(nil); d != 30*time.Minute {
		t.Fatalf("timeout %v, want River's default minute overridden with 30 minutes", d)
	}
}
