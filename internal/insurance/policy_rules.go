package insurance

import (
	"fmt"
	"slices"
	"time"

	"mitra/internal/platform/apperr"
)

// Policy statuses.
const (
	StatusInForce     = "in_force"
	StatusLapsed      = "lapsed"
	StatusPaidUp      = "paid_up"
	StatusMatured     = "matured"
	StatusSurrendered = "surrendered"
	StatusClaimed     = "claimed"
)

// Premium modes (how often a premium is due).
const (
	ModeYearly     = "yearly"
	ModeHalfYearly = "half_yearly"
	ModeQuarterly  = "quarterly"
	ModeMonthly    = "monthly"
)

// modeMonths is the months between two premiums of a mode.
var modeMonths = map[string]int{ModeYearly: 12, ModeHalfYearly: 6, ModeQuarterly: 3, ModeMonthly: 1}

// Grace periods: 30 days after a premium falls due, 15 for monthly
// premiums (IRDAI's rule for life policies).
const (
	graceDays        = 30
	graceDaysMonthly = 15
	// revivalYears is how long after the first unpaid premium a lapsed
	// policy may be revived.
	revivalYears = 5
	// advanceMonths bounds premiums counted as paid ahead of their date.
	advanceMonths = 3
)

// transitions lists where each status may go; the conditions are in
// checkTransition. matured, surrendered and claimed are final.
var transitions = map[string][]string{
	StatusInForce: {StatusLapsed, StatusPaidUp, StatusMatured, StatusSurrendered, StatusClaimed},
	StatusLapsed:  {StatusInForce, StatusPaidUp, StatusSurrendered},
	StatusPaidUp:  {StatusMatured, StatusSurrendered, StatusClaimed},
}

// terms are a policy's contract terms, which its schedule follows from.
type terms struct {
	commencement time.Time
	mode         string
	term         int // years
	premiumTerm  int // years
}

// instalments is the number of premiums over the premium-paying term.
func (t terms) instalments() int { return t.premiumTerm * 12 / modeMonths[t.mode] }

// perYear is the number of premiums in a year.
func (t terms) perYear() int { return 12 / modeMonths[t.mode] }

// dueDate is the date premium k (0 at commencement) falls due.
func (t terms) dueDate(k int) time.Time { return addMonths(t.commencement, k*modeMonths[t.mode]) }

// maturity is the end of the policy term.
func (t terms) maturity() time.Time { return addYears(t.commencement, t.term) }

// graceEnd is the last day of grace for a premium due on due.
func (t terms) graceEnd(due time.Time) time.Time {
	if t.mode == ModeMonthly {
		return due.AddDate(0, 0, graceDaysMonthly)
	}
	return due.AddDate(0, 0, graceDays)
}

// schedule is what a policy's dates are, given how many premiums are paid
// and its status: the next premium due (the first unpaid) and its grace
// end while premiums are still owed on a policy in force or lapsed, zero
// otherwise.
type schedule struct {
	maturity, nextDue, graceEnd time.Time
}

func (t terms) schedule(paid int, status string) schedule {
	s := schedule{maturity: t.maturity()}
	if (status == StatusInForce || status == StatusLapsed) && paid < t.instalments() {
		s.nextDue = t.dueDate(paid)
		s.graceEnd = t.graceEnd(s.nextDue)
	}
	return s
}

// hasPaidUpValue reports whether paid premiums give a policy a paid-up and
// a surrender value: a full year's premiums.
func (t terms) hasPaidUpValue(paid int) bool { return paid >= t.perYear() }

// revivalDeadline is the last day a lapsed policy with schedule s may be
// revived: 5 years after its first unpaid premium fell due, and before
// its maturity date, whichever comes first. Zero when no premium is owed.
func (t terms) revivalDeadline(s schedule) time.Time {
	if s.nextDue.IsZero() {
		return time.Time{}
	}
	d, last := addYears(s.nextDue, revivalYears), s.maturity.AddDate(0, 0, -1)
	if last.Before(d) {
		return last
	}
	return d
}

// dueBy is how many premiums have fallen due on or before day (at most
// all of them).
func (t terms) dueBy(day time.Time) int {
	n := 0
	for n < t.instalments() && !t.dueDate(n).After(day) {
		n++
	}
	return n
}

// planRules is a plan's master data that policies are checked against.
// An empty list allows any value.
// ruleViolations gathers refusals of business rules; the problem carries
// the first one's code and every violation's field.
type ruleViolations []*apperr.Error

func (v *ruleViolations) add(code apperr.Code, field, format string, args ...any) {
	*v = append(*v, refusal(code, 422, field, fmt.Sprintf(format, args...)))
}

func (v ruleViolations) err() error {
	if len(v) == 0 {
		return nil
	}
	e := *v[0]
	e.Fields = nil
	for _, x := range v {
		e.Fields = append(e.Fields, x.Fields...)
	}
	if len(v) > 1 {
		e.Message = fmt.Sprintf("%s (and %d more)", e.Message, len(v)-1)
	}
	return &e
}

// checkPolicyRules applies the plan master and the law to a policy's terms
// for a life assured born on dob, as of today. Codes (422, each with its
// field): premium_term_exceeds_term, term_not_allowed,
// premium_term_not_allowed, mode_not_allowed, sum_assured_below_minimum,
// commencement_in_future, entry_age_out_of_range,
// premiums_paid_out_of_range, premiums_paid_ahead.
func checkPolicyRules(p Plan, t terms, sumAssured int64, paid int, dob, today time.Time) error {
	var v ruleViolations
	if t.premiumTerm > t.term {
		v.add("premium_term_exceeds_term", "body.premium_term", "the premium-paying term (%d years) cannot be longer than the policy term (%d years)", t.premiumTerm, t.term)
	}
	if len(p.Terms) > 0 && !slices.Contains(p.Terms, t.term) {
		v.add("term_not_allowed", "body.term", "plan %s allows terms of %v years, not %d", p.PlanNumber, p.Terms, t.term)
	}
	if len(p.PremiumTerms) > 0 && !slices.Contains(p.PremiumTerms, t.premiumTerm) {
		v.add("premium_term_not_allowed", "body.premium_term", "plan %s allows premium-paying terms of %v years, not %d", p.PlanNumber, p.PremiumTerms, t.premiumTerm)
	}
	if len(p.Modes) > 0 && !slices.Contains(p.Modes, t.mode) {
		v.add("mode_not_allowed", "body.premium_mode", "plan %s allows premium modes %v, not %s", p.PlanNumber, p.Modes, t.mode)
	}
	if sumAssured < p.MinSumAssured {
		v.add("sum_assured_below_minimum", "body.sum_assured", "plan %s needs a sum assured of at least %d paise", p.PlanNumber, p.MinSumAssured)
	}
	if t.commencement.After(today) {
		v.add("commencement_in_future", "body.commencement_date", "the commencement date cannot be after today (%s)", formatDate(today))
	} else if age := ageOn(dob, t.commencement); age < p.MinEntryAge || age > p.MaxEntryAge {
		v.add("entry_age_out_of_range", "body.customer_id", "the customer is %d at commencement; plan %s accepts entry ages %d to %d", age, p.PlanNumber, p.MinEntryAge, p.MaxEntryAge)
	}
	if total := t.instalments(); paid < 1 || paid > total {
		v.add("premiums_paid_out_of_range", "body.premiums_paid", "premiums paid must be between 1 and %d (the premiums of the premium-paying term)", total)
	} else if last := t.dueDate(paid - 1); last.After(addMonths(today, advanceMonths)) {
		v.add("premiums_paid_ahead", "body.premiums_paid", "premium %d falls due on %s: premiums are counted as paid at most %d months ahead", paid, formatDate(last), advanceMonths)
	}
	return v.err()
}

// checkTransition says whether a policy with status from, terms t and
// paid premiums may become status to on day today. Refusals (409, field
// body.status): invalid_transition (not an allowed move, or already
// there), grace_period_not_over, no_premium_due, revival_period_over,
// not_yet_matured, min_premiums_not_paid.
func checkTransition(from, to string, t terms, paid int, today time.Time) error {
	if from == to {
		return transitionRefusal("invalid_transition", "the policy is already %s", to)
	}
	if !slices.Contains(transitions[from], to) {
		if len(transitions[from]) == 0 {
			return transitionRefusal("invalid_transition", "a %s policy is closed: its status cannot change", from)
		}
		return transitionRefusal("invalid_transition", "a %s policy can become %v, not %s", from, transitions[from], to)
	}
	sch := t.schedule(paid, from)
	switch to {
	case StatusLapsed:
		if sch.nextDue.IsZero() {
			return transitionRefusal("no_premium_due", "every premium is paid: the policy cannot lapse")
		}
		if !today.After(sch.graceEnd) {
			return transitionRefusal("grace_period_not_over", "the premium due %s is in its grace period until %s", formatDate(sch.nextDue), formatDate(sch.graceEnd))
		}
	case StatusInForce: // revival of a lapsed policy
		if sch.nextDue.IsZero() {
			return transitionRefusal("no_premium_due", "no unpaid premium: nothing to revive")
		}
		if until := t.revivalDeadline(sch); today.After(until) {
			if !today.Before(sch.maturity) {
				return transitionRefusal("revival_period_over", "the policy term ended on %s: it can no longer be revived", formatDate(sch.maturity))
			}
			return transitionRefusal("revival_period_over", "revival was possible until %s, %d years after the first unpaid premium (%s)", formatDate(until), revivalYears, formatDate(sch.nextDue))
		}
	case StatusMatured:
		if today.Before(sch.maturity) {
			return transitionRefusal("not_yet_matured", "the policy matures on %s", formatDate(sch.maturity))
		}
	case StatusPaidUp, StatusSurrendered:
		if !t.hasPaidUpValue(paid) {
			return transitionRefusal("min_premiums_not_paid", "a policy acquires a paid-up or surrender value once a full year's premiums are paid (%d of %d)", paid, t.perYear())
		}
	}
	return nil
}

func transitionRefusal(code apperr.Code, format string, args ...any) error {
	return refusal(code, 409, "body.status", fmt.Sprintf(format, args...))
}
