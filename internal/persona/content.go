package persona

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"mitra/internal/platform/access"
	"mitra/internal/platform/database"
	"mitra/internal/platform/logging"
)

// ContentInput asks for today's home-tab content.
type ContentInput struct {
	Language   string `json:"language,omitempty" enum:"id,en" default:"id"`
	Regenerate bool   `json:"regenerate,omitempty" doc:"Write new content even if today's exists"`
}

// HomeContent is the home tab's daily content.
type HomeContent struct {
	Day         string    `json:"day" example:"2026-11-22"`
	Language    string    `json:"language"`
	Reflection  string    `json:"reflection"`
	Tip         string    `json:"tip"`
	Affirmation string    `json:"affirmation"`
	MoodContext string    `json:"mood_context" enum:"none,low,steady,good" doc:"What the recent mood check-ins said"`
	Source      string    `json:"source" enum:"model,local"`
	CreatedAt   time.Time `json:"created_at"`
}

// Content returns the caller's content for today (UTC) in a language:
// cached per user and day, written anew on request, shaped by the last
// week's mood check-ins; by the model when available, else from a
// hand-written set.
func (s *Service) Content(ctx context.Context, in ContentInput) (*HomeContent, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	lang := in.Language
	if lang != "en" {
		lang = "id"
	}
	now := s.Now().UTC()
	day := now.Format("2006-01-02")
	if !in.Regenerate {
		var raw string
		err := s.DB.QueryRow(ctx, `SELECT content FROM home_content WHERE user_id = ? AND day = ? AND language = ?`, p.UserID, day, lang).Scan(&raw)
		if err == nil {
			var c HomeContent
			if json.Unmarshal([]byte(raw), &c) == nil {
				return &c, nil
			}
		} else if !errors.Is(err, database.ErrNoRows) {
			return nil, fmt.Errorf("persona: content: %w", err)
		}
	}
	mood, err := s.recentMood(ctx, p.UserID, now)
	if err != nil {
		return nil, err
	}
	c := &HomeContent{Day: day, Language: lang, MoodContext: mood, CreatedAt: now}
	if s.Model == nil || !s.modelContent(ctx, p, c) {
		localContent(c, p.UserID, in.Regenerate, now)
	}
	raw, _ := json.Marshal(c)
	if _, err := s.DB.Exec(ctx, `INSERT INTO home_content (user_id, day, language, content, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id, day, language) DO UPDATE SET content = excluded.content, created_at = excluded.created_at`,
		p.UserID, day, lang, string(raw), now); err != nil {
		return nil, fmt.Errorf("persona: content: %w", err)
	}
	return c, nil
}

// recentMood summarises the last seven days of check-ins.
func (s *Service) recentMood(ctx context.Context, userID string, now time.Time) (string, error) {
	var n int
	var avg *float64
	if err := s.DB.QueryRow(ctx, `SELECT count(*), avg(score) FROM mood_checkins WHERE user_id = ? AND created_at >= ?`, userID, now.AddDate(0, 0, -7)).Scan(&n, &avg); err != nil {
		return "", fmt.Errorf("persona: recent mood: %w", err)
	}
	switch {
	case n == 0 || avg == nil:
		return "none", nil
	case *avg < 4.5:
		return "low", nil
	case *avg < 7:
		return "steady", nil
	}
	return "good", nil
}

const contentPrompt = `You write the daily home screen of a wellbeing companion app. Answer with JSON only:
{"reflection":"2-3 warm sentences","tip":"one small, concrete, safe wellbeing tip","affirmation":"one short first-person affirmation"}
No medical advice, no diagnosis, nothing about self-harm methods. Language: %s. The user's mood this week: %s.`

func (s *Service) modelContent(ctx context.Context, p access.Principal, c *HomeContent) bool {
	langName := map[string]string{"id": "Indonesian (casual, warm)", "en": "English"}[c.Language]
	moodText := map[string]string{"none": "unknown", "low": "low; be gentle, validating, not cheerful", "steady": "mixed", "good": "good"}[c.MoodContext]
	out, err := s.Model.CompleteText(ctx, p, fmt.Sprintf(contentPrompt, langName, moodText), "Write today's content.", 300)
	if err != nil {
		logging.FromContext(ctx).Warn("content model unavailable; local content used", "err", err)
		return false
	}
	out = strings.TrimSpace(strings.TrimPrefix(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(out), "```json"), "```"), "```"))
	var m struct{ Reflection, Tip, Affirmation string }
	if json.Unmarshal([]byte(out), &m) != nil || m.Reflection == "" || m.Tip == "" || m.Affirmation == "" ||
		len(m.Reflection) > 1000 || len(m.Tip) > 500 || len(m.Affirmation) > 300 {
		return false
	}
	c.Reflection, c.Tip, c.Affirmation, c.Source = m.Reflection, m.Tip, m.Affirmation, "model"
	return true
}

// localSet is hand-written content per language and mood.
var localSet = map[string]map[string][][3]string{
	"id": {
		"low": {
			{"Hari-hari berat tidak menentukan siapa dirimu. Tidak apa-apa kalau hari ini kamu hanya bisa melangkah sedikit.", "Minum segelas air dan duduk di dekat jendela selama lima menit.", "Aku boleh pelan-pelan. Aku tetap berharga."},
			{"Perasaan berat itu nyata, dan kamu tidak harus menanggungnya sendirian.", "Kirim pesan singkat ke satu orang yang kamu percaya.", "Aku pantas mendapat kebaikan, termasuk dari diriku sendiri."},
		},
		"steady": {
			{"Ada hari naik, ada hari turun. Perhatikan satu hal kecil yang berjalan baik hari ini.", "Jalan kaki sepuluh menit tanpa melihat ponsel.", "Aku sedang belajar, dan itu cukup."},
			{"Kamu tidak harus sempurna untuk terus bertumbuh.", "Tulis tiga hal yang kamu syukuri sebelum tidur.", "Aku memberi diriku ruang untuk bernapas."},
		},
		"good": {
			{"Senang melihat minggumu berjalan baik. Simpan momen-momen ini sebagai pengingat.", "Bagikan kabar baik ke orang terdekatmu.", "Aku menghargai usahaku sendiri."},
		},
		"none": {
			{"Setiap hari adalah kesempatan kecil untuk mengenal dirimu lebih baik.", "Luangkan satu menit untuk memeriksa perasaanmu hari ini.", "Aku layak diperhatikan, juga oleh diriku sendiri."},
		},
	},
	"en": {
		"low": {
			{"Hard days don't define who you are. It's okay if today you can only take a small step.", "Drink a glass of water and sit by a window for five minutes.", "I can go slowly. I still matter."},
			{"Heavy feelings are real, and you don't have to carry them alone.", "Send a short message to one person you trust.", "I deserve kindness, including from myself."},
		},
		"steady": {
			{"Some days go up, some go down. Notice one small thing that went well today.", "Take a ten-minute walk without your phone.", "I am learning, and that is enough."},
			{"You don't have to be perfect to keep growing.", "Write down three things you're grateful for before bed.", "I give myself room to breathe."},
		},
		"good": {
			{"It's good to see your week going well. Keep these moments as a reminder.", "Share some good news with someone close to you.", "I appreciate my own effort."},
		},
		"none": {
			{"Every day is a small chance to get to know yourself better.", "Take one minute to check in with how you feel today.", "I deserve care, also from myself."},
		},
	},
}

// localContent picks from the hand-written set: the same pick all day,
// another one when regenerating.
func localContent(c *HomeContent, userID string, regenerate bool, now time.Time) {
	set := localSet[c.Language][c.MoodContext]
	h := fnv.New32a()
	h.Write([]byte(userID + c.Day))
	i := int(h.Sum32() % uint32(len(set)))
	if regenerate {
		i = int(now.UnixNano()/int64(time.Millisecond)) % len(set)
	}
	c.Reflection, c.Tip, c.Affirmation, c.Source = set[i][0], set[i][1], set[i][2], "local"
}
