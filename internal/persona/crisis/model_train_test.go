package crisis

// Training of the learned component (see model.go). Everything here reads the
// development split of testdata/corpus.tsv only: loadDev drops every other
// row as it parses the file, before anything else looks at it.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var updateModel = flag.Bool("update", false, "retrain the model on the development split and write model.bin")

// devRow is one row of the development split.
type devRow struct {
	id    string
	num   int // the number of the id ("d1084" is 1084)
	lang  string
	level Level
	cat   Category
	conv  string
	text  string
}

// loadDev reads the development rows of the corpus. Rows of any other split
// (the held-out one) are skipped as soon as their split column is read: no
// other field of theirs is kept, parsed or looked at.
func loadDev(t testing.TB) []devRow {
	t.Helper()
	f, err := os.Open("testdata/corpus.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []devRow
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 || strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.SplitN(line, "\t", 7)
		if len(f) != 7 {
			t.Fatalf("corpus line %d: %d fields", n, len(f))
		}
		if f[2] != "dev" {
			continue
		}
		lvl, err := ParseLevel(f[3])
		if err != nil {
			t.Fatalf("corpus line %d: %v", n, err)
		}
		num, err := strconv.Atoi(strings.TrimPrefix(f[0], "d"))
		if err != nil || !strings.HasPrefix(f[0], "d") {
			t.Fatalf("corpus line %d: dev id %q", n, f[0])
		}
		out = append(out, devRow{id: f[0], num: num, lang: f[1], level: lvl, cat: Category(f[4]), conv: f[5], text: f[6]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// devBatches are the first ids of the batches the development split was
// written in (testdata/README.md, History); a new batch adds its first id.
var devBatches = []int{1, 375, 495, 562, 774, 976, 1084, 1169, 1251, 1334, 1434, 1522, 2142, 2744, 3093, 3593, 4093, 4593, 5093, 5543, 6043, 6643, 7243, 7843, 8443, 8943, 9543, 10143, 10743, 11343, 11943, 12543, 13143, 13740, 14340, 14940, 15539, 16139, 16739, 17339, 17939, 18539, 19138, 19738, 20338, 20855, 21455, 22055, 22655, 23255, 23855, 24455, 25042, 25641, 26241, 26841}

func batchOf(num int) int {
	b := 0
	for i, start := range devBatches {
		if num >= start {
			b = i
		}
	}
	return b
}

// trainConfig is everything training needs besides the rows.
type trainConfig struct {
	feat     featConfig
	epochs   int
	eta      float64 // AdaGrad learning rate
	l2       float64 // L2 penalty, applied to the weights a sample touches
	negW     float64 // weight of a negative sample on the ordinal heads
	convRows string  // which conversation rows to train on: "none", "notctx", "first" (see trainable)
	seed     uint64
	// The decision (see chooseDecision): the folds whose out-of-fold scores
	// choose the margins, and what the margins are chosen for.
	folds     string  // "batch": one fold per writing batch (devBatches); "group5": 5 folds
	fprBudget float64 // out-of-fold false-positive rate allowed to the model
	overRate  float64 // share of the positive rows labelled below a head's level that the head may raise to it
	// highFPR is the share of the negative rows whose high head may reach
	// its margin (out of fold): a raise to high reaches a counselor.
	highFPR float64
	// lowerRate is the share of the positive rows the rules read as low or
	// moderate that the model may set aside (out of fold): the lower
	// margin is chosen for it.
	lowerRate float64
	// ctxRate is the share of the negative conversation rows after a row
	// labelled moderate or above whose low head may reach the context
	// margin (out of fold): the ctx margin is chosen for it.
	ctxRate float64
	floor   Level // the least level a raise gives
	ceiling Level // the most
}

// The configuration of the shipped model, chosen by cross-validation on the
// development split (see docs/decisions/0010-crisis-detection.md).
var shippedConfig = trainConfig{
	feat:      featConfig{bits: 18, minN: 2, maxN: 5, words: true, pairs: true, classes: true, skip: 5},
	epochs:    20,
	eta:       0.5,
	l2:        3e-4,
	negW:      1,
	convRows:  "notctx",
	seed:      1,
	folds:     "batch",
	fprBudget: 0.03,
	overRate:  0.05,
	lowerRate: 0.01,
	ctxRate:   0.2,
	highFPR:   0.005,
	floor:     LevelLow,
	ceiling:   LevelHigh, // imminent (an act under way) needs the rules' evidence
}

// example is a featurised row: sorted bucket indexes and their values.
type example struct {
	idx []uint32
	val []float64
	y   [nHeads]float64 // targets; y[headSelfHarm] only counts when pos
	pos bool
}

func featurize(cfg featConfig, text string) ([]uint32, []float64) {
	e := theEngine()
	var sc scratch
	sc.tokenize(text)
	e.buildUnits(&sc)
	cfg.features(e, &sc)
	mask := uint32(1)<<cfg.bits - 1
	fs := make([]uint32, len(sc.feats))
	for i, f := range sc.feats {
		fs[i] = f & mask
	}
	slices.Sort(fs)
	var idx []uint32
	var val []float64
	norm := 0.0
	if len(fs) > 0 {
		norm = 1 / math.Sqrt(float64(len(fs)))
	}
	for i := 0; i < len(fs); {
		j := i
		for j < len(fs) && fs[j] == fs[i] {
			j++
		}
		idx = append(idx, fs[i])
		val = append(val, float64(j-i)*norm)
		i = j
	}
	return idx, val
}

func makeExamples(cfg featConfig, rows []devRow) []example {
	out := make([]example, len(rows))
	for i, r := range rows {
		ex := example{pos: r.level > LevelNone}
		ex.idx, ex.val = featurize(cfg, r.text)
		for k := headLow; k <= headImminent; k++ {
			if r.level >= Level(k+1) {
				ex.y[k] = 1
			}
		}
		if r.cat == SelfHarm {
			ex.y[headSelfHarm] = 1
		}
		out[i] = ex
	}
	return out
}

// rng is splitmix64: a fixed, portable sequence for the shuffles.
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (r *rng) shuffle(p []int) {
	for i := len(p) - 1; i > 0; i-- {
		j := int(r.next() % uint64(i+1))
		p[i], p[j] = p[j], p[i]
	}
}

// expDet is e^x computed with plain IEEE operations only (no assembly, no
// fused multiply-add: every product is rounded by an explicit conversion),
// so training gives the same weights on every platform.
func expDet(x float64) float64 {
	if x > 40 {
		x = 40
	} else if x < -40 {
		x = -40
	}
	const ln2hi, ln2lo = 6.93147180369123816490e-01, 1.90821492927058770002e-10
	k := math.Round(x / math.Ln2)
	r := x - float64(k*ln2hi)
	r -= float64(k * ln2lo)
	// e^r for |r| <= ln2/2 by its Taylor series (Horner).
	p := 1.0 / 479001600 // 1/12!
	for _, c := range [...]float64{1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880, 1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1, 1} {
		p = float64(p*r) + c
	}
	return math.Ldexp(p, int(k))
}

func sigmoidDet(z float64) float64 { return 1 / (1 + expDet(-z)) }

// train fits the heads by logistic regression with AdaGrad and returns the
// quantised model (without a decision).
func train(cfg trainConfig, exs []example) *model {
	B := 1 << cfg.feat.bits
	w := make([]float64, B*nHeads)
	g2 := make([]float64, B*nHeads)
	var bias, gb [nHeads]float64
	order := make([]int, len(exs))
	for i := range order {
		order[i] = i
	}
	r := rng(cfg.seed)
	const eps = 1e-6
	for range cfg.epochs {
		r.shuffle(order)
		for _, i := range order {
			ex := &exs[i]
			for h := range nHeads {
				sw := 1.0
				if h == headSelfHarm {
					if !ex.pos {
						continue
					}
				} else if !ex.pos {
					sw = cfg.negW
				}
				z := bias[h]
				for j, f := range ex.idx {
					z += float64(w[int(f)*nHeads+h] * ex.val[j])
				}
				g := float64(sigmoidDet(z)-ex.y[h]) * sw
				for j, f := range ex.idx {
					k := int(f)*nHeads + h
					gr := float64(g*ex.val[j]) + float64(cfg.l2*w[k])
					g2[k] += float64(gr * gr)
					w[k] -= float64(cfg.eta*gr) / (math.Sqrt(g2[k]) + eps)
				}
				gb[h] += float64(g * g)
				bias[h] -= float64(cfg.eta*g) / (math.Sqrt(gb[h]) + eps)
			}
		}
	}
	m := &model{cfg: cfg.feat, w: make([]int8, B*nHeads)}
	for h := range nHeads {
		mx := 0.0
		for b := range B {
			mx = max(mx, math.Abs(w[b*nHeads+h]))
		}
		scale := mx / 127
		if scale == 0 {
			scale = 1
		}
		for b := range B {
			m.w[b*nHeads+h] = int8(math.Round(w[b*nHeads+h] / scale))
		}
		m.bias[h] = float32(bias[h])
		m.scale[h] = float32(scale)
	}
	return m
}

// folds assigns each row a fold: "batch" is one fold per writing batch (the
// closest the development split offers to phrasing not seen in training);
// "group5" is five folds of shuffled groups (a conversation is one group).
func folds(kind string, rows []devRow, seed uint64) ([]int, int) {
	f := make([]int, len(rows))
	switch kind {
	case "batch":
		for i, r := range rows {
			f[i] = batchOf(r.num)
		}
		return f, len(devBatches)
	case "group5":
		var groups []string
		gi := map[string]int{}
		for _, r := range rows {
			g := r.conv
			if g == "-" {
				g = r.id
			}
			if _, ok := gi[g]; !ok {
				gi[g] = len(groups)
				groups = append(groups, g)
			}
		}
		p := make([]int, len(groups))
		for i := range p {
			p[i] = i
		}
		rg := rng(seed)
		rg.shuffle(p)
		gf := make([]int, len(groups))
		for k, g := range p {
			gf[g] = k % 5
		}
		for i, r := range rows {
			g := r.conv
			if g == "-" {
				g = r.id
			}
			f[i] = gf[gi[g]]
		}
		return f, 5
	}
	panic("unknown folds " + kind)
}

// contextual reports the conversation rows whose label comes from the
// conversation rather than their own text: "highest bridge near me?" is
// labelled high after "I can't do this anymore" and would teach the model
// that the question alone is high. They are the rows the rules raise by
// context (the rules agree with every such label of the development split).
func contextual(rows []devRow) []bool {
	ctx := runDev(rows, func(i int) (Result, uint32) { return detectWith(rows[i].text, nil, nil) })
	out := make([]bool, len(rows))
	for i, r := range rows {
		if r.conv != "-" && hasSignal(ctx[i].Signals, "context:recent_risk") {
			alone, _ := detectWith(r.text, nil, nil)
			out[i] = ctx[i].Level > alone.Level
		}
	}
	return out
}

// trainable says which rows the model is trained on: every standalone row,
// and, unless cfg.convRows is "none", conversation rows whose text alone
// carries their label. "notctx" (the first rule) drops the rows the rules
// raise by context; "first" keeps only a conversation's first row and its
// rows labelled none: any later risky row may owe its label to the turns
// before it ("is the rooftop open at night" is high after "I wish I could
// disappear"), and training on it teaches the model that the question alone
// is risky.
func trainable(cfg trainConfig, rows []devRow) []bool {
	var ctx []bool
	if cfg.convRows == "notctx" {
		ctx = contextual(rows)
	}
	out := make([]bool, len(rows))
	prev := ""
	for i, r := range rows {
		first := r.conv != prev
		prev = r.conv
		switch {
		case r.conv == "-":
			out[i] = true
		case cfg.convRows == "notctx":
			out[i] = !ctx[i]
		case cfg.convRows == "first":
			out[i] = first || r.level == LevelNone
		}
	}
	return out
}

// rulesView is what the rules say about a row on its own.
type rulesView struct {
	level      Level
	suppressed bool // the rules read none, having set a trigger aside
}

func rulesOnly(text string) rulesView {
	r, _ := detectWith(text, nil, nil)
	return rulesView{r.Level, r.Level == LevelNone && len(r.Signals) > 0}
}

// oof returns out-of-fold margins for every row, and the fold models.
func oof(cfg trainConfig, rows []devRow, exs []example) ([][nHeads]float32, []*model, []int) {
	use := trainable(cfg, rows)
	fold, k := folds(cfg.folds, rows, cfg.seed)
	z := make([][nHeads]float32, len(rows))
	models := make([]*model, k)
	e := theEngine()
	// The folds train in parallel; each is deterministic on its own, so
	// the result does not depend on the schedule.
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for f := range next {
				var tr []example
				for i := range rows {
					if fold[i] != f && use[i] {
						tr = append(tr, exs[i])
					}
				}
				m := train(cfg, tr)
				models[f] = m
				for i := range rows {
					if fold[i] == f {
						var sc scratch
						sc.tokenize(rows[i].text)
						e.buildUnits(&sc)
						z[i] = m.scores(e, &sc)
					}
				}
			}
		})
	}
	for f := range k {
		next <- f
	}
	close(next)
	wg.Wait()
	return z, models, fold
}

// chooseDecision picks the margins from out-of-fold scores: the low head's
// is the least that keeps the out-of-fold false-positive rate of the model
// alone within fprBudget; each higher head k may raise at
// most overRate of the positive rows labelled below its level (a head above
// low only speaks once the low head found risk).
func chooseDecision(cfg trainConfig, rows []devRow, rv []rulesView, z [][nHeads]float32) decision {
	d := decision{floor: cfg.floor, ceiling: cfg.ceiling}
	// quantile is the least margin that at most rate of vals reach.
	quantile := func(vals []float32, rate float64) float32 {
		slices.Sort(vals)
		n := len(vals)
		allowed := int(math.Floor(rate * float64(n)))
		if allowed >= n {
			return float32(math.Inf(-1))
		}
		return math.Nextafter32(vals[n-1-allowed], float32(math.Inf(1)))
	}
	var neg []float32
	for i, r := range rows {
		if r.level == LevelNone {
			v := z[i][headLow]
			if rv[i].suppressed { // never raised (decision.combine)
				v = float32(math.Inf(-1))
			}
			neg = append(neg, v)
		}
	}
	d.raise[headLow] = quantile(neg, cfg.fprBudget)
	for k := headModerate; k <= headImminent; k++ {
		var below []float32
		for i, r := range rows {
			if r.level > LevelNone && r.level < Level(k+1) {
				below = append(below, z[i][k])
			}
		}
		d.raise[k] = quantile(below, cfg.overRate)
	}
	// A raise to high opens an event for the counselor: of the negatives,
	// at most highFPR may reach the high head's margin (out of fold).
	var negHigh []float32
	for i, r := range rows {
		if r.level == LevelNone {
			negHigh = append(negHigh, z[i][headHigh])
		}
	}
	d.raise[headHigh] = max(d.raise[headHigh], quantile(negHigh, cfg.highFPR))
	// lower: at most lowerRate of the positives the rules read as low or
	// moderate fall under it.
	var ruled []float32
	for i, r := range rows {
		if r.level > LevelNone && (rv[i].level == LevelLow || rv[i].level == LevelModerate) {
			ruled = append(ruled, z[i][headLow])
		}
	}
	// ctx: at most ctxRate of the harmless conversation rows that follow a
	// row labelled moderate or above (within ContextTurns) reach it. The
	// pool also holds rows the context raise leaves alone (a trigger the
	// rules set aside, a reading of moderate or above), so fewer than
	// ctxRate of the harmless follow-ups are raised: the error is on the
	// side of fewer notices.
	var after []float32
	risky := map[string]int{} // conversation: index of its last row labelled moderate or above
	seen := map[string]int{}  // conversation: rows so far
	for i, r := range rows {
		if r.conv == "-" {
			continue
		}
		last, ok := risky[r.conv]
		if r.level == LevelNone && ok && seen[r.conv]-last <= ContextTurns {
			after = append(after, z[i][headLow])
		}
		if r.level >= LevelModerate {
			risky[r.conv] = seen[r.conv]
		}
		seen[r.conv]++
	}
	d.ctx = float32(math.Inf(1))
	if len(after) > 0 {
		d.ctx = quantile(after, cfg.ctxRate)
	}
	d.lower = float32(math.Inf(-1))
	if len(ruled) > 0 {
		slices.Sort(ruled)
		d.lower = ruled[int(math.Floor(cfg.lowerRate*float64(len(ruled))))]
	}
	return d
}

// trainShipped trains the shipped model: decision by cross-validation, then
// the weights on the whole development split.
func trainShipped(t testing.TB, cfg trainConfig) *model {
	rows := loadDev(t)
	exs := makeExamples(cfg.feat, rows)
	rv := make([]rulesView, len(rows))
	for i, r := range rows {
		rv[i] = rulesOnly(r.text)
	}
	z, _, _ := oof(cfg, rows, exs)
	d := chooseDecision(cfg, rows, rv, z)
	var tr []example
	use := trainable(cfg, rows)
	for i := range rows {
		if use[i] {
			tr = append(tr, exs[i])
		}
	}
	m := train(cfg, tr)
	m.dec = d
	return m
}

// TestModelWeights retrains the model and checks that the embedded weights
// are exactly the result; with -update (go generate) it writes them.
func TestModelWeights(t *testing.T) {
	if !*updateModel && os.Getenv("CRISIS_RETRAIN") == "" {
		t.Skip("retraining takes a minute: set CRISIS_RETRAIN=1 (.ci/run does)")
	}
	start := time.Now()
	m := trainShipped(t, shippedConfig)
	b := m.encode()
	sum := sha256.Sum256(b)
	t.Logf("trained in %v: %d bytes, sha256 %s, decision %+v", time.Since(start).Round(time.Millisecond), len(b), hex.EncodeToString(sum[:]), m.dec)
	if *updateModel {
		if err := os.WriteFile("model.bin", b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(b, modelFile) {
		got := sha256.Sum256(modelFile)
		t.Fatalf("embedded model.bin (sha256 %s) is not what training on the development split gives (%s): run go generate ./internal/persona/crisis/",
			hex.EncodeToString(got[:]), hex.EncodeToString(sum[:]))
	}
	dm, err := decodeModel(b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dm.w, m.w) || dm.dec != m.dec || dm.bias != m.bias || dm.scale != m.scale || dm.cfg != m.cfg {
		t.Fatal("model does not survive encode/decode")
	}
}

// runDev assesses the rows like runCorpus (conversations in file order, a
// minute apart), with det giving each row's standalone assessment.
func runDev(rows []devRow, det func(i int) (Result, uint32)) []Result {
	convs := map[string]*Conversation{}
	clock := map[string]time.Time{}
	base := time.Date(2025, 3, 1, 21, 0, 0, 0, time.UTC)
	out := make([]Result, len(rows))
	for i, r := range rows {
		res, cues := det(i)
		if r.conv == "-" {
			out[i] = res
			continue
		}
		c := convs[r.conv]
		if c == nil {
			c = &Conversation{}
			convs[r.conv] = c
			clock[r.conv] = base
		}
		clock[r.conv] = clock[r.conv].Add(time.Minute)
		out[i] = c.apply(res, cues, clock[r.conv])
	}
	return out
}

func asSamples(rows []devRow) []sample {
	out := make([]sample, len(rows))
	for i, r := range rows {
		out[i] = sample{id: r.id, lang: r.lang, split: "dev", level: r.level, cat: r.cat, conv: r.conv, text: r.text}
	}
	return out
}

// cvReport evaluates cfg by cross-validation on the development split: the
// rules alone, the model alone (out of fold), and the combination
// (out of fold, with the decision chosen from the out-of-fold scores).
func cvReport(t *testing.T, cfg trainConfig, detail bool) (combined, alone metrics) {
	rows := loadDev(t)
	exs := makeExamples(cfg.feat, rows)
	rv := make([]rulesView, len(rows))
	for i, r := range rows {
		rv[i] = rulesOnly(r.text)
	}
	z, models, fold := oof(cfg, rows, exs)
	d := chooseDecision(cfg, rows, rv, z)
	samples := asSamples(rows)
	rules := runDev(rows, func(i int) (Result, uint32) { return detectWith(rows[i].text, nil, nil) })
	modelAlone := runDev(rows, func(i int) (Result, uint32) {
		lvl, cat, _ := d.combine(z[i], LevelNone, false)
		if lvl == LevelNone {
			cat = CategoryNone
		}
		return Result{Level: lvl, Category: cat}, 0
	})
	comb := runDev(rows, func(i int) (Result, uint32) {
		return detectWith(rows[i].text, models[fold[i]], &d)
	})
	// Nested: each fold's rows are decided by margins chosen from the other
	// folds' out-of-fold scores only, so the thresholds are not fitted to the
	// rows they are measured on.
	nf := 0
	for _, f := range fold {
		nf = max(nf, f+1)
	}
	dFold := make([]decision, nf)
	for f := range nf {
		var r2 []devRow
		var rv2 []rulesView
		var z2 [][nHeads]float32
		for i := range rows {
			if fold[i] != f {
				r2, rv2, z2 = append(r2, rows[i]), append(rv2, rv[i]), append(z2, z[i])
			}
		}
		dFold[f] = chooseDecision(cfg, r2, rv2, z2)
	}
	nested := runDev(rows, func(i int) (Result, uint32) {
		return detectWith(rows[i].text, models[fold[i]], &dFold[fold[i]])
	})
	all := func(sample) bool { return true }
	alone = computeMetrics(samples, modelAlone, all)
	combined = computeMetrics(samples, comb, all)
	t.Logf("config %+v", cfg)
	t.Logf("decision %+v", d)
	// Head quality: AUC of each ordinal head out of fold.
	var aucs []string
	for k := headLow; k <= headImminent; k++ {
		var p, n []float32
		for i, r := range rows {
			if r.level >= Level(k+1) {
				p = append(p, z[i][k])
			} else {
				n = append(n, z[i][k])
			}
		}
		aucs = append(aucs, fmt.Sprintf("%s %.4f", Level(k+1), auc(p, n)))
	}
	t.Logf("out-of-fold AUC per head: %s", strings.Join(aucs, ", "))
	if !detail {
		t.Logf("model alone: %s", alone)
		t.Logf("combined:    %s", combined)
		return
	}
	for _, v := range []struct {
		name string
		got  []Result
	}{{"rules", rules}, {"model", modelAlone}, {"combined", comb}, {"nested", nested}} {
		for _, lang := range []string{"", "id", "en", "mixed"} {
			keep := func(s sample) bool { return lang == "" || s.lang == lang }
			name := lang
			if name == "" {
				name = "all"
			}
			t.Logf("%-8s %-5s %s", v.name, name, computeMetrics(samples, v.got, keep))
		}
		var per []string
		for lv := LevelNone; lv <= LevelImminent; lv++ {
			n, hit, mod, exact := 0, 0, 0, 0
			for i, r := range rows {
				if r.level != lv {
					continue
				}
				n++
				g := v.got[i].Level
				if g > LevelNone {
					hit++
				}
				if g >= LevelModerate {
					mod++
				}
				if g == lv {
					exact++
				}
			}
			if lv == LevelNone {
				per = append(per, fmt.Sprintf("none: flagged %d/%d", hit, n))
			} else {
				per = append(per, fmt.Sprintf("%s: detected %.3f, >=moderate %.3f, exact %.3f (n=%d)", lv, float64(hit)/float64(n), float64(mod)/float64(n), float64(exact)/float64(n), n))
			}
		}
		t.Logf("%-8s per level: %s", v.name, strings.Join(per, "; "))
		// Per batch: the batches are the closest thing to new phrasing.
		var pb []string
		for b := range devBatches {
			m := computeMetrics(samples, v.got, func(s sample) bool {
				n, _ := strconv.Atoi(strings.TrimPrefix(s.id, "d"))
				return batchOf(n) == b
			})
			pb = append(pb, fmt.Sprintf("d%d: %.3f/%.3f/%.3f", devBatches[b], m.recall, m.recallMod, m.fpr))
		}
		t.Logf("%-8s per batch (recall/mod+/FPR): %s", v.name, strings.Join(pb, " "))
	}
	// Hard negatives: negatives in which the rules set a trigger aside, or
	// that name an idiom, news, a game, a negation or a third person.
	e := theEngine()
	hard, hardFP := 0, 0
	var fps []string
	for i, r := range rows {
		if r.level != LevelNone {
			continue
		}
		var sc scratch
		sc.tokenize(r.text)
		e.buildUnits(&sc)
		var msg classSet
		for _, u := range sc.units {
			msg.or(&u.set)
		}
		isHard := rv[i].suppressed
		for _, c := range []int{e.cIDIOM, e.cNEWS, e.cGAME, e.cNEG, e.cTHIRD, e.cYOU, e.cLYRIC, e.cBENIGN, e.cHYPER} {
			if msg.has(c) {
				isHard = true
			}
		}
		if isHard {
			hard++
			if comb[i].Level > LevelNone {
				hardFP++
			}
		}
		if comb[i].Level > LevelNone {
			fps = append(fps, fmt.Sprintf("%s %v %q", r.id, comb[i].Signals, r.text))
		}
	}
	t.Logf("hard negatives flagged by the combination: %d/%d", hardFP, hard)
	for _, s := range fps {
		t.Logf("false positive (out of fold): %s", s)
	}
	return
}

func auc(p, n []float32) float64 {
	if len(p) == 0 || len(n) == 0 {
		return math.NaN()
	}
	type sv struct {
		v   float32
		pos bool
	}
	all := make([]sv, 0, len(p)+len(n))
	for _, v := range p {
		all = append(all, sv{v, true})
	}
	for _, v := range n {
		all = append(all, sv{v, false})
	}
	slices.SortFunc(all, func(a, b sv) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	// Rank sum with ties averaged.
	rankSum := 0.0
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		r := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			if all[k].pos {
				rankSum += r
			}
		}
		i = j
	}
	np, nn := float64(len(p)), float64(len(n))
	return (rankSum - np*(np+1)/2) / (np * nn)
}

// TestModelCV prints the cross-validated development numbers of the shipped
// configuration (set CRISIS_CV=1; it reads the development split only).
// CRISIS_CV_FOLDS=group5, CRISIS_CV_FLOOR=moderate, CRISIS_CV_LOWER=0.01 and
// CRISIS_CV_BUDGET=0.02 evaluate alternatives.
func TestModelCV(t *testing.T) {
	if os.Getenv("CRISIS_CV") == "" {
		t.Skip("set CRISIS_CV=1")
	}
	cfg := shippedConfig
	if f := os.Getenv("CRISIS_CV_FOLDS"); f != "" {
		cfg.folds = f
	}
	if f := os.Getenv("CRISIS_CV_FLOOR"); f != "" {
		l, err := ParseLevel(f)
		if err != nil {
			t.Fatal(err)
		}
		cfg.floor = l
	}
	if f := os.Getenv("CRISIS_CV_LOWER"); f != "" {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatal(err)
		}
		cfg.lowerRate = v
	}
	if f := os.Getenv("CRISIS_CV_BUDGET"); f != "" {
		b, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatal(err)
		}
		cfg.fprBudget = b
	}
	cvReport(t, cfg, true)
}
