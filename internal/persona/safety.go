package persona

import (
	"context"
	"encoding/json"
	"time"

	"mitra/internal/persona/crisis"
	"mitra/internal/platform/access"
	"mitra/internal/platform/database"
	"mitra/internal/platform/logging"
)

// CountryOf tells the country of a user (from their phone), "" when
// unknown. The identity service provides it; persona declares only this.
type CountryOf func(ctx context.Context, userID string) string

// Notice is what a chat answer carries when the user's message shows risk
// at moderate or above: the level, a reply written to safe-messaging
// guidelines in the user's language, and the resources to reach.
type Notice struct {
	Level     crisis.Level    `json:"level"`
	Category  crisis.Category `json:"category"`
	Signals   []string        `json:"signals,omitempty"`
	Language  string          `json:"language"`
	Reply     string          `json:"reply"`
	Country   string          `json:"country"`
	Resources []Resource      `json:"resources"`
}

// Check is the chat's safety check (ai.SafetyCheck): the local detector
// reads the user's messages in order, keeping the conversation's context,
// and a notice comes back when the latest is at moderate or above. It never
// calls out of the process except to read the resources directory.
func (s *Service) Check(ctx context.Context, p access.Principal, userMessages []string) (json.RawMessage, error) {
	if len(userMessages) == 0 {
		return nil, nil
	}
	r := assess(userMessages, s.Now())
	if !r.AtLeast(crisis.LevelModerate) {
		return nil, nil
	}
	return s.notify(ctx, p, r, true)
}

// assess reads the user's messages in order with the local detector,
// keeping the conversation's context, and returns the latest's reading.
// The client sends no times: earlier messages count as just before now.
func assess(userMessages []string, now time.Time) crisis.Result {
	var conv crisis.Conversation
	var r crisis.Result
	for i, m := range userMessages {
		r = conv.AssessAt(m, now.Add(time.Duration(i-len(userMessages))*time.Second))
	}
	return r
}

// notify answers a chat reading at moderate or above: the notice (the
// safe-messaging reply and resources in the user's language), counted for
// the report when count is set, and the rules' follow-up started.
func (s *Service) notify(ctx context.Context, p access.Principal, r crisis.Result, count bool) (json.RawMessage, error) {
	lang := "en"
	if r.Language == "id" || r.Language == "mixed" {
		lang = "id"
	}
	country, res := s.crisisResources(ctx, p.UserID, lang)
	n := Notice{Level: r.Level, Category: r.Category, Signals: r.Signals, Language: lang, Reply: safeReply(lang, r.Level, country, res), Country: country, Resources: res}
	if count {
		s.recordNotice(ctx, r.Level, "chat")
	}
	// What follows is the rules' (high and above always open an event for
	// the counselor queue; below, only when the rule involves a person). A
	// failure here must not cost the person their answer: it is logged.
	if err := s.followUp(ctx, p.UserID, r, lang); err != nil {
		logging.FromContext(ctx).Error("crisis follow-up not started", "err", err)
	}
	logging.FromContext(ctx).Warn("crisis risk in chat", "user_id", p.UserID, "level", r.Level.String(), "category", string(r.Category))
	return json.Marshal(n)
}

// followUp starts what the rules give a chat notice: an event (and its
// workflow) at high and above, or when the level's rule notifies a
// counselor or alerts contacts; otherwise only the follow-up check-in.
func (s *Service) followUp(ctx context.Context, userID string, r crisis.Result, lang string) error {
	ctx = context.WithoutCancel(ctx)
	rules, err := loadRules(ctx, s.DB)
	if err != nil {
		return err
	}
	rule, _ := rules.For(r.Level)
	if r.AtLeast(crisis.LevelHigh) || rule.Has(ActionNotifyCounselor) || rule.Has(ActionAlertContacts) {
		_, err := s.openEvent(ctx, userID, r.Level, r.Category, r.Signals, "chat", lang)
		return err
	}
	if !rule.Has(ActionScheduleCheckin) || rule.CheckinAfterMinutes == nil {
		return nil
	}
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		return s.scheduleCheckin(ctx, tx, CrisisCheckinArgs{UserID: userID, Level: r.Level.String(), Category: string(r.Category), Language: lang},
			time.Duration(*rule.CheckinAfterMinutes)*time.Minute)
	})
}

// safeReply follows safe-messaging guidelines (WHO, Samaritans): warmth
// without judgment, no talk of means, a clear way to a person now; for high
// and imminent risk, immediate safety and the emergency number first.
func safeReply(lang string, level crisis.Level, country string, res []Resource) string {
	// Name a listening service, not the emergency number (which the high
	// risk reply names itself): emergency numbers sort below priority 10.
	first := ""
	for i, r := range res {
		if r.Priority >= 10 || i == len(res)-1 {
			first = r.Name
			if r.Phone != "" {
				first += " (" + r.Phone + ")"
			}
			break
		}
	}
	if lang == "id" {
		if level >= crisis.LevelHigh {
			msg := "Aku sangat peduli dengan keselamatanmu sekarang. Kalau kamu sudah melukai diri atau merasa tidak aman, tolong hubungi " + emergencyOr(country, res, "id") + " sekarang juga atau minta orang di dekatmu menemanimu. Kamu tidak harus melewati ini sendirian."
			if first != "" {
				msg += " Kamu juga bisa menghubungi " + first + "."
			}
			return msg + " Aku tetap di sini kalau kamu mau cerita."
		}
		msg := "Terima kasih sudah mau cerita. Kedengarannya kamu sedang menanggung sesuatu yang sangat berat, dan perasaanmu itu penting. Bicara dengan orang yang terlatih untuk mendengarkan bisa membantu."
		if first != "" {
			msg += " Kamu bisa menghubungi " + first + "."
		}
		return msg + " Kalau kamu mau, ceritakan apa yang paling berat buatmu saat ini."
	}
	if level >= crisis.LevelHigh {
		msg := "I care about your safety right now. If you have hurt yourself or feel you might, please call your local emergency number now, or ask someone near you to stay with you. You don't have to go through this alone."
		if first != "" {
			msg += " You can also reach " + first + "."
		}
		return msg + " I'm still here if you want to talk."
	}
	msg := "Thank you for telling me. It sounds like you're carrying something really heavy, and how you feel matters. Talking with someone trained to listen can help."
	if first != "" {
		msg += " You can reach " + first + "."
	}
	return msg + " If you'd like, tell me what feels hardest right now."
}

// crisisResources returns the country whose resources a person at risk
// is shown (theirs when known, else Indonesia for an Indonesian speaker,
// else international) and those resources: from the directory, else the
// ones known by heart (fallbackResources), so that the answer always
// carries somewhere to turn.
func (s *Service) crisisResources(ctx context.Context, userID, lang string) (string, []Resource) {
	country := ""
	if s.Country != nil {
		country = s.Country(ctx, userID)
	}
	if country == "" {
		country = InternationalCountry
		if lang == "id" {
			country = "ID"
		}
	}
	res, err := s.Resources(ctx, country)
	if err != nil || len(res) == 0 {
		logging.FromContext(ctx).Error("crisis resources unavailable", "err", err)
		res = fallbackResources(country)
	}
	return country, res
}

// emergencyNumberIn returns the emergency number of country: the
// directory's (an entry of the country below priority 10) when res has
// one, else the one known by heart (emergencyNumbers), else "".
func emergencyNumberIn(country string, res []Resource) string {
	for _, r := range res {
		if r.Country == country && r.Priority < 10 && r.Phone != "" {
			return r.Phone
		}
	}
	return emergencyNumbers[country]
}

// emergencyOr is emergencyNumberIn, or "your local emergency number" in
// lang when the country's is not known.
func emergencyOr(country string, res []Resource, lang string) string {
	if n := emergencyNumberIn(country, res); n != "" {
		return n
	}
	return textIn(localEmergency, lang)
}

// fallbackResources are used when the directory cannot be read: the
// country's emergency number when known by heart, Indonesia's listening
// service, and the international directory.
func fallbackResources(country string) []Resource {
	out := []Resource{}
	if n, ok := emergencyNumbers[country]; ok {
		name, lang := "Emergency number", "en"
		if country == "ID" {
			name, lang = "Nomor darurat", "id"
		}
		out = append(out, Resource{Country: country, Name: name, Phone: n, Priority: 5, Active: true, Languages: []string{lang}})
	}
	if country == "ID" {
		out = append(out, Resource{Country: "ID", Name: "Layanan SEJIWA", Phone: "119 ext 8", Priority: 10, Active: true, Languages: []string{"id"}})
	}
	return append(out, Resource{Country: InternationalCountry, Name: "Find A Helpline", URL: "https://findahelpline.com", Priority: 1000, Active: true, Languages: []string{"en"}})
}
