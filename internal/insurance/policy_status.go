package insurance

import (
	"context"
	"fmt"
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
// not_found, forbidden (provider admins), and the 409 refusals of
// checkTransition.
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

// errStatusChanged reports a policy changed by someone else meanwhile.
var errStatusChanged = apperr.New(apperr.Conflict, "the policy changed meanwhile; read it again")

// transition checks and applies a move of policy cur to status to, in tx,
// with its audit record. via says who moved it ("api", "daily_job").
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
	res, err := tx.Exec(ctx, `UPDATE policies SET status = ?, status_reason = ?, status_changed_at = ?, premiums_paid = ?, next_due_date = ?, grace_end_date = ?, updated_at = ?
		WHERE id = ? AND status = ? AND premiums_paid = ?`,
		to, reason, now, paid, dateColumn(after.nextDue), dateColumn(after.graceEnd), now, cur.ID, cur.Status, cur.PremiumsPaid)
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
// no caller scope (the caller has). Audited. Errors: not_found,
// policy_not_in_force (409: a lapsed policy is revived first),
// no_premium_due (409: every premium is paid).
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
	now := s.Now()
	res, err := tx.Exec(ctx, `UPDATE policies SET premiums_paid = ?, next_due_date = ?, grace_end_date = ?, updated_at = ? WHERE id = ? AND premiums_paid = ? AND status = ?`,
		paid, dateColumn(after.nextDue), dateColumn(after.graceEnd), now, cur.ID, cur.PremiumsPaid, cur.Status)
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
	Matured int `json:"matured"`
}

// SweepPolicyStatuses is the daily job's work, as of today in India:
// policies in force whose grace period ended before today lapse; policies
// in force or paid-up whose maturity date has come mature. It works in
// keyset batches (one transaction each) on the (status, grace_end_date)
// and (status, maturity_date) indexes; every change is audited with the
// system as actor. Running it again the same day changes nothing.
func (s *Service) SweepPolicyStatuses(ctx context.Context) (SweepResult, error) {
	var r SweepResult
	now := s.Now()
	today := todayIn(now)
	for _, step := range []struct {
		from, to, col, op string
		count             *int
	}{
		{StatusInForce, StatusLapsed, "grace_end_date", "<", &r.Lapsed},
		{StatusInForce, StatusMatured, "maturity_date", "<=", &r.Matured},
		{StatusPaidUp, StatusMatured, "maturity_date", "<=", &r.Matured},
	} {
		afterKey, afterID := "", ""
		for {
			var moved, seen int
			err := s.DB.InTx(ctx, func(tx *database.Tx) error {
				rows, err := tx.Query(ctx, `SELECT `+policyColumns+`, p.`+step.col+policyFrom+` WHERE p.status = ? AND p.`+step.col+` `+step.op+` ? AND (p.`+step.col+`, p.id) > (?, ?)
					ORDER BY p.`+step.col+`, p.id LIMIT `+fmt.Sprint(sweepBatch), step.from, formatDate(today), afterKey, afterID)
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
				for _, p := range batch {
					reason := "grace period ended " + orEmpty(p.GracePeriodEnd) + " without payment"
					if step.to == StatusMatured {
						reason = "matured " + p.MaturityDate
					}
					err := s.transition(ctx, tx, p, step.to, reason, today, now, "daily_job")
					if e, ok := apperr.As(err); ok && e.HTTPStatus() == 409 {
						// Stored dates that no longer follow from the terms (or
						// a concurrent change): leave the policy as it is.
						logging.FromContext(ctx).Warn("policy status job skipped a policy", "policy_id", p.ID, "to", step.to, "reason", e.Message)
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

// Work runs the sweep.
func (w *PolicyStatusWorker) Work(ctx context.Context, _ *river.Job[PolicyStatusArgs]) error {
	r, err := w.Service.SweepPolicyStatuses(ctx)
	if err != nil {
		return err
	}
	logging.FromContext(ctx).Info("policy statuses swept", "lapsed", r.Lapsed, "matured", r.Matured)
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
