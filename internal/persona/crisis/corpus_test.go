package crisis

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// heldoutDigest fingerprints the held-out rows (their lines, in file order,
// each followed by "\n"). The held-out split is written by someone who has not
// seen the detector, before any tuning on it, and is never edited to fit it;
// when held-out rows are added, update the digest in the same change and say
// so in the commit.
//
// On 2026-11-22 (third session) the held-out set g001-g349, evaluated four
// times, moved to dev, and a fresh one (g350-g866, two blind writers) took
// its place; after five of its misses were printed by accident it moved to
// dev too, as did its successor g867-g1453 once trained past, and
// g1454-g2042 (two more blind writers) became the held-out set
// (testdata/README.md, History, items 12 and 13). On 2026-11-22 (fourth
// session) g2043-g2626 and then g2627-g3209 (four more blind writers) joined
// it; g1454-g2042 stays held out because training on more data made bare
// means questions read high (item 14).
const heldoutDigest = "fed25eb437b86901a5d9e8e669d8a0d5bc9713c7ebaa2b36aeff3db33915d701"

// Thresholds from issue 5; they apply to the whole corpus and to the
// held-out split on its own.
const (
	minRecallModerate = 0.98
	minRecall         = 0.95
	maxFalsePositive  = 0.05
)

type sample struct {
	id, lang, split string
	level           Level
	cat             Category
	conv            string
	text            string
	line            string
}

func loadCorpus(t testing.TB) []sample {
	t.Helper()
	f, err := os.Open("testdata/corpus.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sample
	ids := map[string]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 {
			if line != "id\tlang\tsplit\tlevel\tcategory\tconv\ttext" {
				t.Fatalf("corpus header = %q", line)
			}
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.SplitN(line, "\t", 7)
		if len(f) != 7 {
			t.Fatalf("corpus line %d: %d fields", n, len(f))
		}
		lvl, err := ParseLevel(f[3])
		if err != nil {
			t.Fatalf("corpus line %d: %v", n, err)
		}
		cat := Category(f[4])
		if !cat.Valid() || (lvl == LevelNone) != (cat == CategoryNone) {
			t.Fatalf("corpus line %d: level %s with category %q", n, lvl, f[4])
		}
		if f[1] != "id" && f[1] != "en" && f[1] != "mixed" {
			t.Fatalf("corpus line %d: language %q", n, f[1])
		}
		if f[2] != "dev" && f[2] != "heldout" {
			t.Fatalf("corpus line %d: split %q", n, f[2])
		}
		if ids[f[0]] {
			t.Fatalf("corpus line %d: duplicate id %s", n, f[0])
		}
		ids[f[0]] = true
		out = append(out, sample{id: f[0], lang: f[1], split: f[2], level: lvl, cat: cat, conv: f[5], text: f[6], line: line})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// runCorpus assesses every sample: standalone ones with Detect, those of a
// conversation in file order with one Conversation per id, a minute apart.
func runCorpus(samples []sample) []Result {
	convs := map[string]*Conversation{}
	clock := map[string]time.Time{}
	base := time.Date(2025, 3, 1, 21, 0, 0, 0, time.UTC)
	out := make([]Result, len(samples))
	for i, s := range samples {
		if s.conv == "-" {
			out[i] = Detect(s.text)
			continue
		}
		c := convs[s.conv]
		if c == nil {
			c = &Conversation{}
			convs[s.conv] = c
			clock[s.conv] = base
		}
		clock[s.conv] = clock[s.conv].Add(time.Minute)
		out[i] = c.AssessAt(s.text, clock[s.conv])
	}
	return out
}

type metrics struct {
	pos, neg, modPos          int
	tp, fp, modHit, exact     int
	catOK, under, over        int
	recall, recallMod, prec   float64
	fpr, agreement, catAgreed float64
}

func computeMetrics(samples []sample, got []Result, keep func(sample) bool) metrics {
	var m metrics
	for i, s := range samples {
		if !keep(s) {
			continue
		}
		g := got[i]
		if s.level == LevelNone {
			m.neg++
			if g.Level > LevelNone {
				m.fp++
			}
			continue
		}
		m.pos++
		if g.Level > LevelNone {
			m.tp++
			if g.Category == s.cat {
				m.catOK++
			}
		}
		if g.Level == s.level {
			m.exact++
		} else if g.Level < s.level {
			m.under++
		} else {
			m.over++
		}
		if s.level >= LevelModerate {
			m.modPos++
			if g.Level >= LevelModerate {
				m.modHit++
			}
		}
	}
	ratio := func(a, b int) float64 {
		if b == 0 {
			return 1
		}
		return float64(a) / float64(b)
	}
	m.recall = ratio(m.tp, m.pos)
	m.recallMod = ratio(m.modHit, m.modPos)
	m.prec = ratio(m.tp, m.tp+m.fp)
	m.fpr = 0
	if m.neg > 0 {
		m.fpr = float64(m.fp) / float64(m.neg)
	}
	m.agreement = ratio(m.exact, m.pos)
	m.catAgreed = ratio(m.catOK, m.tp)
	return m
}

func (m metrics) String() string {
	return fmt.Sprintf("pos=%3d neg=%3d  recall=%.3f  recall(mod+)=%.3f (%d/%d)  precision=%.3f  FPR=%.3f (%d/%d)  level-agreement=%.3f (under %d, over %d)  category=%.3f",
		m.pos, m.neg, m.recall, m.recallMod, m.modHit, m.modPos, m.prec, m.fpr, m.fp, m.neg, m.agreement, m.under, m.over, m.catAgreed)
}

func TestCorpusShape(t *testing.T) {
	samples := loadCorpus(t)
	if len(samples) < 300 {
		t.Fatalf("corpus has %d messages, want at least 300", len(samples))
	}
	held := 0
	h := sha256.New()
	type key struct {
		lang  string
		level Level
		cat   Category
	}
	counts := map[key]int{}
	for _, s := range samples {
		if s.split == "heldout" {
			if heldoutNum(s.id) <= 0 {
				t.Errorf("held-out id %q is not g and a number", s.id)
			}
			held++
			h.Write([]byte(s.line + "\n"))
		}
		lang := s.lang
		if lang == "mixed" {
			lang = "id" // mixed messages count for both languages below
			counts[key{"en", s.level, s.cat}]++
		}
		counts[key{lang, s.level, s.cat}]++
	}
	// The held-out split's size, not its share, bounds how precisely it
	// measures: 300 messages put a recall near 0.95 within about ±0.03.
	if held < 300 {
		t.Errorf("held-out split has %d messages, want at least 300", held)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != heldoutDigest {
		t.Errorf("held-out rows changed (digest %s): the held-out split is written before tuning and never edited to fit the detector", got)
	}
	for _, lang := range []string{"id", "en"} {
		for _, lv := range []Level{LevelLow, LevelModerate, LevelHigh, LevelImminent} {
			if counts[key{lang, lv, SuicidalIdeation}] == 0 {
				t.Errorf("no %s %s suicidal_ideation sample", lang, lv)
			}
		}
		for _, lv := range []Level{LevelModerate, LevelHigh, LevelImminent} {
			if counts[key{lang, lv, SelfHarm}] == 0 {
				t.Errorf("no %s %s self_harm sample", lang, lv)
			}
		}
		if counts[key{lang, LevelNone, CategoryNone}] < 30 {
			t.Errorf("fewer than 30 %s negatives", lang)
		}
	}
}

// heldoutNum is the number of a held-out id ("g2043" is 2043).
func heldoutNum(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "g"))
	return n
}

func TestCorpus(t *testing.T) {
	samples := loadCorpus(t)
	got := runCorpus(samples)

	splits := []struct {
		name string
		keep func(sample) bool
	}{
		{"full", func(sample) bool { return true }},
		{"heldout", func(s sample) bool { return s.split == "heldout" }},
		// The three held-out sets (testdata/README.md, items 13-14).
		{"heldout-g1454", func(s sample) bool { return s.split == "heldout" && heldoutNum(s.id) < 2043 }},
		{"heldout-g2043", func(s sample) bool {
			return s.split == "heldout" && heldoutNum(s.id) >= 2043 && heldoutNum(s.id) < 2627
		}},
		{"heldout-g2627", func(s sample) bool { return s.split == "heldout" && heldoutNum(s.id) >= 2627 }},
		{"dev", func(s sample) bool { return s.split == "dev" }},
	}
	for _, sp := range splits {
		for _, lang := range []string{"", "id", "en", "mixed"} {
			keep := sp.keep
			if lang != "" {
				l := lang
				keep = func(s sample) bool { return sp.keep(s) && s.lang == l }
			}
			name := lang
			if name == "" {
				name = "all"
			}
			t.Logf("%-7s %-5s %s", sp.name, name, computeMetrics(samples, got, keep))
		}
	}

	langOK, langN := 0, 0
	var misses []string
	for i, s := range samples {
		g := got[i]
		if s.lang != "mixed" && g.Language != "" {
			langN++
			if g.Language == s.lang {
				langOK++
			}
		}
		if g.Level != s.level || (g.Level > LevelNone && g.Category != s.cat) {
			// Held-out misses are printed only on request: reading them
			// is the first step to tuning on them.
			show := os.Getenv("CRISIS_SHOW")
			if show == "" && s.split == "dev" || strings.Contains(show, s.split) {
				misses = append(misses, fmt.Sprintf("%-7s %s want %-8s got %-8s %-17s %v  %q", s.split, s.id, s.level, g.Level, g.Category, g.Signals, s.text))
			}
		}
	}
	sort.Strings(misses)
	for _, m := range misses {
		t.Log("mismatch: " + m)
	}
	t.Logf("language guess agrees on %d/%d single-language messages", langOK, langN)

	// Floors: the test fails when a split falls below its floor. The full
	// corpus and dev (the tuning split, which is now the whole corpus) must
	// meet the targets themselves (measured on 2026-11-22, 1521
	// rows: recall 0.996, 0.994 for moderate and above, false-positive rate
	// 0.000). The held-out split defaults to the targets too; when the fresh
	// set is added and measures below them, record its first evaluation here
	// as its floor (and log the distance to the target), then raise it as the
	// detector improves; never lower a floor.
	type floor struct{ recallMod, recall, fpr float64 }
	target := floor{minRecallModerate, minRecall, maxFalsePositive}
	//
	// History of the held-out floors: testdata/README.md, items 9-14.
	// g1454-g2042 (589 rows, two blind writers) measured recall 0.957 /
	// 0.957 for moderate and above / FPR 0.019 with the detector of item 12,
	// 0.953 / 0.957 / 0.015 with that of item 13, and 0.960 / 0.965
	// (249/258) / 0.015 with the shipped one (item 14). g2043-g2626 (584
	// rows, two more blind writers, item 14) measured 0.958 / 0.976
	// (248/254) / 0.037 (10/271) with the shipped one. g2627-g3209 (583
	// rows, two more blind writers), evaluated once, with the shipped one
	// only: 0.968 / 0.964 (244/253) / 0.026 (7/271). All three: 0.962 /
	// 0.969 (741/765) / 0.026 (21/809). Recall and false positives meet the
	// targets; moderate and above does not (0.98). Those are the floors.
	floors := map[string]floor{
		"full":          target,
		"dev":           target,
		"heldout":       {0.96, 0.95, 0.03},
		"heldout-g1454": {0.96, 0.95, 0.02},
		"heldout-g2043": {0.97, 0.95, 0.04},
		"heldout-g2627": {0.96, 0.95, 0.03},
	}
	for _, sp := range splits {
		m := computeMetrics(samples, got, sp.keep)
		if m.pos+m.neg == 0 {
			t.Logf("%s split is empty: its floor is skipped", sp.name)
			continue
		}
		if m.recallMod < minRecallModerate || m.recall < minRecall || m.fpr > maxFalsePositive {
			t.Logf("BELOW TARGET %s: recall(mod+) %.3f (target %.2f), recall %.3f (target %.2f), FPR %.3f (target %.2f)",
				sp.name, m.recallMod, minRecallModerate, m.recall, minRecall, m.fpr, maxFalsePositive)
		}
		f := floors[sp.name]
		if m.recallMod < f.recallMod {
			t.Errorf("%s: recall for moderate and above %.3f fell below its floor %.2f", sp.name, m.recallMod, f.recallMod)
		}
		if m.recall < f.recall {
			t.Errorf("%s: recall %.3f fell below its floor %.2f", sp.name, m.recall, f.recall)
		}
		if m.fpr > f.fpr {
			t.Errorf("%s: false-positive rate %.3f above its ceiling %.2f", sp.name, m.fpr, f.fpr)
		}
	}
}
