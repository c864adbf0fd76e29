package crisis

import (
	"os"
	"testing"
)

// TestModelGrid compares training configurations, each a change of the
// shipped one, by cross-validation on the development split (set
// CRISIS_GRID=1; CRISIS_CV_FOLDS=group5 for five folds instead of the writing
// batches). For each: the out-of-fold AUC of the four ordinal heads, and the
// recall (all levels / moderate and above) of the low head alone at the
// margin that gives an out-of-fold false-positive rate of 0.01, 0.03, 0.05.
func TestModelGrid(t *testing.T) {
	if os.Getenv("CRISIS_GRID") == "" {
		t.Skip("set CRISIS_GRID=1")
	}
	base := shippedConfig
	if f := os.Getenv("CRISIS_CV_FOLDS"); f != "" {
		base.folds = f
	}
	type v struct {
		name string
		mod  func(*trainConfig)
	}
	vars := []v{
		{"shipped", func(*trainConfig) {}},
		{"seed=2", func(c *trainConfig) { c.seed = 2 }},
		{"seed=3", func(c *trainConfig) { c.seed = 3 }},
		{"bits=17", func(c *trainConfig) { c.feat.bits = 17 }},
		{"bits=18", func(c *trainConfig) { c.feat.bits = 18 }},
		{"ngram1-4", func(c *trainConfig) { c.feat.minN, c.feat.maxN = 1, 4 }},
		{"ngram2-4", func(c *trainConfig) { c.feat.minN, c.feat.maxN = 2, 4 }},
		{"ngram3-5", func(c *trainConfig) { c.feat.minN, c.feat.maxN = 3, 5 }},
		{"no-ngrams", func(c *trainConfig) { c.feat.minN, c.feat.maxN = 0, 0 }},
		{"no-words", func(c *trainConfig) { c.feat.words = false }},
		{"no-pairs", func(c *trainConfig) { c.feat.pairs = false }},
		{"no-classes", func(c *trainConfig) { c.feat.classes = false }},
		{"skip=0", func(c *trainConfig) { c.feat.skip = 0 }},
		{"skip=0,no-cls", func(c *trainConfig) { c.feat.skip, c.feat.classes = 0, false }},
		{"skip=1", func(c *trainConfig) { c.feat.skip = 1 }},
		{"skip=2", func(c *trainConfig) { c.feat.skip = 2 }},
		{"skip=4", func(c *trainConfig) { c.feat.skip = 4 }},
		{"epochs=10", func(c *trainConfig) { c.epochs = 10 }},
		{"epochs=40", func(c *trainConfig) { c.epochs = 40 }},
		{"eta=0.2", func(c *trainConfig) { c.eta = 0.2 }},
		{"eta=1", func(c *trainConfig) { c.eta = 1 }},
		{"l2=0", func(c *trainConfig) { c.l2 = 0 }},
		{"l2=1e-3", func(c *trainConfig) { c.l2 = 1e-3 }},
		{"negW=2", func(c *trainConfig) { c.negW = 2 }},
		{"no-conv-rows", func(c *trainConfig) { c.convRows = "none" }},
		{"conv-rows-first", func(c *trainConfig) { c.convRows = "first" }},
	}
	for _, x := range vars {
		cfg := base
		x.mod(&cfg)
		rows := loadDev(t)
		exs := makeExamples(cfg.feat, rows)
		rv := make([]rulesView, len(rows))
		for i, r := range rows {
			rv[i] = rulesOnly(r.text)
		}
		z, _, _ := oof(cfg, rows, exs)
		aucs := [4]float64{}
		for k := headLow; k <= headImminent; k++ {
			var p, n []float32
			for i, r := range rows {
				if r.level >= Level(k+1) {
					p = append(p, z[i][k])
				} else {
					n = append(n, z[i][k])
				}
			}
			aucs[k] = auc(p, n)
		}
		// recall of the low head at out-of-fold FPR 0.01, 0.03, 0.05
		var recs []float64
		for _, fpr := range []float64{0.01, 0.03, 0.05} {
			c := cfg
			c.fprBudget = fpr
			d := chooseDecision(c, rows, rv, z)
			tp, pos, mtp, mpos := 0, 0, 0, 0
			for i, r := range rows {
				if r.level == LevelNone {
					continue
				}
				pos++
				hit := z[i][headLow] >= d.raise[headLow]
				if hit {
					tp++
				}
				if r.level >= LevelModerate {
					mpos++
					if hit {
						mtp++
					}
				}
			}
			recs = append(recs, float64(tp)/float64(pos), float64(mtp)/float64(mpos))
		}
		t.Logf("%-10s AUC %.4f %.4f %.4f %.4f  recall@FPR.01 %.3f/%.3f  @.03 %.3f/%.3f  @.05 %.3f/%.3f", x.name, aucs[0], aucs[1], aucs[2], aucs[3], recs[0], recs[1], recs[2], recs[3], recs[4], recs[5])
	}
}
