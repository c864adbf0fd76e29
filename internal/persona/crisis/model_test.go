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
	if m.dec.floor < LevelLow || m.dec.ceiling > LevelImminent || m.dec.veto < 0 {
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
	d := decision{raise: [4]float32{1, 2, 3, 4}, veto: 2, floor: LevelModerate, ceiling: LevelHigh}
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
		{"the rules found risk: their level stands", z(9, 9, 9, 9, -1), LevelLow, false, LevelLow, CategoryNone},
		{"a trigger set aside: the model does not overrule the rules", z(9, 9, 9, 9, -1), LevelNone, true, LevelNone, CategoryNone},
	} {
		lvl, cat, ok := d.combine(c.z, c.rules, c.suppressed)
		if ok != (c.want > c.rules) || ok && (lvl != c.want || cat != c.cat) {
			t.Errorf("%s: combine = %s/%s %v, want %s/%s", c.name, lvl, cat, ok, c.want, c.cat)
		}
	}
}

// The model only ever raises a message the rules found no risk in, and says
// so with the signal "model"; a rules result is never changed otherwise.
func TestModelOnlyRaisesWhatRulesMissed(t *testing.T) {
	for _, r := range loadDev(t) {
		rules, _ := detectWith(r.text, nil, nil)
		got := Detect(r.text)
		switch {
		case got.Level == rules.Level:
			if got.Category != rules.Category || !slices.Equal(got.Signals, rules.Signals) {
				t.Errorf("%s: %+v, rules alone %+v", r.id, got, rules)
			}
		case rules.Level != LevelNone || got.Level < LevelLow || got.Signals[len(got.Signals)-1] != "model":
			t.Errorf("%s: %+v, rules alone %+v", r.id, got, rules)
		}
	}
}
