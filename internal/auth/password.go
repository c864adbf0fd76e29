package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"mitra/internal/platform/apperr"
)

// PasswordParams are the argon2id cost parameters. The defaults are
// OWASP's recommendation for argon2id (19 MiB, 2 passes, 1 lane).
type PasswordParams struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultPasswordParams is what new hashes use.
var DefaultPasswordParams = PasswordParams{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

// HashPassword returns a PHC-format argon2id hash of password.
func HashPassword(password string, p PasswordParams) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

var errBadHash = errors.New("auth: malformed password hash")

// CheckPassword reports whether password matches the PHC hash, in
// constant time with respect to the key.
func CheckPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return false, errBadHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// Password policy limits (NIST SP 800-63B: at least 8, allow long
// passphrases, check against commonly used passwords, no composition rules).
const (
	MinPasswordLength = 8
	MaxPasswordLength = 128
)

// ValidatePassword applies the password policy. others are the account's
// own identifiers (email, phone, name), which a password may not repeat.
// It returns an Invalid error on field body.<field>.
func ValidatePassword(field, password string, others ...string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLength:
		return apperr.Field("body."+field, fmt.Sprintf("must be at least %d characters", MinPasswordLength))
	case n > MaxPasswordLength:
		return apperr.Field("body."+field, fmt.Sprintf("must be at most %d characters", MaxPasswordLength))
	}
	lower := strings.ToLower(password)
	if commonPasswords[lower] || isTrivial(lower) {
		return apperr.Field("body."+field, "is too common or too easy to guess")
	}
	for _, o := range others {
		o = strings.ToLower(strings.TrimSpace(o))
		if local, _, ok := strings.Cut(o, "@"); ok {
			o = local
		}
		o = strings.TrimPrefix(o, "+")
		if len(o) >= 4 && (strings.Contains(lower, o) || strings.Contains(o, lower)) {
			return apperr.Field("body."+field, "must not contain your name, email or phone")
		}
	}
	return nil
}

// isTrivial catches one repeated character and runs like "12345678" or
// "abcdefgh" that no list needs to hold.
func isTrivial(s string) bool {
	r := []rune(s)
	same, up, down := true, true, true
	for i := 1; i < len(r); i++ {
		same = same && r[i] == r[0]
		up = up && r[i] == r[i-1]+1
		down = down && r[i] == r[i-1]-1
	}
	if same || up || down {
		return true
	}
	letters := 0
	for _, c := range r {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			letters++
		}
	}
	return letters == 0
}

// commonPasswords is a list of the most used passwords of breach corpora
// (the top of the published "most common passwords" lists, plus local
// favourites in India and Indonesia), lower-cased, at least 8 long.
var commonPasswords = func() map[string]bool {
	list := []string{
		"password", "password1", "password12", "password123", "password1234", "passw0rd", "p@ssw0rd", "p@ssword",
		"12345678", "123456789", "1234567890", "12345678910", "87654321", "11111111", "00000000", "88888888",
		"123123123", "1q2w3e4r", "1q2w3e4r5t", "1qaz2wsx", "qwertyuiop", "qwerty123", "qwerty12", "qwertyui",
		"asdfghjkl", "asdfasdf", "zxcvbnm1", "iloveyou", "iloveyou1", "sunshine", "princess", "football",
		"baseball", "welcome1", "welcome123", "letmein1", "trustno1", "superman", "starwars", "whatever",
		"computer", "internet", "michelle", "jennifer", "liverpool", "chelsea1", "arsenal1", "manchester",
		"master123", "admin123", "administrator", "abc12345", "abcd1234", "aa123456", "a1234567", "qazwsxedc",
		"monkey123", "dragon123", "shadow123", "charlie1", "football1", "batman123", "pokemon1", "lovely123",
		"changeme", "changeme1", "default1", "secret123", "mypassword", "mitra123", "persona123", "agent123",
		"india123", "india@123", "bharat123", "krishna1", "jaishreeram", "ganesh123", "sairam123", "omsairam",
		"indonesia", "indonesia1", "jakarta1", "bismillah", "bismillah1", "sayang123", "cintaku1", "rahasia1",
		"katasandi", "katasandi1", "qwerty1234", "987654321", "147258369", "123qweasd", "zaq12wsx", "passport",
		"samsung1", "samsung123", "iphone123", "google123", "facebook1", "whatsapp1", "1234qwer", "qwer1234",
	}
	m := make(map[string]bool, len(list))
	for _, p := range list {
		m[p] = true
	}
	return m
}()
