// Package phone reads phone numbers the way Mitra's users write them, in
// Indonesia and India, into E.164: the one place that knows the local
// forms (08..., 628..., a 10-digit Indian mobile, 0 or 91 before it).
package phone

import (
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

var (
	noise  = strings.NewReplacer(" ", "", "-", "", "(", "", ")", "", ".", "", "\u00a0", "")
	digits = regexp.MustCompile(`^\+?[0-9]{6,17}$`)
)

// Normalize returns the number in E.164 and whether it is a valid number.
// Numbers with a country code (+62..., 0062..., +91...) are taken as
// written; numbers written the local way are read as Indonesian (08...,
// 628...) or Indian (a 10-digit mobile starting 6-9, optionally with a
// leading 0 or 91).
func Normalize(s string) (string, bool) {
	s = noise.Replace(strings.TrimSpace(s))
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if !digits.MatchString(s) {
		return "", false
	}
	var c string
	switch {
	case strings.HasPrefix(s, "+"):
		c = s
	case strings.HasPrefix(s, "62") && len(s) >= 10:
		c = "+" + s
	case strings.HasPrefix(s, "91") && len(s) == 12:
		c = "+" + s
	case len(s) == 10 && s[0] >= '6' && s[0] <= '9':
		c = "+91" + s
	case len(s) == 11 && s[0] == '0' && s[1] >= '6' && s[1] <= '9' && s[1] != '8':
		c = "+91" + s[1:]
	case strings.HasPrefix(s, "08"):
		c = "+62" + s[1:]
	case strings.HasPrefix(s, "8") && len(s) >= 9 && len(s) <= 12:
		c = "+62" + s
	default:
		return "", false
	}
	num, err := phonenumbers.Parse(c, "")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// IsMobile reports whether an E.164 number can receive SMS or WhatsApp
// (a mobile, or a number the plan does not tell apart from one).
func IsMobile(e164 string) bool {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return false
	}
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		return true
	}
	return false
}
