package crisis

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestExplain prints how CRISIS_EXPLAIN is read (a debugging aid).
func TestExplain(t *testing.T) {
	s := os.Getenv("CRISIS_EXPLAIN")
	if s == "" {
		t.Skip("set CRISIS_EXPLAIN")
	}
	t.Log(explain(s))
	rules, _ := detectWith(s, nil, nil)
	t.Logf("rules alone: %+v", rules)
	var sc scratch
	sc.tokenize(s)
	theEngine().buildUnits(&sc)
	m := theModel()
	t.Logf("model margins (low, moderate, high, imminent, self-harm): %v; decision %+v", m.scores(theEngine(), &sc), m.dec)
	t.Logf("%+v", Detect(s))
}

// explain describes how text was read, for tests and debugging.
func explain(text string) string {
	e := theEngine()
	var sc scratch
	sc.tokenize(text)
	e.buildUnits(&sc)
	var b strings.Builder
	for _, u := range sc.units {
		if u.brk {
			b.WriteString("| ")
		}
		var names []string
		for c := range len(e.names) {
			if u.set.has(c) {
				names = append(names, e.names[c])
			}
		}
		fmt.Fprintf(&b, "[%s] ", strings.Join(names, ","))
	}
	b.WriteString("\ntokens:")
	for _, t := range sc.toks {
		fmt.Fprintf(&b, " %q", string(sc.buf[t.start:t.end]))
	}
	return b.String()
}
