package persona

import (
	"strings"
	"testing"

	"mitra/internal/platform/vault"
)

// FuzzNormalizePhone: no input panics; an accepted number is E.164 and
// reads back as itself.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"0812-3456-7890", "+62 812 3456 7890", "0062812345678", "9812345678", "09812345678", "+919812345678",
		"+62215551234", "+1 (415) 555-2671", "", "+", "00", "08", "８１２３４５６７８９０", "+999999999999999999", "0812\u00a03456\u00a07890"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := normalizePhone("body.phone", in)
		if err != nil {
			return
		}
		if !strings.HasPrefix(out, "+") || len(out) < 8 || len(out) > 16 || strings.Trim(out[1:], "0123456789") != "" {
			t.Fatalf("%q normalised to %q", in, out)
		}
		if again, err := normalizePhone("body.phone", out); err != nil || again != out {
			t.Fatalf("%q: %q then %q (%v)", in, out, again, err)
		}
	})
}

// FuzzOptOutToken: only the token made for a contact names it; anything
// else, however close, names nobody.
func FuzzOptOutToken(f *testing.F) {
	v, err := vault.Parse(vault.NewKeySpec("f1"))
	if err != nil {
		f.Fatal(err)
	}
	s := &Service{Vault: v}
	const id = "01a20000-0000-7000-8000-0000000000c1"
	good := s.optOutToken(id)
	for _, seed := range []string{good, good[:len(good)-1] + "0", id, id + ".f1.", "", "..", strings.Repeat(".", 80), id + ".f1." + strings.Repeat("g", 32)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		got := s.contactOfOptOut(tok)
		if strings.TrimSpace(tok) == good {
			if got != id {
				t.Fatalf("the real token names %q", got)
			}
			return
		}
		if got != "" && s.optOutToken(got) != strings.TrimSpace(tok) {
			t.Fatalf("%q accepted for %q", tok, got)
		}
	})
}
