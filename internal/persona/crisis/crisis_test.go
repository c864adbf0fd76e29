package crisis

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

type want struct {
	text  string
	level Level
	cat   Category
}

// passive is the level of a passive wish that the learned component may
// read one level higher: the rules say low, and the blind writers of the
// corpus labelled many such wishes moderate (crisis.go, decision.combine).
// The error is on the side of showing help; anything else fails.
const passive = Level(255)

func check(t *testing.T, cases []want) {
	t.Helper()
	for _, c := range cases {
		got := Detect(c.text)
		cat := c.cat
		if c.level == LevelNone {
			cat = CategoryNone
		}
		if c.level == passive && (got.Level == LevelLow || got.Level == LevelModerate) && got.Category == cat {
			continue
		}
		if got.Level != c.level || got.Category != cat {
			t.Errorf("Detect(%q) = %s/%s %v, want %s/%s", c.text, got.Level, got.Category, got.Signals, c.level, cat)
		}
	}
}

const (
	si = SuicidalIdeation
	sh = SelfHarm
)

// The examples of issue 5 and of the task brief, by level.
func TestBriefExamplesByLevel(t *testing.T) {
	check(t, []want{
		// low: passive wish to be dead (C-SSRS 1)
		{"I wish I could disappear", LevelLow, si},
		{"pengen ngilang aja", LevelLow, si},
		{"mending gue mati aja", LevelLow, si},
		{"pengen udahan aja", passive, si},
		{"pengen udahan", passive, si},
		{"capek hidup", LevelLow, si},
		{"gak kuat lagi", LevelLow, si},
		{"pengen mati", LevelLow, si},
		// moderate: active thoughts, non-suicidal self-injury
		{"I keep thinking about killing myself", LevelModerate, si},
		{"aku sering nyilet tangan", LevelModerate, sh},
		// high: method, intent or plan
		{"I'm going to take all my pills tonight", LevelHigh, si},
		{"udah beli tali", LevelHigh, si},
		// imminent: an act in progress or just done
		{"I just took 30 pills", LevelImminent, si},
		{"aku udah minum obat sebanyak-banyaknya", LevelImminent, si},
		{"I'm standing on the ledge now", LevelImminent, si},
	})
}

func TestBriefSlang(t *testing.T) {
	check(t, []want{
		{"kms", LevelModerate, si},
		{"i wanna kms", LevelModerate, si},
		{"ugh kms lol the wifi died again", LevelLow, si}, // laughter: hyperbole, still recorded
		{"i should just kys", LevelModerate, si},          // about oneself
		{"kys noob", LevelNone, ""},                       // at someone else
		{"just kys already, you're trash", LevelNone, ""},
		{"i want to unalive myself", LevelModerate, si},
		{"thinking about sewerslide", LevelModerate, si},
		{"thinking about ctb again", LevelModerate, si},
		{"pengen bundir", LevelModerate, si},
		{"mau bundir aja", LevelModerate, si},
		{"self harm", LevelModerate, sh},
		{"pengen sh lagi", LevelModerate, sh},
		{"relapsed sh last night", LevelModerate, sh},
		{"ive been cutting again", LevelModerate, sh},
		{"nyilet lagi", LevelModerate, sh},
		{"mau overdosis obat tidur", LevelHigh, si},
		{"gonna OD tonight", LevelHigh, si},
		{"mau loncat dari jembatan", LevelHigh, si},
		{"pengen gantung diri", LevelHigh, si},
		{"mau minum racun aja", LevelHigh, si},
		{"gue mau minum baygon", LevelHigh, si},
		{"saya ingin bunuh diri", LevelModerate, si},
		{"gue pengen bunuh diri", LevelModerate, si},
		{"aku pengen bunuh diri", LevelModerate, si},
		{"ora kuat aku, pengen mati wae", LevelLow, si},
		{"wes kesel urip", LevelLow, si},
	})
}

func TestNormalisation(t *testing.T) {
	check(t, []want{
		{"pengen matiiii", LevelLow, si},
		{"pgn m4ti", LevelLow, si},
		{"b u n d i r", LevelModerate, si},
		{"b.u.n.d.i.r aja", LevelModerate, si},
		{"pengen b-u-n-u-h d-i-r-i", LevelModerate, si},
		{"I WANT TO KILL MYSELF", LevelModerate, si},
		{"i want to k*ll myself", LevelModerate, si},
		{"feeling su1c1dal", LevelModerate, si},
		{"pengen bunuh dírí", LevelModerate, si},
		{"i want to kill myselffff", LevelModerate, si},
		{"s e l f h a r m", LevelModerate, sh},
		{"i'm going to take all my pills tonight", LevelHigh, si},
		{"i’m going to take all my pills tonight", LevelHigh, si}, // typographic apostrophe
		{"udah nelen 30pil", LevelImminent, si},
		{"minum obat2 semua barusan", LevelImminent, si},
	})
	toks := func(s string) []string {
		var sc scratch
		sc.tokenize(s)
		var out []string
		for _, tk := range sc.toks {
			out = append(out, string(sc.buf[tk.start:tk.end]))
		}
		return out
	}
	for in, out := range map[string]string{
		"Matiiii!!":          "mati",
		"m4ti":               "mati",
		"b u n d i r":        "bundir",
		"k.m.s":              "kms",
		"I'm":                "im",
		"don’t":              "dont",
		"obat2":              "obat",
		"bangun bangun lagi": "bangun lagi",
		"30pills":            "30 pils",
		"wkwkwk 😂":           "_laugh",
		"café":               "cafe",
	} {
		if got := strings.Join(toks(in), " "); got != out {
			t.Errorf("tokens(%q) = %q, want %q", in, got, out)
		}
	}
}

func TestBriefNegatives(t *testing.T) {
	for _, s := range []string{
		"mati gaya", "mati lampu", "mati listrik", "mati kutu", "hp gue mati", "hp gue mau mati",
		"dying to see it", "this traffic is killing me", "I'm dead 😂", "gol bunuh diri",
		"I would never hurt myself", "aku gak pernah kepikiran bunuh diri", "killing it at work",
		"my phone died", "the deadline is killing me", "berita bunuh diri artis", "kill the process",
		"kill me in PUBG", "bro kill me in pubg", "jangan bunuh diri ya", "my friend wants to kill herself",
		"temen gue pengen bunuh diri, gimana bantu dia", "i'm not suicidal", "it's 20 kms from here",
		"mati aja lu", "you should kill yourself", "laper bgt mau mati", "ngakak sampe mau mati",
		"i'd rather die than wear crocs", "pengen ngilang dari sosmed", "beli tali sepatu",
		"highest bridge near me?", "jembatan paling tinggi di jakarta apa?", "lagi cutting sayur",
		"cutting onions", "i cut my finger while cooking", "this cake is to die for",
		"my boss is gonna kill me if i'm late",
	} {
		if got := Detect(s); got.Level != LevelNone || got.Category != CategoryNone {
			t.Errorf("Detect(%q) = %s/%s %v, want none", s, got.Level, got.Category, got.Signals)
		}
	}
}

// A bare question about a means or a place that the learned component reads
// as risky on its own (the blind writers' risky conversations are full of
// them; their harmless twins say why they ask) is held below high: it may
// show resources, but it does not reach a counselor without the rules'
// evidence or the conversation's (decision 0010, highFPR).
func TestBareMeansQuestionsStayBelowHigh(t *testing.T) {
	for _, s := range []string{"jembatan paling tinggi di mana?", "I gave my old bike to my cousin", "the blue ones are in the kitchen drawer"} {
		if got := Detect(s); got.Level >= LevelHigh {
			t.Errorf("Detect(%q) = %s %v, want below high", s, got.Level, got.Signals)
		}
	}
}

// Negation counts only shortly before the trigger, in its clause, with only
// auxiliaries and the like between.
func TestNegationScope(t *testing.T) {
	check(t, []want{
		{"I would never hurt myself", LevelNone, ""},
		{"i'm not going to kill myself", LevelNone, ""},
		{"aku gak akan pernah bunuh diri", LevelNone, ""},
		{"I don't want to die", LevelNone, ""},
		{"I don't know why but I want to die", passive, si},
		{"I don't know, I want to kill myself", LevelModerate, si},
		{"not gonna lie i want to kill myself", LevelModerate, si},
		{"gak tau kenapa aku pengen bunuh diri", LevelModerate, si},
		{"i can't stop thinking about killing myself", LevelModerate, si},
		{"udah 3 bulan ga sh tapi sekarang pengen lagi", LevelModerate, sh},
		{"I don't want to live anymore", LevelLow, si}, // the negation is the meaning
		{"gue udah gak mau hidup lagi", passive, si},
	})
	if r := Detect("I would never hurt myself"); !slices.Contains(r.Signals, "negated") {
		t.Errorf("signals %v lack negated", r.Signals)
	}
}

func TestSubject(t *testing.T) {
	check(t, []want{
		{"he said he wants to die", LevelNone, ""},
		{"pacarku bilang pengen mati", LevelNone, ""},
		{"temen aku pernah bilang pengen bunuh diri", LevelNone, ""},
		{"my cousin tried to kill himself", LevelNone, ""},
		{"i want to die", LevelLow, si},
		{"mati aja lah gue", LevelLow, si},
		{"i tried to kill myself last year", LevelModerate, si},
		{"i tried to kill myself last night", LevelHigh, si},
	})
	if r := Detect("pacarku bilang pengen mati"); !slices.Contains(r.Signals, "third_person") {
		t.Errorf("signals %v lack third_person", r.Signals)
	}
}

// One slip (a letter missing or extra, neighbours swapped) is tolerated in
// a few crisis words; a substituted letter is not, since it makes other
// words ("buruh" is not "bunuh").
func TestTypos(t *testing.T) {
	check(t, []want{
		{"ive been wanting to kill myslef", LevelModerate, si},
		{"thinking about sucide again", LevelModerate, si},
		{"pgn bnuh diri", LevelModerate, si},
		{"mau overdos obat malem ini", LevelHigh, si},
		{"i wanna disapear forever", LevelLow, si},
		{"buruh demo di jalan", LevelNone, ""},
		{"the bride looked stunning on the bridge", LevelNone, ""},
	})
	e := theEngine()
	for w, fix := range map[string]string{"myslef": "myself", "sucide": "suicide", "bnuh": "bunuh", "overdos": "overdose",
		"suicidde": "suicide", "buruh": "", "myselg": "", "mysel": "myself", "ysmelf": ""} {
		if got := e.fixTypo([]byte(w)); got != fix {
			t.Errorf("fixTypo(%q) = %q, want %q", w, got, fix)
		}
	}
}

// Indonesian possessive suffixes keep the stem's person, body part or means
// class; a doubled letter merged by squeezing is restored.
func TestSuffixes(t *testing.T) {
	check(t, []want{
		{"adekku nyilet tangan, aku harus gimana", LevelNone, ""},
		{"aku sengaja bakar kulitku pake korek", LevelModerate, sh},
		{"aku suka mukul mukul kepalaku sendiri", LevelModerate, sh},
		{"tali jemurannya aku iket di pohon mangga", LevelNone, ""},
	})
}

func TestSubjectAndNobody(t *testing.T) {
	check(t, []want{
		{"temen kantor gue katanya nyoba bunuh diri, aku syok", LevelNone, ""},
		{"gak ada yang mau mati muda, makanya jaga kesehatan", LevelNone, ""},
		{"nobody wants to die young", LevelNone, ""},
		{"nobody would care if i died", LevelLow, si},
	})
}

// Ideation with a decision, everything made ready, or (for a wish worded as
// an act) intent and a time is high.
func TestEscalation(t *testing.T) {
	check(t, []want{
		{"pengen nyusul ayah", passive, si},
		{"malem ini gue mau nyusul ayah", LevelHigh, si},
		{"besok mau nyusul ayah ke bandung", LevelNone, ""},
		{"aku mau udahan aja, udah aku siapin semuanya", LevelHigh, si},
		{"udah aku putusin, jumat ini aku bundir", LevelHigh, si},
		{"kms tomorrow for real", LevelHigh, si},
		{"minggu ini gue ngilang selamanya", LevelHigh, si},
		{"pengen ngilang ke bali seminggu", LevelNone, ""},
	})
}

// Self-harm is an injury verb on a body part, a tool on the skin, or
// scratching until it bleeds; cooking, accidents and pets are not.
func TestSelfHarmObjects(t *testing.T) {
	check(t, []want{
		{"aku suka nyundut tangan pake rokok", LevelModerate, sh},
		{"i carved into my thigh again last night", LevelModerate, sh},
		{"been using a razor on my arms again", LevelModerate, sh},
		{"i dig my nails into my arms until they bleed", LevelModerate, sh},
		{"i just burned my arm with a lighter", LevelImminent, sh},
		{"burned my hand on the stove lol", LevelNone, ""},
		{"aku gak sengaja ngegores tangan pas buka kaleng", LevelNone, ""},
		{"bakar paha ayam buat makan malam", LevelNone, ""},
		{"slice the chicken thighs thinly", LevelNone, ""},
		{"my cat scratched my arm and it bled", LevelNone, ""},
		{"how deep do you have to cut to hit an artery", LevelHigh, si},
	})
}

// The context rule of issue 5: a neutral-looking request after distress.
func TestConversationRaisesMeansAfterDistress(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 22, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		first, then string
		neutral     bool // the request alone shows no risk (else the model may read it as risky by itself)
	}{
		{"I can't do this anymore", "highest bridge near me?", true},
		{"I can't do this anymore", "how many of my pills would it take", false},
		{"capek hidup", "jembatan paling tinggi di mana?", true},
		{"gak kuat lagi aku", "jembatan paling tinggi di mana?", true},
		{"I wish I could disappear", "is the rooftop of my building open at night", true},
		{"pengen ngilang aja", "selamat tinggal semuanya", false},
		{"i want to die", "where can i buy rope", false},
		{"i've been thinking about ending it", "i've decided. sunday is the day", false},
		{"nobody would even care if i was gone", "wrote a note for my mom and left it in my drawer", false},
	} {
		var c Conversation
		c.AssessAt(tc.first, t0)
		r := c.AssessAt(tc.then, t0.Add(3*time.Minute))
		if r.Level < LevelHigh || r.Category != SuicidalIdeation {
			t.Errorf("%q after %q = %s/%s %v, want at least high", tc.then, tc.first, r.Level, r.Category, r.Signals)
		}
		if !tc.neutral {
			continue
		}
		if !slices.Contains(r.Signals, "context:recent_risk") {
			t.Errorf("%q after %q: signals %v, want context:recent_risk", tc.then, tc.first, r.Signals)
		}
		if d := Detect(tc.then); d.Level >= LevelHigh {
			t.Errorf("Detect(%q) alone = %s; the test needs a neutral-looking request", tc.then, d.Level)
		}
	}

	// The category follows the earlier risk.
	var c Conversation
	c.AssessAt("aku sering nyilet tangan", t0)
	if r := c.AssessAt("silet yang tajam beli dimana", t0.Add(time.Minute)); r.Level != LevelHigh || r.Category != SelfHarm {
		t.Errorf("after self-harm: %+v", r)
	}

	// No distress: nothing raised. A message without a cue is not raised.
	var calm Conversation
	calm.AssessAt("what's a good place for sunset photos", t0)
	if r := calm.AssessAt("highest bridge near me?", t0.Add(time.Minute)); r.Level != LevelNone {
		t.Errorf("without distress: %+v", r)
	}
	var sad Conversation
	sad.AssessAt("i want to die", t0)
	if r := sad.AssessAt("thanks for listening", t0.Add(time.Minute)); r.Level != LevelNone {
		t.Errorf("no cue: %+v", r)
	}
	if r := sad.AssessAt("i'm not going to jump off the bridge, don't worry", t0.Add(2*time.Minute)); r.Level != LevelNone {
		t.Errorf("negated cue: %+v", r)
	}
}

// After a turn at moderate or above, a message in which the learned
// component sees some risk (cueModel) is at least moderate; without that
// cue, without recent risk at moderate, or over a trigger the rules set
// aside, it keeps its own level.
func TestConversationKeepsRiskInContext(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 22, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	risky := func() *Conversation {
		c := &Conversation{}
		c.record(t0, Result{Level: LevelModerate, Category: SelfHarm}, false)
		return c
	}
	none := Result{Level: LevelNone, Category: CategoryNone}
	if r := risky().apply(none, cueModel, at(1)); r.Level != LevelModerate || r.Category != SelfHarm ||
		!hasSignal(r.Signals, "context:recent_risk") || !hasSignal(r.Signals, "model") {
		t.Errorf("model cue after moderate: %+v", r)
	}
	low := Result{Level: LevelLow, Category: SuicidalIdeation, Signals: []string{"passive_wish"}}
	if r := risky().apply(low, cueModel, at(1)); r.Level != LevelModerate || !hasSignal(r.Signals, "passive_wish") {
		t.Errorf("low with model cue after moderate: %+v", r)
	}
	if r := risky().apply(none, 0, at(1)); r.Level != LevelNone {
		t.Errorf("no model cue: %+v", r)
	}
	setAside := Result{Level: LevelNone, Category: CategoryNone, Signals: []string{"negated"}}
	if r := risky().apply(setAside, cueModel, at(1)); r.Level != LevelNone {
		t.Errorf("a trigger the rules set aside: %+v", r)
	}
	if r := risky().apply(none, cueModel, t0.Add(ContextWindow+time.Minute)); r.Level != LevelNone {
		t.Errorf("after the context window: %+v", r)
	}
	var passive Conversation
	passive.record(t0, Result{Level: LevelLow, Category: SuicidalIdeation}, false)
	if r := passive.apply(none, cueModel, at(1)); r.Level != LevelNone {
		t.Errorf("after a low turn only: %+v", r)
	}
	// The message's own reading keeps its category, and a signal appears
	// once.
	own := Result{Level: LevelLow, Category: SuicidalIdeation, Signals: []string{"passive_wish", "model"}}
	if r := risky().apply(own, cueModel, at(1)); r.Level != LevelModerate || r.Category != SuicidalIdeation ||
		!slices.Equal(r.Signals, []string{"passive_wish", "model", "context:recent_risk"}) {
		t.Errorf("own reading after self-harm: %+v", r)
	}
	// A carried turn does not carry risk further: one risky message keeps
	// the notice for at most the ContextTurns cued messages after it.
	chain := risky()
	raised := 0
	for i := 1; i <= 2*ContextTurns; i++ {
		if r := chain.apply(none, cueModel, at(i)); r.Level == LevelModerate {
			raised++
		}
	}
	if raised != ContextTurns {
		t.Errorf("one moderate turn carried %d cued turns, want %d", raised, ContextTurns)
	}
	// The cue does not stand in for the rules' context cues: it never
	// raises to high.
	high := risky()
	high.record(at(1), Result{Level: LevelHigh, Category: SuicidalIdeation}, false)
	if r := high.apply(none, cueModel, at(2)); r.Level != LevelModerate || r.Category != SuicidalIdeation {
		t.Errorf("model cue after high: %+v", r)
	}
}

// With the shipped model: a follow-up the model alone reads as none stays
// moderate after a self-harm message; thanks do not; the rules alone never
// give the model's cue.
func TestConversationKeepsRiskWithTheModel(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 22, 0, 0, 0, time.UTC)
	follow := "masih lanjut. rasanya tenang"
	if r := Detect(follow); r.Level >= LevelModerate {
		t.Fatalf("Detect(%q) alone = %s; the test needs a follow-up below moderate", follow, r.Level)
	}
	var c Conversation
	c.AssessAt("aku nyilet tangan lagi tadi malem", t0)
	if r := c.AssessAt(follow, t0.Add(time.Minute)); r.Level != LevelModerate || r.Category != SelfHarm ||
		!hasSignal(r.Signals, "context:recent_risk") {
		t.Errorf("%q after self-harm: %+v", follow, r)
	}
	if r := c.AssessAt("makasih ya udah dengerin", t0.Add(2*time.Minute)); r.Level != LevelNone {
		t.Errorf("thanks after self-harm: %+v", r)
	}
	for _, s := range []string{follow, "aku nyilet tangan lagi tadi malem", "highest bridge near me?"} {
		if _, cues := detectWith(s, nil, nil); cues&cueModel != 0 {
			t.Errorf("the rules alone gave the model's cue for %q", s)
		}
	}
}

func TestConversationForgets(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 22, 0, 0, 0, time.UTC)
	var c Conversation
	c.AssessAt("I can't do this anymore", t0)
	if r := c.AssessAt("highest bridge near me?", t0.Add(ContextWindow+time.Minute)); r.Level != LevelNone {
		t.Errorf("after the window: %+v", r)
	}

	var d Conversation
	d.AssessAt("I can't do this anymore", t0)
	for i := range ContextTurns {
		d.AssessAt("ok", t0.Add(time.Duration(i+1)*time.Minute))
	}
	if len(d.Turns) != ContextTurns {
		t.Errorf("kept %d turns, want %d", len(d.Turns), ContextTurns)
	}
	if r := d.AssessAt("highest bridge near me?", t0.Add(time.Hour)); r.Level != LevelNone {
		t.Errorf("after %d neutral turns: %+v", ContextTurns, r)
	}
}

func TestConversationPersists(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 22, 0, 0, 0, time.UTC)
	var c Conversation
	c.AssessAt("I can't do this anymore", t0)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "anymore") {
		t.Fatalf("state holds text: %s", b)
	}
	if !strings.Contains(string(b), `"level":"low"`) {
		t.Errorf("state = %s", b)
	}
	var restored Conversation
	if err := json.Unmarshal(b, &restored); err != nil {
		t.Fatal(err)
	}
	if r := restored.AssessAt("how many of my pills would it take", t0.Add(time.Minute)); r.Level != LevelHigh {
		t.Errorf("after restore: %+v", r)
	}
	if err := json.Unmarshal([]byte(`{"turns":[{"at":"2025-03-01T22:00:00Z","level":"extreme","category":"self_harm"}]}`), &restored); err == nil {
		t.Error("unknown level accepted")
	}
}

// A conversation never lowers what the message alone gives.
func TestConversationNeverLowers(t *testing.T) {
	samples := loadCorpus(t)
	t0 := time.Date(2025, 3, 1, 22, 0, 0, 0, time.UTC)
	var c Conversation
	for i, s := range samples {
		r := c.AssessAt(s.text, t0.Add(time.Duration(i)*time.Minute))
		if d := Detect(s.text); r.Level < d.Level {
			t.Errorf("%s: conversation %s < alone %s", s.id, r.Level, d.Level)
		}
	}
}

func TestRefineNeverLowers(t *testing.T) {
	r := Detect("I just took 30 pills")
	if got := r.Refine(LevelLow, SelfHarm); got.Level != LevelImminent || got.Category != SuicidalIdeation {
		t.Errorf("refine lowered: %+v", got)
	}
	n := Detect("hello")
	got := n.Refine(LevelHigh, CategoryNone)
	if got.Level != LevelHigh || got.Category != SuicidalIdeation || !slices.Contains(got.Signals, "refined") {
		t.Errorf("refine up: %+v", got)
	}
	if got := n.Refine(Level(9), SelfHarm); got.Level != LevelNone {
		t.Errorf("invalid level accepted: %+v", got)
	}
}

func TestLevelText(t *testing.T) {
	for l := LevelNone; l <= LevelImminent; l++ {
		b, err := l.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Level
		if err := back.UnmarshalText(b); err != nil || back != l {
			t.Errorf("round trip %s: %v %v", l, back, err)
		}
	}
	if _, err := Level(7).MarshalText(); err == nil {
		t.Error("invalid level marshalled")
	}
	b, _ := json.Marshal(Detect("pengen mati"))
	if string(b) != `{"level":"low","category":"suicidal_ideation","signals":["passive_wish"],"language":"id"}` {
		t.Errorf("json = %s", b)
	}
	if !(LevelNone < LevelLow && LevelLow < LevelModerate && LevelModerate < LevelHigh && LevelHigh < LevelImminent) {
		t.Error("levels are not ordered")
	}
}

func TestLanguage(t *testing.T) {
	for text, lang := range map[string]string{
		"aku capek banget hari ini":       "id",
		"i feel so tired today":           "en",
		"honestly gue pengen ngilang aja": "mixed",
		"👍":                               "",
	} {
		if got := Detect(text).Language; got != lang {
			t.Errorf("language(%q) = %q, want %q", text, got, lang)
		}
	}
}

// Signals come from a fixed set and never carry the user's words.
func TestSignalsAreFixed(t *testing.T) {
	e := theEngine()
	for _, s := range loadCorpus(t) {
		r := Detect(s.text)
		for _, sig := range r.Signals {
			if !e.signals[sig] {
				t.Errorf("%s: unknown signal %q", s.id, sig)
			}
		}
		if (r.Level == LevelNone) != (r.Category == CategoryNone) {
			t.Errorf("%s: level %s with category %s", s.id, r.Level, r.Category)
		}
	}
}

// TestRulesCompile guards the pattern language: every rule parses and every
// rule's signal is known.
func TestRulesCompile(t *testing.T) {
	e := theEngine()
	if len(e.rules) != len(ruleSpecs) {
		t.Fatalf("%d rules compiled of %d", len(e.rules), len(ruleSpecs))
	}
	for _, r := range e.rules {
		if r.head < 0 || r.head >= len(r.slots) || len(r.slots) > maxSlots {
			t.Errorf("rule %q: head %d of %d slots", r.src, r.head, len(r.slots))
		}
	}
}
