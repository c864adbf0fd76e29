package insurance

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/logging"
)

// StatusInput moves a policy to another status.
type StatusInput struct {
	Status string `json:"status" enum:"in_force,lapsed,paid_up,matured,surrendered,claimed" doc:"in_force on a lapsed policy is its revival"`
	Reason string `json:"reason,omitempty" maxLength:"500"`
}

// UpdatePolicyStatus moves a policy along an allowed transition, as of
// today in India: lapse after the grace period, revival within 5 years of
// the first unpaid premium (the arrears up to today are recorded as paid),
// maturity on or after the maturity date, paid-up and surrender once a
// year's premiums are paid, claim. Audited with before and after. Errors:
// policy_not_found, forbidden (provider admins), policy_changed (409) and
// the 409 refusals of checkTransition.
func (s *Service) UpdatePolicyStatus(ctx context.Context, id string, in StatusInput) (*Policy, error) {
	sc, err := s.scope(ctx)
	if err != nil {
		return nil, err
	}
	if !statusNames[in.Status] {
		return nil, apperr.Field("body.status", "must be in_force, lapsed, paid_up, matured, surrendered or claimed")
	}
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		cur, err := s.policy(ctx, tx, sc, id, true)
		if err != nil {
			return err
		}
		if !sc.mayWrite() {
			return errBookReadOnly
		}
		now := s.Now()
		return s.transition(ctx, tx, cur, in.Status, in.Reason, todayIn(now), now, "api")
	})
	if err != nil {
		return nil, err
	}
	return s.Policy(ctx, id)
}

// errStatusChanged reports a policy written by someone else since it was
// read: every write of a policy is guarded by the updated_at it read.
var errStatusChanged = &apperr.Error{Code: "policy_changed", Status: 409, Message: "the policy changed meanwhile; read it again"}

// transition checks and applies a move of policy cur to status to, in tx,
// with its audit record. via says who moved it ("api", "daily_job"). The
// write is guarded by cur's updated_at: if the policy was written since it
// was read (its terms corrected, a premium recorded, another move), its
// dates would follow from stale terms, so nothing is written and the
// error is policy_changed.
func (s *Service) transition(ctx context.Context, tx *database.Tx, cur *policyRow, to, reason string, today, now time.Time, via string) error {
	if err := checkTransition(cur.Status, to, cur.terms, cur.PremiumsPaid, today); err != nil {
		return err
	}
	paid := cur.PremiumsPaid
	if cur.Status == StatusLapsed && to == StatusInForce {
		paid = max(paid, cur.terms.dueBy(today)) // revival pays the arrears
	}
	before := cur.terms.schedule(cur.PremiumsPaid, cur.Status)
	after := cur.terms.schedule(paid, to)
	at := touch(now, cur.UpdatedAt)
	res, err := tx.Exec(ctx, `UPDATE policies SET status = ?, status_reason = ?, status_changed_at = ?, premiums_paid = ?, next_due_date = ?, grace_end_date = ?, updated_at = ?
		WHERE id = ? AND updated_at = ?`,
		to, reason, at, paid, dateColumn(after.nextDue), dateColumn(after.graceEnd), at, cur.ID, cur.UpdatedAt)
	if err != nil {
		return err
	}
	if res.RowsAffected() == 0 {
		return errStatusChanged
	}
	e := audit.Entry{Action: "policy.status_changed", TargetType: "policy", TargetID: cur.ID,
		Before: map[string]any{"status": cur.Status, "premiums_paid": cur.PremiumsPaid, "next_due_date": formatDate(before.nextDue)},
		After:  map[string]any{"status": to, "premiums_paid": paid, "next_due_date": formatDate(after.nextDue), "reason": reason, "via": via}}
	if via == "daily_job" {
		e.ActorRole = "system"
	}
	return audit.Record(ctx, tx, e)
}

// RecordPremium counts one more premium of policy policyID as paid, inside
// the caller's transaction tx, moving its next due date and grace end. The
// payments feature calls it when a premium payment is captured; it checks
// no caller scope (the caller has). Audited. Errors: policy_not_found,
// policy_not_in_force (409: a lapsed policy is revived first),
// no_premium_due (409: every premium is paid), policy_changed (409).
func (s *Service) RecordPremium(ctx context.Context, tx *database.Tx, policyID string) error {
	cur, err := s.policy(ctx, tx, Scope{All: true}, policyID, true)
	if err != nil {
		return err
	}
	if cur.Status != StatusInForce {
		return &apperr.Error{Code: "policy_not_in_force", Status: 409, Message: fmt.Sprintf("the policy is %s: premiums are paid on policies in force", cur.Status)}
	}
	if cur.PremiumsPaid >= cur.terms.instalments() {
		return &apperr.Error{Code: "no_premium_due", Status: 409, Message: "every premium of this policy is paid"}
	}
	paid := cur.PremiumsPaid + 1
	before, after := cur.terms.schedule(cur.PremiumsPaid, cur.Status), cur.terms.schedule(paid, cur.Status)
	res, err := tx.Exec(ctx, `UPDATE policies SET premiums_paid = ?, next_due_date = ?, grace_end_date = ?, updated_at = ? WHERE id = ? AND updated_at = ?`,
		paid, dateColumn(after.nextDue), dateColumn(after.graceEnd), touch(s.Now(), cur.UpdatedAt), cur.ID, cur.UpdatedAt)
	if err != nil {
		return err
	}
	if res.RowsAffected() == 0 {
		return errStatusChanged
	}
	return audit.Record(ctx, tx, audit.Entry{Action: "policy.premium_recorded", TargetType: "policy", TargetID: cur.ID,
		Before: map[string]any{"premiums_paid": cur.PremiumsPaid, "next_due_date": formatDate(before.nextDue)},
		After:  map[string]any{"premiums_paid": paid, "next_due_date": formatDate(after.nextDue)}})
}

// sweepBatch is how many policies one transaction of the daily job moves.
const sweepBatch = 500

// SweepResult counts what a sweep changed.
type SweepResult struct {
	Lapsed  int `json:"lapsed"`
	PaidUp  int `json:"paid_up"`
	Matured int `json:"matured"`
}

// sweepStep is one move of the daily job: policies of status from whose
// date column col compares (op) with cutoff, and that match cond, become
// status to. The job walks them in keyset order on (status, col, id),
// which an index covers.
type sweepStep struct {
	from, to        string
	col, op, cutoff string
	cond            string // more SQL conditions, or ""
	// eligible is the exact condition, checked on each row read (the SQL
	// may select a few more); nil for all.
	eligible func(p *policyRow, today time.Time) bool
	reason   func(p *policyRow) string
	count    *int
}

// paidUpValueSQL is true of policies p whose paid premiums give them a
// paid-up value: a year's premiums (terms.hasPaidUpValue).
var paidUpValueSQL = func() string {
	var b strings.Builder
	b.WriteString("p.premiums_paid >= CASE p.premium_mode")
	for _, m := range []string{ModeYearly, ModeHalfYearly, ModeQuarterly, ModeMonthly} {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", m, 12/modeMonths[m])
	}
	b.WriteString(" END")
	return b.String()
}()

// sweepSteps are the daily job's moves as of today, in order (a policy may
// take several in one run: lapsed, then paid-up, then matured):
//
//  1. in force, grace period over → lapsed;
//  2. in force, maturity date come → matured;
//  3. lapsed with a paid-up value (a year's premiums), revival no longer
//     possible (maturity come, or 5 years since the first unpaid premium)
//     → paid-up: the policy is not void, it continues for its reduced sum
//     assured (Insurance Act 1938, s. 113; IRDAI 2024 product rules);
//  4. paid-up, maturity date come → matured.
//
// A lapsed policy without a paid-up value stays lapsed once revival is no
// longer possible: it ended without value (its revival_deadline is past).
func sweepSteps(r *SweepResult, today time.Time) []sweepStep {
	d := formatDate(today)
	revivalOver := func(p *policyRow, today time.Time) bool {
		return today.After(p.terms.revivalDeadline(p.terms.schedule(p.PremiumsPaid, p.Status)))
	}
	lapsed := func(p *policyRow) string {
		return "grace period ended " + orEmpty(p.GracePeriodEnd) + " without payment"
	}
	matured := func(p *policyRow) string { return "matured " + p.MaturityDate }
	paidUp := func(p *policyRow) string {
		return fmt.Sprintf("revival no longer possible (until %s): paid-up for %d of %d premiums", orEmpty(p.RevivalDeadline), p.PremiumsPaid, p.PremiumsTotal)
	}
	return []sweepStep{
		{from: StatusInForce, to: StatusLapsed, col: "grace_end_date", op: "<", cutoff: d, count: &r.Lapsed, reason: lapsed},
		{from: StatusInForce, to: StatusMatured, col: "maturity_date", op: "<=", cutoff: d, count: &r.Matured, reason: matured},
		{from: StatusLapsed, to: StatusPaidUp, col: "maturity_date", op: "<=", cutoff: d, cond: paidUpValueSQL, count: &r.PaidUp, reason: paidUp},
		// The first unpaid premium fell due 5 years ago or more (a day's
		// margin for month ends; eligible decides).
		{from: StatusLapsed, to: StatusPaidUp, col: "next_due_date", op: "<=", cutoff: formatDate(addYears(today, -revivalYears)), cond: paidUpValueSQL,
			eligible: revivalOver, count: &r.PaidUp, reason: paidUp},
		{from: StatusPaidUp, to: StatusMatured, col: "maturity_date", op: "<=", cutoff: d, count: &r.Matured, reason: matured},
	}
}

// sweepQuery is the statement reading the next batch of step st after the
// keyset (afterKey, afterID). On PostgreSQL it locks the rows it returns
// and skips rows another transaction holds (a correction or a payment
// being written): they are left for the next run rather than moved on
// what was read before that write.
func sweepQuery(st sweepStep, dialect database.Dialect, afterKey, afterID string) (string, []any) {
	q := `SELECT ` + policyColumns + `, p.` + st.col + policyFrom + ` WHERE p.status = ? AND p.` + st.col + ` ` + st.op + ` ?`
	if st.cond != "" {
		q += ` AND ` + st.cond
	}
	q += ` AND (p.` + st.col + `, p.id) > (?, ?) ORDER BY p.` + st.col + `, p.id LIMIT ` + fmt.Sprint(sweepBatch)
	if dialect == database.Postgres {
		q += ` FOR UPDATE OF p SKIP LOCKED`
	}
	return q, []any{st.from, st.cutoff, afterKey, afterID}
}

// sweepHook, when set (tests), runs after each batch is read, inside its
// transaction.
var sweepHook func()

// SweepPolicyStatuses is the daily job's work, as of today in India: the
// moves of sweepSteps. It works in keyset batches (one transaction each)
// on the (status, column, id) indexes; every change goes through the
// transition code with its guard and is audited with the system as actor.
// Running it again the same day changes nothing.
func (s *Service) SweepPolicyStatuses(ctx context.Context) (SweepResult, error) {
	var r SweepResult
	now := s.Now()
	today := todayIn(now)
	for _, step := range sweepSteps(&r, today) {
		afterKey, afterID := "", ""
		for {
			var moved, seen int
			err := s.DB.InTx(ctx, func(tx *database.Tx) error {
				query, args := sweepQuery(step, tx.Dialect(), afterKey, afterID)
				rows, err := tx.Query(ctx, query, args...)
				if err != nil {
					return err
				}
				var batch []*policyRow
				for rows.Next() {
					p, err := scanPolicy(rows, &afterKey)
					if err != nil {
						rows.Close()
						return err
					}
					batch, afterID = append(batch, p), p.ID
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return err
				}
				seen = len(batch)
				if sweepHook != nil {
					sweepHook()
				}
				for _, p := range batch {
					if step.eligible != nil && !step.eligible(p, today) {
						continue
					}
					err := s.transition(ctx, tx, p, step.to, step.reason(p), today, now, "daily_job")
					if e, ok := apperr.As(err); ok && e.HTTPStatus() == 409 {
						// Stored dates that no longer follow from the terms (or
						// a concurrent change): leave the policy as it is.
						logging.FromContext(ctx).Warn("policy status job skipped a policy", "policy_id", p.ID, "to", step.to, "code", e.Code, "reason", e.Message)
						continue
					}
					if err != nil {
						return err
					}
					moved++
				}
				return nil
			})
			if err != nil {
				return r, fmt.Errorf("insurance: policy status sweep: %w", err)
			}
			*step.count += moved
			if seen < sweepBatch {
				break
			}
		}
	}
	return r, nil
}

func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// PolicyStatusArgs is the daily run of SweepPolicyStatuses.
type PolicyStatusArgs struct{}

// Kind names the job.
func (PolicyStatusArgs) Kind() string { return "insurance_policy_status" }

// PolicyStatusWorker lapses and matures policies (SweepPolicyStatuses).
type PolicyStatusWorker struct {
	river.WorkerDefaults[PolicyStatusArgs]
	Service *Service
}

// policyStatusTimeout bounds one run of the sweep. River's default (a
// minute) would cancel the first run after a large import mid-way; each
// batch commits on its own, so a run cut short still keeps its work and
// the next one carries on.
const policyStatusTimeout = 30 * time.Minute

// Timeout overrides River's default job timeout.
func (w *PolicyStatusWorker) Timeout(*river.Job[PolicyStatusArgs]) time.Duration {
	return policyStatusTimeout
}

// Work runs the sweep.
func (w *PolicyStatusWorker) Work(ctx context.Context, _ *river.Job[PolicyStatusArgs]) error {
	r, err := w.Service.SweepPolicyStatuses(ctx)
	if err != nil {
		return err
	}
	logging.FromContext(ctx).Info("policy statuses swept", "lapsed", r.Lapsed, "paid_up", r.PaidUp, "matured", r.Matured)
	return nil
}

// RegisterJobs adds the Agent product's workers and returns its periodic
// jobs: the policy status sweep, daily at 00:30 in India and once when a
// node becomes the job leader (it is idempotent, so a restart catches up).
func (s *Service) RegisterJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &PolicyStatusWorker{Service: s})
	return []*river.PeriodicJob{
		river.NewPeriodicJob(dailyAt{hour: 0, minute: 30, loc: ist}, func() (river.JobArgs, *river.InsertOpts) {
			return PolicyStatusArgs{}, nil
		}, &river.PeriodicJobOpts{ID: "insurance_policy_status", RunOnStart: true}),
	}
}

// dailyAt is a schedule firing once a day at a wall-clock time.
type dailyAt struct {
	hour, minute int
	loc          *time.Location
}

// Next returns the first time after t at the schedule's time of day.
func (d dailyAt) Next(t time.Time) time.Time {
	l := t.In(d.loc)
	n := time.Date(l.Year(), l.Month(), l.Day(), d.hour, d.minute, 0, 0, d.loc)
	if !n.After(t) {
		n = n.AddDate(0, 0, 1)
	}
	return n
}
