package crisis

import (
	"bytes"
	"slices"
	"testing"
)

func TestModelFileRoundTrip(t *testing.T) {
	m, err := decodeModel(modelFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.encode(); !bytes.Equal(got, modelFile) {
		t.Fatal("decode then encode changes model.bin")
	}
	if len(m.w) != nHeads<<m.cfg.bits {
		t.Fatalf("%d weights for %d bits", len(m.w), m.cfg.bits)
	}
	if m.dec.floor < LevelLow || m.dec.ceiling > LevelImminent || m.dec.lower > m.dec.raise[headLow] ||
		!(m.dec.ctx < m.dec.raise[headLow]) {
		t.Fatalf("decision %+v", m.dec)
	}
	for _, bad := range [][]byte{
		nil,
		[]byte("CRM0"),
		modelFile[:len(modelFile)/2],
		append(slices.Clone(modelFile), 7),
		append(slices.Clone(modelFile), 0, 1),
	} {
		if _, err := decodeModel(bad); err == nil {
			t.Errorf("decodeModel accepted a corrupt file of %d bytes", len(bad))
		}
	}
}

func TestModelCombine(t *testing.T) {
	d := decision{raise: [4]float32{1, 2, 3, 4}, lower: -2, floor: LevelModerate, ceiling: LevelHigh}
	z := func(low, mod, high, imm, sh float32) [nHeads]float32 { return [nHeads]float32{low, mod, high, imm, sh} }
	for _, c := range []struct {
		name       string
		z          [nHeads]float32
		rules      Level
		suppressed bool
		want       Level
		cat        Category
	}{
		{"below the margin", z(0.9, 9, 9, 9, 0), LevelNone, false, LevelNone, CategoryNone},
		{"risk, raised to the floor", z(1, 0, 0, 0, -1), LevelNone, false, LevelModerate, SuicidalIdeation},
		{"high head", z(1, 0, 3, 0, -1), LevelNone, false, LevelHigh, SuicidalIdeation},
		{"held to the ceiling", z(5, 5, 5, 5, -1), LevelNone, false, LevelHigh, SuicidalIdeation},
		{"self-harm head", z(1, 0, 0, 0, 0.5), LevelNone, false, LevelModerate, SelfHarm},
		{"the rules' low raised", z(9, 9, 0, 0, -1), LevelLow, false, LevelModerate, SuicidalIdeation},
		{"the rules' low, the model unsure", z(0.5, 0, 0, 0, -1), LevelLow, false, LevelLow, CategoryNone},
		{"the rules' moderate stands", z(9, 9, 9, 9, -1), LevelModerate, false, LevelModerate, CategoryNone},
		{"the rules' moderate set aside", z(-2.5, 0, 0, 0, -1), LevelModerate, false, LevelNone, CategoryNone},
		{"the rules' low set aside", z(-2.5, 0, 0, 0, -1), LevelLow, false, LevelNone, CategoryNone},
		{"the rules' high is never set aside", z(-9, -9, -9, -9, -1), LevelHigh, false, LevelHigh, CategoryNone},
		{"the rules' imminent stands", z(9, 9, 9, 9, -1), LevelImminent, false, LevelImminent, CategoryNone},
		{"a trigger set aside: the model does not overrule the rules", z(9, 9, 9, 9, -1), LevelNone, true, LevelNone, CategoryNone},
	} {
		lvl, cat, ok := d.combine(c.z, c.rules, c.suppressed)
		if ok != (c.want != c.rules) || ok && (lvl != c.want || cat != c.cat) {
			t.Errorf("%s: combine = %s/%s %v, want %s/%s", c.name, lvl, cat, ok, c.want, c.cat)
		}
	}
}

// The model changes the rules' reading only in the ways combine allows, and
// says so: a raise (from none or low) ends its signals with "model"; a
// reading set aside (low or moderate to none) keeps the rules' signals, and
// "model", among those set aside. High and imminent are never changed.
func TestModelChangesOnlyWhatCombineAllows(t *testing.T) {
	for _, r := range loadDev(t) {
		rules, _ := detectWith(r.text, nil, nil)
		got := Detect(r.text)
		switch {
		case got.Level == rules.Level:
			if got.Category != rules.Category || !slices.Equal(got.Signals, rules.Signals) {
				t.Errorf("%s: %+v, rules alone %+v", r.id, got, rules)
			}
		case got.Level > rules.Level:
			if rules.Level > LevelLow || got.Signals[len(got.Signals)-1] != "model" {
				t.Errorf("%s: raised %+v, rules alone %+v", r.id, got, rules)
			}
		default:
			if got.Level != LevelNone || rules.Level > LevelModerate || !slices.Contains(got.Signals, "model") {
				t.Errorf("%s: lowered %+v, rules alone %+v", r.id, got, rules)
			}
		}
	}
}
