package crisis

import (
	"math/bits"
	"strconv"
	"strings"
	"sync"
)

// classSet is a bit set of lexicon classes (named classes and the literal
// words of the rules).
type classSet [8]uint64

const maxClasses = len(classSet{}) * 64

func (s *classSet) add(c int)      { s[c>>6] |= 1 << (c & 63) }
func (s *classSet) has(c int) bool { return s[c>>6]&(1<<(c&63)) != 0 }
func (s *classSet) or(o *classSet) {
	for i := range s {
		s[i] |= o[i]
	}
}
func (s *classSet) hits(o *classSet) bool {
	for i := range s {
		if s[i]&o[i] != 0 {
			return true
		}
	}
	return false
}

// sparseSet is a classSet as its non-zero words: a rule's sets name a few
// classes, so testing them touches one or two words instead of all.
type sparseSet []sparseWord

type sparseWord struct {
	w int
	m uint64
}

func sparseOf(s *classSet) sparseSet {
	var out sparseSet
	for i, m := range s {
		if m != 0 {
			out = append(out, sparseWord{i, m})
		}
	}
	return out
}

// hitsAny reports whether s has a class of o.
func (s *classSet) hitsAny(o sparseSet) bool {
	for _, x := range o {
		if s[x.w]&x.m != 0 {
			return true
		}
	}
	return false
}

// lexNode is a node of the phrase trie; edges are normalised words, "#" for
// any number.
type lexNode struct {
	next map[string]*lexNode
	set  classSet
	term bool
}

// unit is a word or a lexicon phrase of the message.
type unit struct {
	set classSet
	brk bool // starts a clause
}

type slotKind uint8

const (
	slotUnit slotKind = iota
	slotEnd           // $
	slotNot           // !x|y
)

type slot struct {
	set  classSet
	sp   sparseSet // set, sparse
	kind slotKind
	opt  bool
	gap  uint8
}

type ruleFlags uint16

const (
	fSelfNeg ruleFlags = 1 << iota
	fAnySubj
	fNeedSelf
	fSlang
	fHyper
	fNoHist
	fHistAttempt
	fAct
)

type rule struct {
	slots  []slot
	head   int
	level  Level
	cat    Category
	signal string
	flags  ruleFlags
	cue    int // index into engine.cues, -1 when not a cue
	needs  []sparseSet
	unless sparseSet
	after  sparseSet   // notafter
	req    []sparseSet // the required word slots after the first: a message without one cannot match
	src    string
}

// engine holds everything compiled from the lexicon and the rules.
type engine struct {
	classID map[string]int
	names   []string
	root    *lexNode
	rules   []rule
	first   [][]int32 // class -> rules whose first slot accepts it
	cues    []string
	signals map[string]bool // every signal Detect can emit
	method  []struct {
		class  int
		signal string
	}

	// named classes used by the code
	cI1, cYOU, cTHIRD, cREPORT, cNEG, cTRANSP, cCONJ, cFILLER, cDESIRE, cINTENT, cPLAN, cURGE,
	cHYPER, cLAUGH, cLYRIC, cGAME, cNEWS, cBENIGN, cHISTPRE, cHISTPOST, cTIMEFUT, cIDIOM,
	cNUM, cQUANT, cKILLSELF, cTOPIC, cENDIT, cSHTOPIC, cSUICIDAL, cKMS, cNOBODY, cSERIOUS,
	cDECIDED, cPREPALL int

	// suffixable are the classes a word keeps under an Indonesian possessive
	// suffix ("adekku", "lenganku", "talinya").
	suffixable classSet
	// typo holds the anchor words that tolerate one slip, by first byte.
	typo [256][]string

	// nNamed is the number of named lexicon classes (ids 0..nNamed-1; the
	// rules' literal words come after); classHash is the model feature of
	// each.
	nNamed    int
	classHash []uint32
}

var (
	engOnce sync.Once
	eng     *engine
)

func theEngine() *engine {
	engOnce.Do(func() { eng = compile() })
	return eng
}

// splitList splits a comma-separated phrase list.
func splitList(s string) []string {
	parts := strings.Split(s, ",")
	out := parts[:0]
	for _, p := range parts {
		p = strings.Join(strings.Fields(p), " ")
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// phraseKeys normalises a lexicon phrase into trie keys.
func phraseKeys(p string) []string {
	var keys []string
	for _, w := range strings.Fields(p) {
		if w == "#" || strings.HasPrefix(w, "_") {
			keys = append(keys, w)
			continue
		}
		var sc scratch
		sc.tokenize(w)
		for _, t := range sc.toks {
			if t.num >= 0 {
				keys = append(keys, "#")
			} else {
				keys = append(keys, string(sc.buf[t.start:t.end]))
			}
		}
	}
	return keys
}

func compile() *engine {
	e := &engine{classID: map[string]int{}, root: &lexNode{}, signals: map[string]bool{}}
	type entry struct {
		class int
		keys  []string
	}
	var entries []entry
	addClass := func(name string) int {
		if id, ok := e.classID[name]; ok {
			return id
		}
		id := len(e.names)
		if id >= maxClasses {
			panic("crisis: too many lexicon classes; grow classSet")
		}
		e.classID[name] = id
		e.names = append(e.names, name)
		return id
	}
	for _, l := range lexicon {
		id := addClass(l.class)
		for _, p := range splitList(l.phrases) {
			keys := phraseKeys(p)
			if len(keys) == 0 {
				panic("crisis: empty phrase in class " + l.class)
			}
			entries = append(entries, entry{id, keys})
		}
	}
	for _, n := range []string{"NUM"} {
		addClass(n)
	}
	e.nNamed = len(e.names)
	for _, n := range e.names {
		e.classHash = append(e.classHash, fnvByte(fnvString(fnvOffset, n), featClass))
	}
	must := func(name string) int {
		id, ok := e.classID[name]
		if !ok {
			panic("crisis: unknown class " + name)
		}
		return id
	}
	e.cI1, e.cYOU, e.cTHIRD, e.cREPORT = must("I1"), must("YOU"), must("THIRD"), must("REPORT")
	e.cNEG, e.cTRANSP, e.cCONJ, e.cFILLER = must("NEG"), must("TRANSP"), must("CONJ"), must("FILLER")
	e.cDESIRE, e.cINTENT, e.cPLAN, e.cURGE = must("DESIRE"), must("INTENT"), must("PLAN"), must("URGE")
	e.cHYPER, e.cLAUGH, e.cLYRIC, e.cGAME = must("HYPER"), must("LAUGH"), must("LYRIC"), must("GAME")
	e.cNEWS, e.cBENIGN, e.cHISTPRE, e.cHISTPOST = must("NEWS"), must("BENIGN"), must("HISTPRE"), must("HISTPOST")
	e.cTIMEFUT, e.cIDIOM, e.cNUM, e.cQUANT = must("TIMEFUT"), must("IDIOM"), must("NUM"), must("QUANT")
	e.cKILLSELF, e.cTOPIC, e.cENDIT, e.cSHTOPIC = must("KILLSELF"), must("TOPIC"), must("ENDIT"), must("SHTOPIC")
	e.cSUICIDAL, e.cKMS = must("SUICIDAL"), must("KMS")
	e.cNOBODY, e.cSERIOUS, e.cDECIDED, e.cPREPALL = must("NOBODY"), must("SERIOUS"), must("DECIDED"), must("PREPALL")
	for _, c := range splitList(suffixClasses) {
		e.suffixable.add(must(c))
	}
	for _, w := range splitList(typoAnchors) {
		keys := phraseKeys(w)
		if len(keys) != 1 || len(keys[0]) < minTypoAnchor {
			panic("crisis: bad typo anchor " + w)
		}
		e.typo[keys[0][0]] = append(e.typo[keys[0][0]], keys[0])
	}
	for _, m := range methodSignals {
		e.method = append(e.method, struct {
			class  int
			signal string
		}{must(m.class), m.signal})
		e.signals[m.signal] = true
	}

	// Rules; their literal words become classes too.
	parseAlts := func(s, src string) classSet {
		var set classSet
		for _, a := range strings.Split(s, "|") {
			if a == "" {
				panic("crisis: empty alternative in rule " + src)
			}
			if strings.HasPrefix(a, "@") {
				set.add(must(a[1:]))
				continue
			}
			keys := phraseKeys(strings.ReplaceAll(a, "+", " "))
			if len(keys) == 0 {
				panic("crisis: literal normalises to nothing in rule " + src)
			}
			name := "=" + strings.Join(keys, " ")
			_, seen := e.classID[name]
			id := addClass(name)
			if !seen {
				entries = append(entries, entry{id, keys})
			}
			set.add(id)
		}
		return set
	}
	for _, rs := range ruleSpecs {
		r := rule{level: rs.level, cat: SuicidalIdeation, signal: rs.signal, cue: -1, head: -1, src: rs.pat}
		gap := uint8(0)
		for _, f := range strings.Fields(rs.pat) {
			if strings.HasPrefix(f, "~") {
				n, err := strconv.Atoi(f[1:])
				if err != nil || n < 0 || n > 8 {
					panic("crisis: bad gap in rule " + rs.pat)
				}
				gap = uint8(n)
				continue
			}
			s := slot{gap: gap}
			gap = 0
			if strings.HasPrefix(f, "^") {
				r.head = len(r.slots)
				f = f[1:]
			}
			switch {
			case f == "$":
				s.kind = slotEnd
			case strings.HasPrefix(f, "!"):
				s.kind = slotNot
				s.set = parseAlts(f[1:], rs.pat)
			default:
				if strings.HasSuffix(f, "?") {
					s.opt = true
					f = strings.TrimSuffix(f, "?")
				}
				s.set = parseAlts(f, rs.pat)
			}
			r.slots = append(r.slots, s)
		}
		if len(r.slots) == 0 || r.slots[0].kind != slotUnit || r.slots[0].opt {
			panic("crisis: a rule must start with a required word slot: " + rs.pat)
		}
		if r.head < 0 {
			for i := len(r.slots) - 1; i >= 0; i-- {
				if r.slots[i].kind == slotUnit && !r.slots[i].opt {
					r.head = i
					break
				}
			}
		}
		if h := r.slots[r.head]; h.kind != slotUnit || h.opt {
			panic("crisis: the head must be a required word slot: " + rs.pat)
		}
		var after, unless classSet
		for _, o := range strings.Fields(rs.opts) {
			k, v, _ := strings.Cut(o, "=")
			switch k {
			case "selfneg":
				r.flags |= fSelfNeg
			case "anysubj":
				r.flags |= fAnySubj
			case "needself":
				r.flags |= fNeedSelf
			case "slang":
				r.flags |= fSlang
			case "hyper":
				r.flags |= fHyper
			case "nohist":
				r.flags |= fNoHist
			case "histattempt":
				r.flags |= fHistAttempt
			case "act":
				r.flags |= fAct
			case "notafter":
				for _, c := range strings.Split(v, ",") {
					after.add(must(c))
				}
			case "cat":
				if v != "sh" {
					panic("crisis: bad category option in rule " + rs.pat)
				}
				r.cat = SelfHarm
			case "cue":
				r.cue = len(e.cues)
				for i, c := range e.cues {
					if c == v {
						r.cue = i
					}
				}
				if r.cue == len(e.cues) {
					e.cues = append(e.cues, v)
				}
				e.signals[v] = true
			case "needs", "needs2":
				var set classSet
				for _, c := range strings.Split(v, ",") {
					set.add(must(c))
				}
				r.needs = append(r.needs, sparseOf(&set))
			case "unless":
				for _, c := range strings.Split(v, ",") {
					unless.add(must(c))
				}
			default:
				panic("crisis: unknown rule option " + o)
			}
		}
		r.after, r.unless = sparseOf(&after), sparseOf(&unless)
		for i := range r.slots {
			sl := &r.slots[i]
			sl.sp = sparseOf(&sl.set)
			if i > 0 && sl.kind == slotUnit && !sl.opt {
				r.req = append(r.req, sl.sp)
			}
		}
		if r.level == LevelNone && r.cue < 0 {
			panic("crisis: a none rule must be a cue: " + rs.pat)
		}
		if r.signal != "" {
			e.signals[r.signal] = true
		}
		e.rules = append(e.rules, r)
	}
	if len(e.cues) > 31 { // bit 31 is cueModel
		panic("crisis: too many cues")
	}

	// The trie.
	for _, en := range entries {
		n := e.root
		for _, k := range en.keys {
			if n.next == nil {
				n.next = map[string]*lexNode{}
			}
			c := n.next[k]
			if c == nil {
				c = &lexNode{}
				n.next[k] = c
			}
			n = c
		}
		n.term = true
		n.set.add(en.class)
	}
	// A phrase made only of transparent words ("want to", "going to") is
	// transparent for the negation scope.
	for _, en := range entries {
		if len(en.keys) < 2 {
			continue
		}
		all := true
		for _, k := range en.keys {
			c := e.root.next[k]
			if c == nil || !c.term || !c.set.has(e.cTRANSP) {
				all = false
				break
			}
		}
		if all {
			e.lookup(en.keys).set.add(e.cTRANSP)
		}
	}

	e.first = make([][]int32, len(e.names))
	for i, r := range e.rules {
		s := r.slots[0].set
		for c := range len(e.names) {
			if s.has(c) {
				e.first[c] = append(e.first[c], int32(i))
			}
		}
	}
	for _, s := range []string{"negated", "third_person", "directed_at_other", "hyperbole", "gaming", "quoted",
		"history", "past_attempt", "intent:time", "bare_mention", "context:recent_risk", "refined", "model"} {
		e.signals[s] = true
	}
	return e
}

func (e *engine) lookup(keys []string) *lexNode {
	n := e.root
	for _, k := range keys {
		n = n.next[k]
	}
	return n
}

// scratch is the per-call working memory, pooled.
type scratch struct {
	buf        []byte
	toks       []token
	units      []unit
	sigs       []string
	supp       []string
	seen       []uint64
	feats      []uint32
	named      []int32
	namedAt    []int32
	cur        int
	pendingBrk bool
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// maxSlots bounds the slots of a rule.
const maxSlots = 12

// detect assesses text with the rules and the embedded model, and also
// reports the context cues it contains (a bit per engine.cues entry, and
// cueModel).
func detect(text string) (Result, uint32) {
	m := theModel()
	return detectWith(text, m, &m.dec)
}

// detectWith is detect with model m deciding by d; a nil m is the rules
// alone.
func detectWith(text string, m *model, d *decision) (Result, uint32) {
	e := theEngine()
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.tokenize(text)
	lang := sc.language()
	e.buildUnits(sc)
	units := sc.units
	var msg classSet
	for i := range units {
		msg.or(&units[i].set)
	}

	sc.sigs = sc.sigs[:0]
	sc.supp = sc.supp[:0]
	best, bestCat := LevelNone, CategoryNone
	var cues uint32
	words := (len(e.rules) + 63) / 64
	if cap(sc.seen) < words {
		sc.seen = make([]uint64, words)
	}
	seen := sc.seen[:words]
	var pos [maxSlots]int
	for p := range units {
		clear(seen)
		set := &units[p].set
		for w, word := range set {
			for word != 0 {
				c := w*64 + bits.TrailingZeros64(word)
				word &= word - 1
				for _, ri := range e.first[c] {
					if seen[ri>>6]&(1<<(ri&63)) != 0 {
						continue
					}
					seen[ri>>6] |= 1 << (ri & 63)
					r := &e.rules[ri]
					if !r.applies(&msg) {
						continue
					}
					end, ok := matchSlots(r.slots, 0, p, units, &pos)
					if !ok {
						continue
					}
					lvl, cat, sig, ok := e.evaluate(sc, r, &msg, pos[0], pos[r.head], end)
					if !ok {
						continue
					}
					if r.cue >= 0 {
						cues |= 1 << r.cue
					}
					if lvl == LevelNone {
						continue
					}
					sc.addSig(r.signal)
					sc.addSig(sig)
					if lvl > best || lvl == best && cat == SuicidalIdeation {
						best, bestCat = lvl, cat
					}
				}
			}
		}
	}
	if best == LevelNone && len(sc.supp) == 0 {
		if cat, ok := e.bareMention(units, &msg); ok {
			best, bestCat = LevelModerate, cat
			sc.addSig("bare_mention")
		}
	}
	if m != nil && best < LevelHigh {
		z := m.scores(e, sc)
		if z[headLow] >= d.ctx {
			cues |= cueModel
		}
		if lvl, cat, ok := d.combine(z, best, len(sc.supp) > 0); ok {
			if lvl == LevelNone {
				// Set aside by the model: the rules' signals stay visible
				// as set aside.
				for _, s := range sc.sigs {
					sc.addSupp(s)
				}
				sc.addSupp("model")
			} else {
				// The triggers the rules set aside, if any, stay visible.
				for _, s := range sc.supp {
					sc.addSig(s)
				}
				sc.addSig("model")
			}
			best, bestCat = lvl, cat
		}
	}
	res := Result{Level: best, Category: bestCat, Language: lang}
	if best == LevelNone {
		res.Category = CategoryNone
		if len(sc.supp) > 0 {
			res.Signals = append([]string(nil), sc.supp...)
		}
	} else if len(sc.sigs) > 0 {
		res.Signals = append([]string(nil), sc.sigs...)
	}
	return res, cues
}

func (sc *scratch) addSig(s string) {
	if s == "" {
		return
	}
	for _, x := range sc.sigs {
		if x == s {
			return
		}
	}
	sc.sigs = append(sc.sigs, s)
}

func (sc *scratch) addSupp(s string) {
	for _, x := range sc.supp {
		if x == s {
			return
		}
	}
	sc.supp = append(sc.supp, s)
}

// applies checks the rule's message-level conditions.
func (r *rule) applies(msg *classSet) bool {
	for _, q := range r.req {
		if !msg.hitsAny(q) {
			return false
		}
	}
	for _, n := range r.needs {
		if !msg.hitsAny(n) {
			return false
		}
	}
	return !msg.hitsAny(r.unless)
}

// buildUnits turns tokens into units: longest lexicon phrase first.
func (e *engine) buildUnits(sc *scratch) {
	sc.units = sc.units[:0]
	toks := sc.toks
	for i := 0; i < len(toks); {
		n := e.root
		bestEnd := -1
		var bestSet classSet
		for j := i; j < len(toks); j++ {
			if j > i && toks[j].brk {
				break
			}
			var c *lexNode
			if toks[j].num >= 0 {
				c = n.next["#"]
			} else {
				w := sc.buf[toks[j].start:toks[j].end]
				c = n.next[string(w)]
				if c == nil {
					if fix := e.fixTypo(w); fix != "" {
						c = n.next[fix]
					}
				}
			}
			if c == nil {
				break
			}
			n = c
			if n.term {
				bestEnd, bestSet = j, n.set
			}
		}
		u := unit{brk: toks[i].brk}
		if bestEnd >= 0 {
			u.set = bestSet
		} else {
			bestEnd = i
			if toks[i].num < 0 {
				e.suffix(sc.buf[toks[i].start:toks[i].end], &u.set)
			}
		}
		if toks[i].num >= 0 && bestEnd == i {
			u.set.add(e.cNUM)
			if toks[i].num >= 10 {
				u.set.add(e.cQUANT)
			}
		}
		sc.units = append(sc.units, u)
		i = bestEnd + 1
	}
	// A conjunction ("but", "tapi") closes the clause before it and opens a
	// new one after it.
	for i := range sc.units {
		if sc.units[i].set.has(e.cCONJ) {
			sc.units[i].brk = true
			if i+1 < len(sc.units) {
				sc.units[i+1].brk = true
			}
		}
	}
}

// matchSlots matches slots[si:] from unit pos and records where each slot
// matched (-1 for a skipped optional slot). It returns the last unit used.
func matchSlots(slots []slot, si, pos int, u []unit, at *[maxSlots]int) (int, bool) {
	if si == len(slots) {
		return pos - 1, true
	}
	s := &slots[si]
	switch s.kind {
	case slotEnd:
		if pos < len(u) && !u[pos].brk {
			return 0, false
		}
		at[si] = pos
		return matchSlots(slots, si+1, pos, u, at)
	case slotNot:
		if pos < len(u) && !u[pos].brk && u[pos].set.hitsAny(s.sp) {
			return 0, false
		}
		at[si] = pos
		return matchSlots(slots, si+1, pos, u, at)
	}
	for skip := 0; skip <= int(s.gap); skip++ {
		p := pos + skip
		if p >= len(u) || si > 0 && u[p].brk {
			break
		}
		if u[p].set.hitsAny(s.sp) {
			at[si] = p
			if end, ok := matchSlots(slots, si+1, p+1, u, at); ok {
				return end, true
			}
		}
	}
	if s.opt {
		at[si] = -1
		return matchSlots(slots, si+1, pos, u, at)
	}
	return 0, false
}

const (
	subjNone = iota
	subjSelf
	subjThird
	subjYou
)

// evaluate applies the modifiers to a match: negation, subject, hyperbole,
// history, then the time and method upgrades. ok is false when the match
// does not count.
func (e *engine) evaluate(sc *scratch, r *rule, msg *classSet, start, head, end int) (Level, Category, string, bool) {
	u := sc.units
	quiet := r.level == LevelNone // a pure cue never explains a none result
	suppress := func(s string) (Level, Category, string, bool) {
		if !quiet {
			sc.addSupp(s)
		}
		return LevelNone, CategoryNone, "", false
	}
	if r.flags&fSelfNeg == 0 && e.negated(u, start, head) {
		return suppress("negated")
	}
	if r.flags&fAnySubj == 0 {
		switch e.subject(u, head, end) {
		case subjThird:
			return suppress("third_person")
		case subjYou:
			return suppress("directed_at_other")
		case subjNone:
			if r.flags&fNeedSelf != 0 {
				return suppress("directed_at_other")
			}
		}
	}
	if r.flags&fHyper != 0 {
		if msg.has(e.cGAME) {
			return suppress("gaming")
		}
		// The cue may stand in the clause before ("laper parah, mau mati").
		for k, n := start, 0; k > 0 && n < 4; n++ {
			k--
			if u[k].set.has(e.cHYPER) {
				return suppress("hyperbole")
			}
		}
	}
	for k := start; k > 0 && !u[k].brk; {
		k--
		if u[k].set.hitsAny(r.after) {
			return LevelNone, CategoryNone, "", false
		}
	}
	lvl, sig := r.level, ""
	if lvl == LevelNone {
		return lvl, r.cat, "", true
	}
	if msg.has(e.cLYRIC) && lvl <= LevelModerate {
		return suppress("quoted")
	}
	if r.flags&fSlang != 0 && msg.has(e.cLAUGH) {
		return LevelLow, r.cat, "hyperbole", true
	}
	if r.flags&fHistAttempt != 0 && e.history(u, head) {
		return LevelModerate, SuicidalIdeation, "past_attempt", true
	}
	if lvl == LevelModerate && r.flags&fNoHist == 0 && e.history(u, head) {
		return LevelLow, r.cat, "history", true
	}
	intent := msg.has(e.cINTENT) || msg.has(e.cDESIRE) || msg.has(e.cPLAN) || msg.has(e.cSERIOUS)
	if lvl == LevelModerate {
		// A method named with active ideation is C-SSRS 3 (not for a past
		// attempt, whose method is history).
		if r.cat == SuicidalIdeation && r.flags&fNoHist == 0 && !msg.has(e.cBENIGN) {
			for _, m := range e.method {
				if msg.has(m.class) {
					return LevelHigh, r.cat, m.signal, true
				}
			}
		}
		if msg.has(e.cTIMEFUT) && intent {
			return LevelHigh, r.cat, "intent:time", true
		}
	}
	// Active ideation, or a passive wish worded as an act ("udahan",
	// "nyusul", "ngilang selamanya"), with a decision or everything made
	// ready is intent (C-SSRS 4-5); the act with a time is intent too.
	if lvl == LevelModerate && r.cat == SuicidalIdeation && r.flags&fNoHist == 0 || lvl == LevelLow && r.flags&fAct != 0 {
		if msg.has(e.cDECIDED) {
			return LevelHigh, r.cat, "intent", true
		}
		if msg.has(e.cPREPALL) {
			return LevelHigh, r.cat, "preparation", true
		}
		if lvl == LevelLow && msg.has(e.cTIMEFUT) && intent {
			return LevelHigh, r.cat, "intent:time", true
		}
	}
	return lvl, r.cat, sig, true
}

// negated reports whether a negation stands before the head, in the same
// clause, with only transparent words (auxiliaries, pronouns, "ever",
// "pernah", ...) or the match's own words between.
func (e *engine) negated(u []unit, start, head int) bool {
	limit := head - start + 4
	for k, n := head, 0; k > 0 && n < limit && !u[k].brk; n++ {
		k--
		s := &u[k].set
		if s.has(e.cNEG) || s.has(e.cNOBODY) { // "nobody wants to die young"
			return true
		}
		if k >= start || s.has(e.cTRANSP) {
			continue
		}
		return false
	}
	return false
}

// subject finds who the statement is about: the nearest person word before
// the head in the clause (skipping "said", "bilang"), with Indonesian
// possessives ("temen gue" is the friend), else a person word right after
// the match ("mati aja lu").
func (e *engine) subject(u []unit, head, end int) int {
	for k, n := head, 0; k > 0 && n < 8 && !u[k].brk; n++ {
		k--
		s := &u[k].set
		switch {
		case s.has(e.cREPORT):
			continue
		case s.has(e.cI1):
			// A possessive: "temen gue", "temen kantor gue" (one plain
			// word between) is the friend.
			if k > 0 && !u[k].brk {
				if p := &u[k-1].set; p.has(e.cTHIRD) && !p.has(e.cI1) {
					return subjThird
				}
				if k > 1 && !u[k-1].brk && u[k-1].set == (classSet{}) && u[k-2].set.has(e.cTHIRD) && !u[k-2].set.has(e.cI1) {
					return subjThird
				}
			}
			return subjSelf
		case s.has(e.cYOU):
			return subjYou
		case s.has(e.cTHIRD):
			return subjThird
		}
	}
	for k := end + 1; k < len(u) && k <= end+3 && !u[k].brk; k++ {
		s := &u[k].set
		switch {
		case s.has(e.cI1):
			return subjSelf
		case s.has(e.cYOU):
			return subjYou
		case s.has(e.cTHIRD):
			return subjThird
		case s.has(e.cFILLER) || s.has(e.cLAUGH):
			continue
		}
		break
	}
	return subjNone
}

// history reports a marker of the past in the head's clause: "used to",
// "dulu" before it, "years ago", "last year" anywhere in it.
func (e *engine) history(u []unit, head int) bool {
	for k := head; k > 0 && !u[k].brk; {
		k--
		if u[k].set.has(e.cHISTPRE) || u[k].set.has(e.cHISTPOST) {
			return true
		}
	}
	for k := head + 1; k < len(u) && !u[k].brk; k++ {
		if u[k].set.has(e.cHISTPOST) {
			return true
		}
	}
	return false
}

// bareMention handles a message that is little more than the topic itself
// ("bundir aja kali ya", "self harm", "suicide?").
func (e *engine) bareMention(u []unit, msg *classSet) (Category, bool) {
	for _, c := range []int{e.cNEG, e.cTHIRD, e.cYOU, e.cNEWS, e.cIDIOM, e.cGAME, e.cLYRIC} {
		if msg.has(c) {
			return CategoryNone, false
		}
	}
	cat := CategoryNone
	switch {
	case msg.has(e.cKILLSELF) || msg.has(e.cTOPIC) || msg.has(e.cENDIT) || msg.has(e.cSUICIDAL):
		cat = SuicidalIdeation
	case msg.has(e.cSHTOPIC):
		cat = SelfHarm
	default:
		return CategoryNone, false
	}
	content := 0
	for i := range u {
		s := &u[i].set
		if s.has(e.cFILLER) || s.has(e.cI1) || s.has(e.cLAUGH) || s.has(e.cKILLSELF) || s.has(e.cTOPIC) ||
			s.has(e.cENDIT) || s.has(e.cSHTOPIC) || s.has(e.cSUICIDAL) {
			continue
		}
		content++
	}
	return cat, content <= 2
}

// language guesses the message's language from marker words.
func (sc *scratch) language() string {
	id, en := 0, 0
	for _, t := range sc.toks {
		if t.num >= 0 {
			continue
		}
		switch langWords[string(sc.buf[t.start:t.end])] {
		case 1:
			id++
		case 2:
			en++
		}
	}
	switch {
	case id == 0 && en == 0:
		return ""
	case id == 0:
		return "en"
	case en == 0:
		return "id"
	}
	lo, hi := min(id, en), max(id, en)
	if lo*4 >= lo+hi { // the minority language is at least a fifth
		return "mixed"
	}
	if id > en {
		return "id"
	}
	return "en"
}

// minTypoAnchor is the shortest anchor word that tolerates a typo; shorter
// words have too many neighbours.
const minTypoAnchor = 5

// fixTypo returns the anchor word w is one slip away from (a letter missing,
// one extra, or two neighbours swapped: "myslef", "sucide", "bnuh",
// "overdos"), or "". The first letter must be right. Substitutions are not
// tolerated: they turn real words into others ("buruh" is not "bunuh").
func (e *engine) fixTypo(w []byte) string {
	if len(w) < minTypoAnchor-1 || len(w) > 16 {
		return ""
	}
	for _, a := range e.typo[w[0]] {
		if oneSlip(w, a) {
			return a
		}
	}
	return ""
}

func oneSlip(w []byte, a string) bool {
	switch len(w) - len(a) {
	case 0:
		i := 0
		for i < len(w) && w[i] == a[i] {
			i++
		}
		if i == len(w) || i+1 == len(w) {
			return false // equal, or differs only in the last letter
		}
		return w[i] == a[i+1] && w[i+1] == a[i] && string(w[i+2:]) == a[i+2:]
	case -1: // a letter missing
		i := 0
		for i < len(w) && w[i] == a[i] {
			i++
		}
		return string(w[i:]) == a[i+1:]
	case 1: // a letter too many
		i := 0
		for i < len(a) && w[i] == a[i] {
			i++
		}
		return string(w[i+1:]) == a[i:]
	}
	return false
}

// suffix gives a word that matched nothing the suffixable classes of its
// stem under an Indonesian possessive or definite suffix: "adekku" is a
// person like "adek", "lenganku" a body part like "lengan".
func (e *engine) suffix(w []byte, set *classSet) {
	n := len(w)
	k := 0 // suffix length
	switch {
	case n >= 6 && string(w[n-3:]) == "nya":
		k = 3
	case n >= 5 && (string(w[n-2:]) == "ku" || string(w[n-2:]) == "mu"):
		k = 2
	default:
		return
	}
	c := e.root.next[string(w[:n-k])]
	if c == nil || !c.term {
		// Squeezing merged a stem's last letter with the suffix's first
		// ("jemuran"+"nya" is "jemuranya", "anak"+"ku" is "anaku").
		c = e.root.next[string(w[:n-k+1])]
		if c == nil || !c.term {
			return
		}
	}
	for i := range set {
		set[i] = c.set[i] & e.suffixable[i]
	}
}
