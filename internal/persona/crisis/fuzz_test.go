package crisis

import (
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzDetect checks that any input, valid UTF-8 or not, gives a valid result:
// no panic, a defined level, a category that goes with it, known signals, and
// a conversation that never lowers the standalone level.
func FuzzDetect(f *testing.F) {
	for _, s := range []string{
		"", " ", "kms", "I just took 30 pills", "pengen b.u.n.u.h d.i.r.i", "m4ti", "matiiiiiiii",
		"k*ll myself", "s*", "**", "b u n d i r a j a", "30pills 10min 3x", "obat2 2 22 2x2",
		"😂😂💀🎶💊🔪🩸🪢", "I’m standing on the ledge now", "aku gak pernah kepikiran bunuh diri",
		"highest bridge near me?", "\xff\xfe\xfd", "a\x00b", "é à ñ ß ı", "mati gaya. mati lampu, mati!",
		"! @ $ | a@b s$s i!i", "'''", "i'm not not suicidal", "tapi tapi tapi but but",
		"lagi nyilet sekarang darahnya ga berhenti", "gantung diri pake tali, tali udah di leher",
	} {
		f.Add(s)
	}
	e := theEngine()
	t0 := time.Date(2025, 3, 1, 22, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		r := Detect(s)
		if !r.Level.Valid() || !r.Category.Valid() {
			t.Fatalf("invalid result %+v", r)
		}
		if (r.Level == LevelNone) != (r.Category == CategoryNone) {
			t.Fatalf("level %s with category %s", r.Level, r.Category)
		}
		switch r.Language {
		case "", "id", "en", "mixed":
		default:
			t.Fatalf("language %q", r.Language)
		}
		for _, sig := range r.Signals {
			if !e.signals[sig] || !utf8.ValidString(sig) {
				t.Fatalf("signal %q not from the fixed set", sig)
			}
		}
		if again := Detect(s); again.Level != r.Level || again.Category != r.Category {
			t.Fatalf("not deterministic: %+v then %+v", r, again)
		}
		c := Conversation{Turns: []Turn{{At: t0, Level: LevelModerate, Category: SelfHarm}}}
		if cr := c.AssessAt(s, t0.Add(time.Minute)); cr.Level < r.Level {
			t.Fatalf("conversation lowered %s to %s", r.Level, cr.Level)
		}
	})
}
