package persona

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strings"
	"unicode"

	"mitra/internal/persona/crisis"
	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/logging"
)

// Completer is the one model call analysis needs (the AI gateway provides
// it): a system and a user message in, the assistant's text out.
type Completer interface {
	CompleteText(ctx context.Context, p access.Principal, system, user string, maxTokens int) (string, error)
}

// AnalyzeInput is a text to analyse.
type AnalyzeInput struct {
	Text string `json:"text" minLength:"1" maxLength:"8000"`
}

// MoodReading is the overall mood of a text.
type MoodReading struct {
	Label   string  `json:"label" enum:"very_negative,negative,neutral,positive,very_positive"`
	Valence float64 `json:"valence" minimum:"-1" maximum:"1" doc:"-1 unpleasant to 1 pleasant"`
	Arousal float64 `json:"arousal" minimum:"0" maximum:"1" doc:"0 calm to 1 activated"`
}

// Risk is the crisis detector's reading (never lowered by a model).
type Risk struct {
	Level    crisis.Level    `json:"level"`
	Category crisis.Category `json:"category"`
	Signals  []string        `json:"signals"`
}

// Analysis is the psychology/mood analysis of a text.
type Analysis struct {
	Mood        MoodReading `json:"mood"`
	Emotions    []string    `json:"emotions"`
	Themes      []string    `json:"themes"`
	Suggestions []string    `json:"suggestions"`
	Risk        Risk        `json:"risk"`
	Source      string      `json:"source" enum:"model,local" doc:"local: the model was unavailable and a word list read the mood"`
	Language    string      `json:"language"`
}

// Analyze reads a text's mood, emotions and themes (through the model when
// available, else locally, saying so) and its risk (always locally, from
// the crisis detector; a model may only raise it).
func (s *Service) Analyze(ctx context.Context, in AnalyzeInput) (*Analysis, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	text := strings.TrimSpace(in.Text)
	if text == "" {
		return nil, apperr.Field("body.text", "must not be blank")
	}
	r := crisis.Detect(text)
	lang := "en"
	if r.Language == "id" || r.Language == "mixed" {
		lang = "id"
	}
	a := localAnalysis(text, lang)
	a.Risk = Risk{Level: r.Level, Category: r.Category, Signals: r.Signals}
	if a.Risk.Signals == nil {
		a.Risk.Signals = []string{}
	}
	if s.Model != nil {
		if m, err := s.modelAnalysis(ctx, p, text, lang); err == nil {
			m.Risk = a.Risk
			if lvl, cat, ok := m.raisedRisk(); ok && lvl > a.Risk.Level {
				// The model may raise the level, never lower it.
				m.Risk.Level, m.Risk.Category = lvl, cat
				m.Risk.Signals = append(m.Risk.Signals, "model:raised")
			}
			a = m.Analysis
		} else if !errors.Is(err, context.Canceled) {
			logging.FromContext(ctx).Warn("analysis model unavailable; local reading used", "err", err)
		}
	}
	a.Suggestions = suggestions(a, lang)
	return a, nil
}

// modelOutput is what the model is asked to return.
type modelOutput struct {
	Mood     MoodReading `json:"mood"`
	Emotions []string    `json:"emotions"`
	Themes   []string    `json:"themes"`
	Risk     string      `json:"risk"`
	Category string      `json:"risk_category"`
}

type modelAnalysisResult struct {
	*Analysis
	risk, category string
}

func (m modelAnalysisResult) raisedRisk() (crisis.Level, crisis.Category, bool) {
	lvl, err := crisis.ParseLevel(m.risk)
	if err != nil || lvl == crisis.LevelNone {
		return 0, "", false
	}
	cat := crisis.Category(m.category)
	if !cat.Valid() || cat == crisis.CategoryNone {
		cat = crisis.SuicidalIdeation
	}
	return lvl, cat, true
}

const analysisPrompt = `You analyse the mood of one message for a wellbeing app. Answer with JSON only, no prose:
{"mood":{"label":"very_negative|negative|neutral|positive|very_positive","valence":-1..1,"arousal":0..1},
 "emotions":[up to 5 lower-case English words],"themes":[up to 5 lower-case English words such as work, family, relationship, health, money, sleep, study, loneliness],
 "risk":"none|low|moderate|high|imminent","risk_category":"none|suicidal_ideation|self_harm"}
Judge risk of suicide or self-harm by the C-SSRS: low = passive wish to be dead; moderate = active thoughts or self-injury; high = method, intent or plan; imminent = act in progress or just done.`

func (s *Service) modelAnalysis(ctx context.Context, p access.Principal, text, lang string) (modelAnalysisResult, error) {
	out, err := s.Model.CompleteText(ctx, p, analysisPrompt, text, 300)
	if err != nil {
		return modelAnalysisResult{}, err
	}
	out = strings.TrimSpace(out)
	out = strings.TrimPrefix(strings.TrimSuffix(strings.TrimPrefix(out, "```json"), "```"), "```")
	var m modelOutput
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &m); err != nil {
		return modelAnalysisResult{}, errors.New("model answer is not the JSON asked for")
	}
	a := &Analysis{Source: "model", Language: lang,
		Mood:     MoodReading{Label: m.Mood.Label, Valence: clamp(m.Mood.Valence, -1, 1), Arousal: clamp(m.Mood.Arousal, 0, 1)},
		Emotions: cleanWords(m.Emotions), Themes: cleanWords(m.Themes)}
	if a.Mood.Label == "" || !validLabel(a.Mood.Label) {
		a.Mood.Label = label(a.Mood.Valence)
	}
	return modelAnalysisResult{Analysis: a, risk: m.Risk, category: m.Category}, nil
}

func validLabel(l string) bool {
	switch l {
	case "very_negative", "negative", "neutral", "positive", "very_positive":
		return true
	}
	return false
}

func cleanWords(ws []string) []string {
	out := []string{}
	for _, w := range ws {
		w = strings.ToLower(strings.TrimSpace(w))
		if w != "" && len(w) <= 30 && len(out) < 5 {
			out = append(out, w)
		}
	}
	return out
}

func clamp(v, lo, hi float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return math.Max(lo, math.Min(hi, v))
}

func label(v float64) string {
	switch {
	case v <= -0.6:
		return "very_negative"
	case v <= -0.15:
		return "negative"
	case v < 0.15:
		return "neutral"
	case v < 0.6:
		return "positive"
	}
	return "very_positive"
}

// emotionWords maps words (Indonesian and English) to an emotion with its
// valence and arousal.
var emotionWords = map[string]struct {
	emotion          string
	valence, arousal float64
}{
	"sedih": {"sadness", -0.7, 0.3}, "sad": {"sadness", -0.7, 0.3}, "nangis": {"sadness", -0.7, 0.5}, "crying": {"sadness", -0.7, 0.5}, "galau": {"sadness", -0.5, 0.4},
	"marah": {"anger", -0.6, 0.8}, "kesel": {"anger", -0.5, 0.7}, "angry": {"anger", -0.6, 0.8}, "mad": {"anger", -0.6, 0.8}, "benci": {"anger", -0.7, 0.7},
	"cemas": {"anxiety", -0.5, 0.7}, "khawatir": {"anxiety", -0.5, 0.7}, "anxious": {"anxiety", -0.5, 0.7}, "worried": {"anxiety", -0.5, 0.6}, "panik": {"anxiety", -0.6, 0.9}, "panic": {"anxiety", -0.6, 0.9},
	"takut": {"fear", -0.6, 0.8}, "scared": {"fear", -0.6, 0.8}, "afraid": {"fear", -0.6, 0.8},
	"stres": {"stress", -0.5, 0.7}, "stress": {"stress", -0.5, 0.7}, "stressed": {"stress", -0.5, 0.7}, "pusing": {"stress", -0.4, 0.6},
	"capek": {"fatigue", -0.4, 0.2}, "lelah": {"fatigue", -0.4, 0.2}, "tired": {"fatigue", -0.4, 0.2}, "exhausted": {"fatigue", -0.5, 0.2},
	"kesepian": {"loneliness", -0.6, 0.3}, "sendirian": {"loneliness", -0.5, 0.3}, "lonely": {"loneliness", -0.6, 0.3}, "alone": {"loneliness", -0.4, 0.3},
	"malu": {"shame", -0.5, 0.5}, "ashamed": {"shame", -0.5, 0.5}, "bersalah": {"guilt", -0.5, 0.5}, "guilty": {"guilt", -0.5, 0.5},
	"bingung": {"confusion", -0.2, 0.5}, "confused": {"confusion", -0.2, 0.5},
	"senang": {"joy", 0.8, 0.6}, "bahagia": {"joy", 0.9, 0.6}, "happy": {"joy", 0.8, 0.6}, "seneng": {"joy", 0.8, 0.6}, "glad": {"joy", 0.7, 0.5},
	"bersyukur": {"gratitude", 0.7, 0.3}, "grateful": {"gratitude", 0.7, 0.3}, "thankful": {"gratitude", 0.7, 0.3},
	"tenang": {"calm", 0.5, 0.1}, "calm": {"calm", 0.5, 0.1}, "lega": {"relief", 0.6, 0.2}, "relieved": {"relief", 0.6, 0.2},
	"semangat": {"excitement", 0.7, 0.8}, "excited": {"excitement", 0.7, 0.8}, "bangga": {"pride", 0.7, 0.6}, "proud": {"pride", 0.7, 0.6},
	"hopeful": {"hope", 0.6, 0.4}, "berharap": {"hope", 0.5, 0.4},
}

var themeWords = map[string]string{
	"kerja": "work", "kantor": "work", "bos": "work", "atasan": "work", "work": "work", "job": "work", "boss": "work", "office": "work",
	"kuliah": "study", "ujian": "study", "skripsi": "study", "sekolah": "study", "exam": "study", "school": "study", "college": "study", "thesis": "study",
	"keluarga": "family", "ortu": "family", "ibu": "family", "ayah": "family", "mama": "family", "papa": "family", "family": "family", "parents": "family", "mom": "family", "dad": "family",
	"pacar": "relationship", "putus": "relationship", "mantan": "relationship", "suami": "relationship", "istri": "relationship", "boyfriend": "relationship", "girlfriend": "relationship", "breakup": "relationship", "husband": "relationship", "wife": "relationship",
	"sakit": "health", "dokter": "health", "sick": "health", "doctor": "health", "health": "health",
	"uang": "money", "duit": "money", "utang": "money", "hutang": "money", "gaji": "money", "money": "money", "debt": "money", "salary": "money", "rent": "money",
	"tidur": "sleep", "insomnia": "sleep", "begadang": "sleep", "sleep": "sleep",
	"teman": "friends", "temen": "friends", "sahabat": "friends", "friend": "friends", "friends": "friends",
}

var negators = map[string]bool{"gak": true, "ga": true, "nggak": true, "enggak": true, "tidak": true, "bukan": true, "not": true, "no": true, "never": true, "dont": true, "don't": true, "isnt": true, "isn't": true, "aren't": true}

// localAnalysis reads mood, emotions and themes from word lists, with
// negation flipping the next two words ("gak sedih", "not happy").
func localAnalysis(text, lang string) *Analysis {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' })
	a := &Analysis{Source: "local", Language: lang, Emotions: []string{}, Themes: []string{}}
	var sumV, sumA float64
	n := 0
	seenE, seenT := map[string]bool{}, map[string]bool{}
	for i, w := range words {
		if t, ok := themeWords[w]; ok && !seenT[t] {
			seenT[t] = true
			a.Themes = append(a.Themes, t)
		}
		e, ok := emotionWords[w]
		if !ok {
			continue
		}
		v := e.valence
		negated := (i > 0 && negators[words[i-1]]) || (i > 1 && negators[words[i-2]])
		if negated {
			v = -v / 2 // "not happy" is mildly negative, "gak sedih" mildly positive
		} else if !seenE[e.emotion] {
			seenE[e.emotion] = true
			a.Emotions = append(a.Emotions, e.emotion)
		}
		sumV += v
		sumA += e.arousal
		n++
	}
	if n > 0 {
		a.Mood.Valence = math.Round(sumV/float64(n)*100) / 100
		a.Mood.Arousal = math.Round(sumA/float64(n)*100) / 100
	} else {
		a.Mood.Arousal = 0.3
	}
	a.Mood.Label = label(a.Mood.Valence)
	sort.Strings(a.Themes)
	return a
}

// suggestions are gentle next steps; with risk, reaching a person comes first.
func suggestions(a *Analysis, lang string) []string {
	id := lang == "id"
	pick := func(idText, enText string) string {
		if id {
			return idText
		}
		return enText
	}
	var out []string
	if a.Risk.Level >= crisis.LevelLow {
		out = append(out, pick("Hubungi orang yang kamu percaya atau layanan profesional; dalam bahaya, hubungi nomor darurat setempat.",
			"Reach out to someone you trust or a professional helpline; in danger, call your local emergency number."))
	}
	has := func(e string) bool {
		for _, x := range a.Emotions {
			if x == e {
				return true
			}
		}
		return false
	}
	switch {
	case has("anxiety") || has("stress") || has("fear"):
		out = append(out, pick("Coba tarik napas perlahan: hitung 4 saat menarik, 6 saat membuang, selama dua menit.", "Try slow breathing: in for 4, out for 6, for two minutes."))
	case has("loneliness"):
		out = append(out, pick("Kirim pesan singkat ke satu orang yang kamu sayang hari ini.", "Send a short message to one person you care about today."))
	case has("fatigue"):
		out = append(out, pick("Beri dirimu waktu istirahat; tidur cukup malam ini bisa membantu.", "Give yourself some rest; a good night's sleep can help."))
	case has("sadness"):
		out = append(out, pick("Tuliskan apa yang kamu rasakan, tanpa menilai dirimu.", "Write down what you feel, without judging yourself."))
	}
	if a.Mood.Valence > 0.3 {
		out = append(out, pick("Catat hal baik hari ini supaya bisa kamu ingat lagi nanti.", "Note what went well today so you can come back to it."))
	}
	if len(out) == 0 {
		out = append(out, pick("Luangkan waktu sejenak untuk memperhatikan perasaanmu hari ini.", "Take a moment to notice how you feel today."))
	}
	return out
}
