package auth

import (
	"net/mail"
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"mitra/internal/platform/apperr"
)

// NormalizeEmail lower-cases and checks an email address. It returns an
// Invalid error on field.
func NormalizeEmail(field, s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || len(s) > 254 || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return "", apperr.Field(field, "must be an email address like name@example.com")
	}
	return s, nil
}

var phoneNoise = strings.NewReplacer(" ", "", "-", "", "(", "", ")", "", ".", "", "\u00a0", "")

var digits = regexp.MustCompile(`^\+?[0-9]{6,17}$`)

// NormalizePhone returns the number in E.164. Numbers with a country code
// (+62..., 0062..., +91...) are taken as written; numbers written the
// local way are read as Indonesian (08..., 628...) or Indian (a 10-digit
// mobile starting 6-9, optionally with a leading 0 or 91). It returns an
// Invalid error on field.
func NormalizePhone(field, s string) (string, error) {
	s = phoneNoise.Replace(strings.TrimSpace(s))
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if !digits.MatchString(s) {
		return "", apperr.Field(field, "must be a phone number such as +6281234567890 or +919812345678")
	}
	var candidates []string
	switch {
	case strings.HasPrefix(s, "+"):
		candidates = []string{s}
	case strings.HasPrefix(s, "62") && len(s) >= 10:
		candidates = []string{"+" + s}
	case strings.HasPrefix(s, "91") && len(s) == 12:
		candidates = []string{"+" + s}
	case len(s) == 10 && s[0] >= '6' && s[0] <= '9':
		candidates = []string{"+91" + s}
	case len(s) == 11 && s[0] == '0' && s[1] >= '6' && s[1] <= '9' && s[1] != '8':
		candidates = []string{"+91" + s[1:]}
	case strings.HasPrefix(s, "08"):
		candidates = []string{"+62" + s[1:]}
	case strings.HasPrefix(s, "8") && len(s) >= 9 && len(s) <= 12:
		candidates = []string{"+62" + s}
	}
	for _, c := range candidates {
		num, err := phonenumbers.Parse(c, "")
		if err == nil && phonenumbers.IsValidNumber(num) {
			return phonenumbers.Format(num, phonenumbers.E164), nil
		}
	}
	return "", apperr.Field(field, "must be a valid phone number such as +6281234567890 or +919812345678")
}

var agentCodePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{3,19}$`)

// NormalizeAgentCode upper-cases an agent code and checks its shape.
func NormalizeAgentCode(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	return s, agentCodePattern.MatchString(s)
}

// classify tells what kind of identifier a login identifier is.
func classify(identifier string) (kind, value string) {
	id := strings.TrimSpace(identifier)
	if strings.Contains(id, "@") {
		if e, err := NormalizeEmail("body.identifier", id); err == nil {
			return "email", e
		}
		return "", ""
	}
	if p, err := NormalizePhone("body.identifier", id); err == nil {
		return "phone", p
	}
	if c, ok := NormalizeAgentCode(id); ok {
		return "agent_code", c
	}
	return "", ""
}
