package auth

import (
	"net/mail"
	"regexp"
	"strings"

	"mitra/internal/platform/apperr"
	"mitra/internal/platform/phone"
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

// NormalizePhone returns the number in E.164 (see phone.Normalize for the
// local forms understood), or an Invalid error on field.
func NormalizePhone(field, s string) (string, error) {
	if p, ok := phone.Normalize(s); ok {
		return p, nil
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
