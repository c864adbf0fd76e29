package insurance

import (
	"testing"

	"mitra/internal/platform/apperr"
)

func codeOf(err error) apperr.Code {
	if e, ok := apperr.As(err); ok {
		return e.Code
	}
	return ""
}

func TestPolicyRules(t *testing.T) {
	plan := Plan{PlanNumber: "914", Terms: []int{15, 20, 25}, PremiumTerms: []int{10, 15, 20}, MinEntryAge: 18, MaxEntryAge: 50, MinSumAssured: 100000_00, Modes: []string{ModeYearly, ModeHalfYearly}}
	today := day("2025-06-01")
	dob := day("1990-06-15") // 34 on 2025-06-01
	good := terms{commencement: day("2025-05-01"), mode: ModeYearly, term: 20, premiumTerm: 15}
	if err := checkPolicyRules(plan, good, 200000_00, 1, dob, today); err != nil {
		t.Fatalf("valid policy refused: %v", err)
	}
	for _, c := range []struct {
		name    string
		t       terms
		sa      int64
		paid    int
		dob     string
		code    apperr.Code
		field   string
		noField bool
	}{
		{"premium term longer than term", terms{good.commencement, ModeYearly, 15, 20}, 200000_00, 1, "", "premium_term_exceeds_term", "body.premium_term", false},
		{"term not in plan", terms{good.commencement, ModeYearly, 18, 15}, 200000_00, 1, "", "term_not_allowed", "body.term", false},
		{"premium term not in plan", terms{good.commencement, ModeYearly, 20, 12}, 200000_00, 1, "", "premium_term_not_allowed", "body.premium_term", false},
		{"mode not in plan", terms{good.commencement, ModeMonthly, 20, 15}, 200000_00, 1, "", "mode_not_allowed", "body.premium_mode", false},
		{"sum assured too low", good, 99999_99, 1, "", "sum_assured_below_minimum", "body.sum_assured", false},
		{"commencement in future", terms{day("2025-06-02"), ModeYearly, 20, 15}, 200000_00, 1, "", "commencement_in_future", "body.commencement_date", false},
		{"too young", good, 200000_00, 1, "2007-05-02", "entry_age_out_of_range", "body.customer_id", false},
		{"too old", good, 200000_00, 1, "1974-05-01", "entry_age_out_of_range", "body.customer_id", false},
		{"no premium paid", good, 200000_00, 0, "", "premiums_paid_out_of_range", "body.premiums_paid", false},
		{"more premiums than the term has", good, 200000_00, 16, "", "premiums_paid_out_of_range", "body.premiums_paid", false},
		{"premiums paid years ahead", good, 200000_00, 3, "", "premiums_paid_ahead", "body.premiums_paid", false},
	} {
		d := dob
		if c.dob != "" {
			d = day(c.dob)
		}
		err := checkPolicyRules(plan, c.t, c.sa, c.paid, d, today)
		e, ok := apperr.As(err)
		if !ok || e.Code != c.code || e.HTTPStatus() != 422 || fieldsOf(err)[c.field] == "" {
			t.Errorf("%s: %v %v", c.name, err, fieldsOf(err))
		}
	}
	// Entry ages at the bounds are accepted: 18 and 50 last birthday.
	for _, b := range []string{"2007-05-01", "1974-05-02"} {
		if err := checkPolicyRules(plan, good, 200000_00, 1, day(b), today); err != nil {
			t.Errorf("born %s: %v", b, err)
		}
	}
	// A policy entered years after issue with its premiums paid so far.
	old := terms{commencement: day("2019-05-01"), mode: ModeHalfYearly, term: 20, premiumTerm: 15}
	if err := checkPolicyRules(plan, old, 200000_00, 12, day("1980-01-01"), today); err != nil {
		t.Errorf("import: %v", err)
	}
	// Several rules broken: the first one's code, every field.
	err := checkPolicyRules(plan, terms{good.commencement, ModeMonthly, 15, 20}, 1, 1, dob, today)
	if codeOf(err) != "premium_term_exceeds_term" {
		t.Fatalf("first code: %v", err)
	}
	f := fieldsOf(err)
	for _, want := range []string{"body.premium_term", "body.premium_mode", "body.sum_assured"} {
		if f[want] == "" {
			t.Errorf("%s missing from %v", want, f)
		}
	}
	// An empty list in the plan master allows any value.
	open := Plan{PlanNumber: "X", MaxEntryAge: 99}
	if err := checkPolicyRules(open, terms{good.commencement, ModeMonthly, 7, 3}, 1, 1, dob, today); err != nil {
		t.Errorf("open plan: %v", err)
	}
}

func TestTransitions(t *testing.T) {
	// Yearly, 20 years paying 15, from 2015-03-10; 3 premiums paid: the
	// first unpaid was due 2018-03-10, grace to 2018-04-09.
	tm := terms{commencement: day("2015-03-10"), mode: ModeYearly, term: 20, premiumTerm: 15}
	for _, c := range []struct {
		from, to string
		paid     int
		today    string
		code     apperr.Code // "" for allowed
	}{
		{StatusInForce, StatusLapsed, 3, "2018-04-10", ""},
		{StatusInForce, StatusLapsed, 3, "2018-04-09", "grace_period_not_over"},
		{StatusInForce, StatusLapsed, 15, "2034-01-01", "no_premium_due"},
		{StatusInForce, StatusPaidUp, 3, "2018-04-10", ""},
		{StatusInForce, StatusPaidUp, 0, "2015-04-10", "min_premiums_not_paid"},
		{StatusInForce, StatusSurrendered, 3, "2018-01-01", ""},
		{StatusInForce, StatusClaimed, 1, "2015-04-01", ""},
		{StatusInForce, StatusMatured, 15, "2035-03-10", ""},
		{StatusInForce, StatusMatured, 15, "2035-03-09", "not_yet_matured"},
		{StatusInForce, StatusInForce, 3, "2018-01-01", "invalid_transition"},
		{StatusLapsed, StatusInForce, 3, "2023-03-10", ""}, // revival: 5 years after 2018-03-10
		{StatusLapsed, StatusInForce, 3, "2023-03-11", "revival_period_over"},
		{StatusLapsed, StatusPaidUp, 3, "2020-01-01", ""},
		{StatusLapsed, StatusSurrendered, 3, "2020-01-01", ""},
		{StatusLapsed, StatusMatured, 3, "2036-01-01", "invalid_transition"},
		{StatusLapsed, StatusClaimed, 3, "2020-01-01", "invalid_transition"},
		{StatusPaidUp, StatusMatured, 3, "2035-03-10", ""},
		{StatusPaidUp, StatusSurrendered, 3, "2020-01-01", ""},
		{StatusPaidUp, StatusClaimed, 3, "2020-01-01", ""},
		{StatusPaidUp, StatusInForce, 3, "2020-01-01", "invalid_transition"},
		{StatusPaidUp, StatusLapsed, 3, "2020-01-01", "invalid_transition"},
		{StatusMatured, StatusInForce, 15, "2036-01-01", "invalid_transition"},
		{StatusSurrendered, StatusInForce, 3, "2020-01-01", "invalid_transition"},
		{StatusClaimed, StatusPaidUp, 3, "2020-01-01", "invalid_transition"},
	} {
		err := checkTransition(c.from, c.to, tm, c.paid, day(c.today))
		if codeOf(err) != c.code {
			t.Errorf("%s → %s (paid %d, %s): %v, want %q", c.from, c.to, c.paid, c.today, err, c.code)
			continue
		}
		if err != nil {
			if e, _ := apperr.As(err); e.HTTPStatus() != 409 || fieldsOf(err)["body.status"] == "" || e.Message == "" {
				t.Errorf("%s → %s: refusal without 409, field or explanation: %+v", c.from, c.to, e)
			}
		}
	}
	// A lapsed policy past its maturity cannot be revived, even within 5
	// years of the first unpaid premium.
	short := terms{commencement: day("2015-03-10"), mode: ModeYearly, term: 5, premiumTerm: 5}
	if err := checkTransition(StatusLapsed, StatusInForce, short, 4, day("2020-06-01")); codeOf(err) != "revival_period_over" {
		t.Errorf("revival after maturity: %v", err)
	}
}

// The revival deadline shown is the last day the transition allows:
// 5 years after the first unpaid premium, but never on or after maturity.
func TestRevivalDeadline(t *testing.T) {
	for _, c := range []struct {
		name     string
		t        terms
		paid     int
		deadline string
	}{
		// First unpaid 2018-03-10, maturity 2035: five years.
		{"far from maturity", terms{commencement: day("2015-03-10"), mode: ModeYearly, term: 20, premiumTerm: 15}, 3, "2023-03-10"},
		// First unpaid 2019-03-10 (+5 years: 2024), maturity 2020-03-10.
		{"maturity first", terms{commencement: day("2015-03-10"), mode: ModeYearly, term: 5, premiumTerm: 5}, 4, "2020-03-09"},
		// Monthly from 31 January, 5 of 60 paid: first unpaid 30 June 2020.
		{"month end", terms{commencement: day("2020-01-31"), mode: ModeMonthly, term: 10, premiumTerm: 5}, 5, "2025-06-30"},
	} {
		p := &policyRow{Policy: Policy{PremiumsPaid: c.paid, Status: StatusLapsed}, terms: c.t}
		p.derive()
		if p.RevivalDeadline == nil || *p.RevivalDeadline != c.deadline {
			t.Errorf("%s: revival deadline %v, want %s", c.name, orEmpty(p.RevivalDeadline), c.deadline)
			continue
		}
		last := day(c.deadline)
		if err := checkTransition(StatusLapsed, StatusInForce, c.t, c.paid, last); err != nil {
			t.Errorf("%s: revival refused on its deadline: %v", c.name, err)
		}
		if err := checkTransition(StatusLapsed, StatusInForce, c.t, c.paid, last.AddDate(0, 0, 1)); codeOf(err) != "revival_period_over" {
			t.Errorf("%s: revival the day after its deadline: %v", c.name, err)
		}
	}
	// Only lapsed policies have one.
	p := &policyRow{Policy: Policy{PremiumsPaid: 3, Status: StatusInForce}, terms: terms{commencement: day("2015-03-10"), mode: ModeYearly, term: 20, premiumTerm: 15}}
	if p.derive(); p.RevivalDeadline != nil {
		t.Errorf("in force: %v", *p.RevivalDeadline)
	}
}
