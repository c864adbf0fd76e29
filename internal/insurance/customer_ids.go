package insurance

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"mitra/internal/platform/apperr"
)

// Government identifiers and contact data of customers: parsing,
// validation and masking. Error messages never repeat the value given.

var panShape = regexp.MustCompile(`^[A-Z]{5}[0-9]{4}[A-Z]$`)

// idNoise is what people type inside identifiers and phone numbers.
var idNoise = strings.NewReplacer(" ", "", "-", "", "\u00a0", "", ".", "", "(", "", ")", "")

// normalizePAN upper-cases a Permanent Account Number and checks its shape:
// five letters, four digits, one letter, the fourth letter being P (the
// holder type of an individual; customers are people). It returns an
// Invalid error on field.
func normalizePAN(field, s string) (string, error) {
	s = strings.ToUpper(idNoise.Replace(strings.TrimSpace(s)))
	if !panShape.MatchString(s) {
		return "", apperr.Field(field, "must be a PAN: 5 letters, 4 digits and a letter, such as BNZPM2501F")
	}
	if s[3] != 'P' {
		return "", apperr.Field(field, "must be an individual's PAN: its fourth letter is P")
	}
	return s, nil
}

// maskPAN shows only a PAN's four digits: ABCPE1234F becomes XXXXX1234X.
func maskPAN(pan string) string { return "XXXXX" + pan[5:9] + "X" }

// panHash is a keyed hash of a PAN, so the same PAN can be found (one
// customer per PAN in an agent's book) without storing it in clear.
func panHash(key []byte, pan string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("pan:" + pan))
	return hex.EncodeToString(m.Sum(nil))
}

// aadhaarLast4 reads an Aadhaar number (12 digits, the Verhoeff check digit
// last, never starting with 0 or 1) or just its last 4 digits, and returns
// the last 4: nothing more is ever kept. It returns an Invalid error on
// field.
func aadhaarLast4(field, s string) (string, error) {
	s = idNoise.Replace(strings.TrimSpace(s))
	if !isDigits(s) || (len(s) != 4 && len(s) != 12) {
		return "", apperr.Field(field, "must be the 12-digit Aadhaar number or its last 4 digits")
	}
	if len(s) == 12 {
		if s[0] == '0' || s[0] == '1' || !verhoeffValid(s) {
			return "", apperr.Field(field, "is not a valid Aadhaar number (its check digit does not match)")
		}
		s = s[8:]
	}
	return s, nil
}

// maskAadhaar writes the last 4 digits the way UIDAI's masked Aadhaar does.
func maskAadhaar(last4 string) string {
	if last4 == "" {
		return ""
	}
	return "XXXX XXXX " + last4
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// The Verhoeff scheme (dihedral group D5), as UIDAI uses for Aadhaar.
var (
	verhoeffD = [10][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
		{5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
		{7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	verhoeffP = [8][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
		{8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 3, 1, 2, 6, 8, 7, 0},
		{4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5},
		{7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
	verhoeffInv = [10]byte{0, 4, 3, 2, 1, 5, 6, 7, 8, 9}
)

// verhoeffValid reports whether a string of digits ends in its correct
// Verhoeff check digit.
func verhoeffValid(digits string) bool {
	var c byte
	for i := 0; i < len(digits); i++ {
		c = verhoeffD[c][verhoeffP[i%8][digits[len(digits)-1-i]-'0']]
	}
	return c == 0
}

// verhoeffDigit returns the check digit to append to digits.
func verhoeffDigit(digits string) byte {
	var c byte
	for i := 0; i < len(digits); i++ {
		c = verhoeffD[c][verhoeffP[(i+1)%8][digits[len(digits)-1-i]-'0']]
	}
	return '0' + verhoeffInv[c]
}

// customerPhone returns a customer's phone number in E.164. A number
// without a country code is read as Indian (98123 45678, 098123 45678);
// one with a code (+971..., 00971...) is taken as written. "" stays "".
// It returns an Invalid error on field.
func customerPhone(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	num, err := phonenumbers.Parse(s, "IN")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", apperr.Field(field, "must be a phone number such as 98123 45678 or +91 98123 45678")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// customerEmail lower-cases and checks an email address; "" stays "".
func customerEmail(field, s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || len(s) > 254 || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return "", apperr.Field(field, "must be an email address like name@example.com")
	}
	return s, nil
}
