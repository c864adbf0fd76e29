package insurance

import (
	"time"

	"mitra/internal/platform/apperr"
)

// Calendar dates (a date of birth, a commencement or due date) have no
// time of day and no zone. They are held as time.Time at UTC midnight,
// stored as 'YYYY-MM-DD' text on both dialects (which sorts as the date
// does) and written the same way in JSON.

// DateLayout is how dates are written in the database and in JSON.
const DateLayout = "2006-01-02"

// noDate is what the date columns hold when there is no date (no premium
// left to pay): it sorts after every real date, so a keyset on the column
// needs no NULL handling, and a due window never selects it. The API shows
// it as null.
const noDate = "9999-12-31"

// ist is India Standard Time (UTC+5:30, no daylight saving): the Agent
// product's "today" is the date in India, whatever the server's zone.
var ist = time.FixedZone("IST", 5*3600+1800)

// todayIn returns the calendar date in India at instant now.
func todayIn(now time.Time) time.Time {
	y, m, d := now.In(ist).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// parseDate reads a 'YYYY-MM-DD' date, returning an Invalid error on field.
func parseDate(field, s string) (time.Time, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, apperr.Field(field, "must be a date written YYYY-MM-DD")
	}
	return t, nil
}

// formatDate writes a date; the zero time gives "".
func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(DateLayout)
}

// dateColumn writes a date for a date column: noDate for the zero time.
func dateColumn(t time.Time) string {
	if t.IsZero() {
		return noDate
	}
	return t.Format(DateLayout)
}

// addMonths returns the date months after t, keeping t's day of the month
// where the target month has it and the target month's last day where it
// does not: 31 January plus one month is 28 (or 29) February, plus two
// months 31 March. Each date of a schedule is computed from its start, not
// from the previous date, so a short month does not pull later dates back.
func addMonths(t time.Time, months int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), 0, 0, 0, 0, time.UTC)
}

// addYears is addMonths by whole years: 29 February plus one year is 28
// February.
func addYears(t time.Time, years int) time.Time { return addMonths(t, 12*years) }

// ageOn returns the age last birthday on date on of someone born on dob:
// the number of birthdays they have had. Someone born on 29 February has
// their birthday on 1 March in years without one (on 28 February they are
// still a day short). A date before dob gives a negative age.
func ageOn(dob, on time.Time) int {
	age := on.Year() - dob.Year()
	if on.Month() < dob.Month() || (on.Month() == dob.Month() && on.Day() < dob.Day()) {
		age--
	}
	return age
}
