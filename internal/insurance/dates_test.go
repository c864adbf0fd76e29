package insurance

import (
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestAddMonthsKeepsTheDayOrTheMonthEnd(t *testing.T) {
	for _, c := range []struct {
		from   string
		months int
		want   string
	}{
		{"2025-01-31", 1, "2025-02-28"},
		{"2024-01-31", 1, "2024-02-29"}, // leap year
		{"2024-01-31", 2, "2024-03-31"}, // computed from the start: not pulled back to the 29th
		{"2024-01-31", 3, "2024-04-30"},
		{"2023-08-31", 6, "2024-02-29"},
		{"2024-02-29", 12, "2025-02-28"},
		{"2024-02-29", 48, "2028-02-29"},
		{"2025-12-15", 1, "2026-01-15"},
		{"2025-11-30", 3, "2026-02-28"},
		{"2025-05-10", 0, "2025-05-10"},
	} {
		if got := formatDate(addMonths(day(c.from), c.months)); got != c.want {
			t.Errorf("%s + %d months = %s, want %s", c.from, c.months, got, c.want)
		}
	}
	if got := formatDate(addYears(day("2024-02-29"), 21)); got != "2045-02-28" {
		t.Errorf("29 Feb + 21 years = %s", got)
	}
}

func TestMonthlyScheduleFrom31January(t *testing.T) {
	for _, c := range []struct {
		start string
		want  []string
	}{
		{"2025-01-31", []string{"2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31"}},
		{"2024-01-31", []string{"2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31"}},
	} {
		tm := terms{commencement: day(c.start), mode: ModeMonthly, term: 10, premiumTerm: 10}
		for k, w := range c.want {
			if got := formatDate(tm.dueDate(k)); got != w {
				t.Errorf("%s premium %d due %s, want %s", c.start, k, got, w)
			}
		}
	}
	// Quarterly from 30 November crosses February.
	q := terms{commencement: day("2023-11-30"), mode: ModeQuarterly, term: 5, premiumTerm: 5}
	if got := formatDate(q.dueDate(1)); got != "2024-02-29" {
		t.Errorf("quarterly: %s", got)
	}
	if got := formatDate(q.dueDate(2)); got != "2024-05-30" {
		t.Errorf("quarterly after February: %s", got)
	}
}

func TestAgeLastBirthday(t *testing.T) {
	for _, c := range []struct {
		dob, on string
		want    int
	}{
		{"1990-06-15", "2020-06-14", 29},
		{"1990-06-15", "2020-06-15", 30},
		{"1990-06-15", "2020-12-31", 30},
		{"2000-02-29", "2001-02-28", 0}, // a 29 February birthday comes on 1 March in other years
		{"2000-02-29", "2001-03-01", 1},
		{"2000-02-29", "2004-02-29", 4},
		{"2000-02-29", "2004-02-28", 3},
		{"2010-01-01", "2009-12-31", -1},
		{"2010-01-01", "2010-01-01", 0},
	} {
		if got := ageOn(day(c.dob), day(c.on)); got != c.want {
			t.Errorf("born %s, on %s: %d, want %d", c.dob, c.on, got, c.want)
		}
	}
}

func TestTodayIsTheDateInIndia(t *testing.T) {
	if got := formatDate(todayIn(time.Date(2025, 3, 1, 18, 29, 59, 0, time.UTC))); got != "2025-03-01" {
		t.Errorf("23:59 IST: %s", got)
	}
	if got := formatDate(todayIn(time.Date(2025, 3, 1, 18, 30, 0, 0, time.UTC))); got != "2025-03-02" {
		t.Errorf("00:00 IST: %s", got)
	}
}

func TestScheduleGraceAndMaturity(t *testing.T) {
	y := terms{commencement: day("2024-01-31"), mode: ModeYearly, term: 20, premiumTerm: 15}
	s := y.schedule(1, StatusInForce)
	if formatDate(s.nextDue) != "2025-01-31" || formatDate(s.graceEnd) != "2025-03-02" || formatDate(s.maturity) != "2044-01-31" {
		t.Fatalf("yearly: %+v", s)
	}
	if y.instalments() != 15 || y.perYear() != 1 {
		t.Fatalf("yearly instalments %d", y.instalments())
	}
	if s := y.schedule(15, StatusInForce); !s.nextDue.IsZero() || !s.graceEnd.IsZero() {
		t.Fatalf("fully paid still owes: %+v", s)
	}
	for _, st := range []string{StatusPaidUp, StatusMatured, StatusSurrendered, StatusClaimed} {
		if s := y.schedule(3, st); !s.nextDue.IsZero() {
			t.Fatalf("%s owes a premium: %+v", st, s)
		}
	}
	if s := y.schedule(3, StatusLapsed); formatDate(s.nextDue) != "2027-01-31" {
		t.Fatalf("lapsed: the first unpaid premium is due: %+v", s)
	}
	m := terms{commencement: day("2025-01-31"), mode: ModeMonthly, term: 10, premiumTerm: 5}
	if s := m.schedule(1, StatusInForce); formatDate(s.nextDue) != "2025-02-28" || formatDate(s.graceEnd) != "2025-03-15" {
		t.Fatalf("monthly: 15 days of grace: %+v", s)
	}
	if m.instalments() != 60 {
		t.Fatalf("monthly instalments: %d", m.instalments())
	}
	h := terms{commencement: day("2025-08-31"), mode: ModeHalfYearly, term: 10, premiumTerm: 10}
	if s := h.schedule(1, StatusInForce); formatDate(s.nextDue) != "2026-02-28" || formatDate(s.graceEnd) != "2026-03-30" {
		t.Fatalf("half-yearly: %+v", s)
	}
	if n := h.dueBy(day("2026-02-27")); n != 1 {
		t.Fatalf("due by the day before the second premium: %d", n)
	}
	if n := h.dueBy(day("2026-02-28")); n != 2 {
		t.Fatalf("due on the day of the second premium: %d", n)
	}
	if n := h.dueBy(day("2099-01-01")); n != 20 {
		t.Fatalf("due long after: %d", n)
	}
}

func TestDailyScheduleRunsAtHalfPastMidnightInIndia(t *testing.T) {
	d := dailyAt{hour: 0, minute: 30, loc: ist}
	// 10:00 UTC is 15:30 IST: next run is 00:30 IST next day = 19:00 UTC.
	if got := d.Next(time.Date(2025, 5, 10, 10, 0, 0, 0, time.UTC)).UTC(); !got.Equal(time.Date(2025, 5, 10, 19, 0, 0, 0, time.UTC)) {
		t.Fatalf("next: %v", got)
	}
	// Exactly at the run time: the next one is a day later.
	at := time.Date(2025, 5, 10, 19, 0, 0, 0, time.UTC)
	if got := d.Next(at).UTC(); !got.Equal(at.Add(24 * time.Hour)) {
		t.Fatalf("at the time: %v", got)
	}
}
