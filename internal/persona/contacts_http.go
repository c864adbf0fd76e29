package persona

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"

	"mitra/internal/platform/apperr"
)

// ContactsOutput lists contacts.
type ContactsOutput struct {
	Body struct {
		Contacts []Contact `json:"contacts"`
	}
}

// ListContacts serves GET /api/v1/emergency-contacts.
func (h Handlers) ListContacts(ctx context.Context, _ *struct{}) (*ContactsOutput, error) {
	list, err := h.S.Contacts(ctx)
	if err != nil {
		return nil, err
	}
	out := &ContactsOutput{}
	out.Body.Contacts = list
	return out, nil
}

// AddContactRequest is POST /api/v1/emergency-contacts.
type AddContactRequest struct{ Body ContactInput }

// ContactOutput is one contact.
type ContactOutput struct {
	Status int
	Body   *Contact
}

// AddContact serves POST /api/v1/emergency-contacts.
func (h Handlers) AddContact(ctx context.Context, in *AddContactRequest) (*ContactOutput, error) {
	c, err := h.S.AddContact(ctx, in.Body)
	if err != nil {
		return nil, err
	}
	return &ContactOutput{Status: http.StatusCreated, Body: c}, nil
}

// ContactPath names a contact.
type ContactPath struct {
	ContactID string `path:"contact_id" maxLength:"36"`
}

// GetContact serves GET /api/v1/emergency-contacts/{contact_id}.
func (h Handlers) GetContact(ctx context.Context, in *ContactPath) (*ContactOutput, error) {
	c, err := h.S.GetContact(ctx, in.ContactID)
	if err != nil {
		return nil, err
	}
	return &ContactOutput{Status: http.StatusOK, Body: c}, nil
}

// UpdateContactRequest is PUT /api/v1/emergency-contacts/{contact_id}.
type UpdateContactRequest struct {
	ContactPath
	Body ContactInput
}

// UpdateContact serves PUT /api/v1/emergency-contacts/{contact_id}.
func (h Handlers) UpdateContact(ctx context.Context, in *UpdateContactRequest) (*ContactOutput, error) {
	c, err := h.S.UpdateContact(ctx, in.ContactID, in.Body)
	if err != nil {
		return nil, err
	}
	return &ContactOutput{Status: http.StatusOK, Body: c}, nil
}

// DeleteContact serves DELETE /api/v1/emergency-contacts/{contact_id}.
func (h Handlers) DeleteContact(ctx context.Context, in *ContactPath) (*struct{}, error) {
	return nil, h.S.DeleteContact(ctx, in.ContactID)
}

// ResendInvite serves POST /api/v1/emergency-contacts/{contact_id}/resend.
func (h Handlers) ResendInvite(ctx context.Context, in *ContactPath) (*ContactOutput, error) {
	c, err := h.S.ResendInvite(ctx, in.ContactID)
	if err != nil {
		return nil, err
	}
	return &ContactOutput{Status: http.StatusAccepted, Body: c}, nil
}

// VerifyContactRequest carries the code the contact read out.
type VerifyContactRequest struct {
	ContactPath
	Body struct {
		Code string `json:"code" minLength:"6" maxLength:"6" pattern:"^[0-9]{6}$" example:"482913"`
	}
}

// VerifyContact serves POST /api/v1/emergency-contacts/{contact_id}/verify.
func (h Handlers) VerifyContact(ctx context.Context, in *VerifyContactRequest) (*ContactOutput, error) {
	c, err := h.S.VerifyContact(ctx, in.ContactID, in.Body.Code)
	if err != nil {
		return nil, err
	}
	return &ContactOutput{Status: http.StatusOK, Body: c}, nil
}

// TokenRequest carries a link's token.
type TokenRequest struct {
	Body struct {
		Token string `json:"token" minLength:"20" maxLength:"200"`
	}
}

// ContactAnswerOutput is the contact's answer as recorded.
type ContactAnswerOutput struct {
	Body struct {
		Status  string `json:"status" enum:"confirmed,declined"`
		StopURL string `json:"stop_url,omitempty" doc:"After confirming: the link that withdraws consent and stops every message, at any time"`
	}
}

// ConfirmContact serves POST /api/v1/emergency-contacts/confirm.
func (h Handlers) ConfirmContact(ctx context.Context, in *TokenRequest) (*ContactAnswerOutput, error) {
	inv, err := h.S.ConfirmContact(ctx, in.Body.Token)
	if err != nil {
		return nil, err
	}
	out := &ContactAnswerOutput{}
	out.Body.Status, out.Body.StopURL = ContactConfirmed, inv.OptOutLink
	return out, nil
}

// DeclineContact serves POST /api/v1/emergency-contacts/decline.
func (h Handlers) DeclineContact(ctx context.Context, in *TokenRequest) (*ContactAnswerOutput, error) {
	if _, err := h.S.DeclineContact(ctx, in.Body.Token); err != nil {
		return nil, err
	}
	out := &ContactAnswerOutput{}
	out.Body.Status = ContactDeclined
	return out, nil
}

// PageRequest carries a link's token in the query.
type PageRequest struct {
	Token string `query:"token" maxLength:"200"`
}

// PageOutput is a small HTML page for people without the app (the
// contacts). Its policy lets its one form post here and nothing else.
type PageOutput struct {
	Status       int
	ContentType  string `header:"Content-Type"`
	CSP          string `header:"Content-Security-Policy"`
	CacheControl string `header:"Cache-Control"`
	Body         []byte
}

const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// pageText is the words of the pages, by language.
var pageText = map[string]map[string]string{
	"en": {
		"title":       "Emergency contact",
		"ask":         "%s added you as an emergency contact in Mitra, a wellbeing app. If %s may be in crisis, Mitra may send you a message so you can check on them. Mitra never shares what they write.",
		"yes":         "Yes, I agree",
		"no":          "No, do not contact me",
		"stop_ask":    "Stop all messages from Mitra to this number? Nobody will be able to add it as an emergency contact again.",
		"stop":        "Stop messages",
		"confirmed":   "Thank you. You are now an emergency contact. You can stop these messages at any time with the link below, which is also in every message from Mitra.",
		"stop_link":   "Stop messages from Mitra",
		"declined":    "Done. Mitra will not send messages to this number again.",
		"invalid":     "This link is not valid or has already been used.",
		"expired":     "This link has expired. Ask the person who added you to send a new invitation.",
		"expired_no":  "You can still say no: Mitra will then never send messages to this number.",
		"unavailable": "Something went wrong. Please try again later.",
	},
	"id": {
		"title":       "Kontak darurat",
		"ask":         "%s menambahkan kamu sebagai kontak darurat di Mitra, aplikasi kesejahteraan. Jika %s mungkin sedang dalam krisis, Mitra dapat mengirimimu pesan agar kamu bisa menanyakan kabarnya. Mitra tidak pernah membagikan isi tulisannya.",
		"yes":         "Ya, saya setuju",
		"no":          "Tidak, jangan hubungi saya",
		"stop_ask":    "Hentikan semua pesan dari Mitra ke nomor ini? Nomor ini tidak akan bisa ditambahkan lagi sebagai kontak darurat.",
		"stop":        "Hentikan pesan",
		"confirmed":   "Terima kasih. Kamu sekarang menjadi kontak darurat. Kamu bisa menghentikan pesan ini kapan saja lewat tautan di bawah ini, yang juga ada di setiap pesan dari Mitra.",
		"stop_link":   "Hentikan pesan dari Mitra",
		"declined":    "Selesai. Mitra tidak akan mengirim pesan ke nomor ini lagi.",
		"invalid":     "Tautan ini tidak berlaku atau sudah dipakai.",
		"expired":     "Tautan ini sudah kedaluwarsa. Minta orang yang menambahkanmu untuk mengirim undangan baru.",
		"expired_no":  "Kamu tetap bisa menolak: Mitra tidak akan pernah mengirim pesan ke nomor ini.",
		"unavailable": "Terjadi kesalahan. Silakan coba lagi nanti.",
	},
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.5}button{font-size:1rem;padding:.6rem 1rem;margin:.3rem .3rem .3rem 0}</style>
</head><body><h1>{{.Title}}</h1>{{range .Paragraphs}}<p>{{.}}</p>{{end}}
{{if .Token}}<form method="post" action="/api/v1/emergency-contacts/respond"><input type="hidden" name="token" value="{{.Token}}">
{{range .Buttons}}<button type="submit" name="answer" value="{{.Value}}">{{.Label}}</button>{{end}}</form>{{end}}
{{if .StopLink}}<p><a href="{{.StopLink}}">{{.StopLabel}}</a><br><code>{{.StopLink}}</code></p>{{end}}
</body></html>
`))

type pageButton struct{ Value, Label string }

type pageData struct {
	Lang, Title, Token  string
	StopLink, StopLabel string // after confirming: the lasting stop link
	Paragraphs          []string
	Buttons             []pageButton
}

func htmlPage(status int, d pageData) *PageOutput {
	var b bytes.Buffer
	_ = pageTemplate.Execute(&b, d)
	return &PageOutput{Status: status, ContentType: "text/html; charset=utf-8", CSP: pageCSP, CacheControl: "no-store", Body: b.Bytes()}
}

// errorPage renders what went wrong, in both languages when the contact's
// is unknown. An expired invitation link (token) still carries the "No"
// button: saying no is always possible (DeclineContact accepts expired
// links), and the invitation told the contact to open the link and choose
// No.
func errorPage(err error, lang, token string) (*PageOutput, error) {
	key, status := "unavailable", http.StatusServiceUnavailable
	var ae *apperr.Error
	if errors.As(err, &ae) {
		switch ae.Code {
		case errInvalidLink.Code:
			key, status = "invalid", http.StatusNotFound
		case errLinkExpired.Code:
			key, status = "expired", http.StatusGone
		}
	} else if err != nil {
		return nil, err // logged by the edge as a 500
	}
	d := pageData{Lang: "en", Title: pageText["en"]["title"] + " / " + pageText["id"]["title"]}
	if lang != "" {
		d = pageData{Lang: lang, Title: pageText[lang]["title"], Paragraphs: []string{pageText[lang][key]}}
	} else {
		d.Paragraphs = []string{pageText["en"][key], pageText["id"][key]}
	}
	if key == "expired" && token != "" {
		d.Token = token
		if lang != "" {
			d.Paragraphs = append(d.Paragraphs, pageText[lang]["expired_no"])
			d.Buttons = []pageButton{{"decline", pageText[lang]["no"]}}
		} else {
			d.Paragraphs = append(d.Paragraphs, pageText["en"]["expired_no"], pageText["id"]["expired_no"])
			d.Buttons = []pageButton{{"decline", pageText["en"]["no"] + " / " + pageText["id"]["no"]}}
		}
	}
	return htmlPage(status, d), nil
}

// ConfirmPage serves GET /api/v1/emergency-contacts/confirm?token=: the
// page a contact opens from the invitation. Opening it changes nothing
// (link previews open links too); its buttons post the answer.
func (h Handlers) ConfirmPage(ctx context.Context, in *PageRequest) (*PageOutput, error) {
	inv, err := h.S.Invitation(ctx, in.Token)
	if err != nil {
		lang := ""
		if inv != nil {
			lang = inv.Language
		}
		return errorPage(err, lang, in.Token)
	}
	t := pageText[inv.Language]
	return htmlPage(http.StatusOK, pageData{Lang: inv.Language, Title: t["title"], Token: in.Token,
		Paragraphs: []string{fmt.Sprintf(t["ask"], inv.UserName, inv.UserName)},
		Buttons:    []pageButton{{"confirm", t["yes"]}, {"decline", t["no"]}}}), nil
}

// DeclinePage serves GET /api/v1/emergency-contacts/decline?token=: the
// stop link of every message. Opening it changes nothing.
func (h Handlers) DeclinePage(ctx context.Context, in *PageRequest) (*PageOutput, error) {
	lang := h.S.optOutLanguage(ctx, in.Token)
	if lang == "" {
		return errorPage(errInvalidLink, "", "")
	}
	t := pageText[lang]
	return htmlPage(http.StatusOK, pageData{Lang: lang, Title: t["title"], Token: in.Token, Paragraphs: []string{t["stop_ask"]},
		Buttons: []pageButton{{"decline", t["stop"]}}}), nil
}

// RespondRequest is the form of the pages.
type RespondRequest struct {
	RawBody []byte `contentType:"application/x-www-form-urlencoded"`
}

// Respond serves POST /api/v1/emergency-contacts/respond, the pages' form
// (token, answer=confirm|decline), and answers with a page.
func (h Handlers) Respond(ctx context.Context, in *RespondRequest) (*PageOutput, error) {
	form, err := url.ParseQuery(string(in.RawBody))
	if err != nil {
		return errorPage(errInvalidLink, "", "")
	}
	token := form.Get("token")
	var inv *Invitation
	key := "confirmed"
	switch form.Get("answer") {
	case "confirm":
		inv, err = h.S.ConfirmContact(ctx, token)
	case "decline":
		inv, err = h.S.DeclineContact(ctx, token)
		key = "declined"
	default:
		err = errInvalidLink
	}
	if err != nil {
		lang := ""
		if inv != nil {
			lang = inv.Language
		}
		return errorPage(err, lang, token)
	}
	t := pageText[inv.Language]
	d := pageData{Lang: inv.Language, Title: t["title"], Paragraphs: []string{t[key]}}
	if key == "confirmed" {
		d.StopLink, d.StopLabel = inv.OptOutLink, t["stop_link"]
	}
	return htmlPage(http.StatusOK, d), nil
}

// optOutLanguage returns the language of the contact of a stop token, ""
// when the token is not valid.
func (s *Service) optOutLanguage(ctx context.Context, token string) string {
	id := s.contactOfOptOut(token)
	if id == "" {
		return ""
	}
	var lang string
	if err := s.DB.QueryRow(ctx, `SELECT language FROM emergency_contacts WHERE id = ?`, id).Scan(&lang); err != nil {
		return ""
	}
	if _, ok := pageText[lang]; !ok {
		lang = "en"
	}
	return lang
}

// RulesOutput is the rule set.
type RulesOutput struct {
	Body struct {
		Rules                       []Rule `json:"rules"`
		DefaultEscalateAfterSeconds int    `json:"default_escalate_after_seconds" doc:"MITRA_CRISIS_ESCALATE_AFTER, used by rules without their own escalation"`
	}
}

// Rules serves GET /api/v1/crisis/rules.
func (h Handlers) Rules(ctx context.Context, _ *struct{}) (*RulesOutput, error) {
	rules, err := h.S.Rules(ctx)
	if err != nil {
		return nil, err
	}
	return h.rulesOutput(rules), nil
}

func (h Handlers) rulesOutput(rules []Rule) *RulesOutput {
	out := &RulesOutput{}
	out.Body.Rules, out.Body.DefaultEscalateAfterSeconds = rules, int(h.S.EscalateAfterDefault().Seconds())
	return out
}

// PutRulesRequest replaces the rules.
type PutRulesRequest struct {
	Body struct {
		Rules []RuleInput `json:"rules" minItems:"3" maxItems:"3"`
	}
}

// PutRules serves PUT /api/v1/crisis/rules.
func (h Handlers) PutRules(ctx context.Context, in *PutRulesRequest) (*RulesOutput, error) {
	rules, err := h.S.PutRules(ctx, in.Body.Rules)
	if err != nil {
		return nil, err
	}
	return h.rulesOutput(rules), nil
}

// CheckinsOutput lists pending check-ins.
type CheckinsOutput struct {
	Body struct {
		CheckIns []CheckIn `json:"check_ins"`
	}
}

// Checkins serves GET /api/v1/crisis/check-ins.
func (h Handlers) Checkins(ctx context.Context, _ *struct{}) (*CheckinsOutput, error) {
	list, err := h.S.Checkins(ctx)
	if err != nil {
		return nil, err
	}
	out := &CheckinsOutput{}
	out.Body.CheckIns = list
	return out, nil
}

// AnswerCheckinRequest is POST /api/v1/crisis/check-ins/{checkin_id}.
type AnswerCheckinRequest struct {
	CheckinID string `path:"checkin_id" maxLength:"36"`
	Body      CheckinAnswer
}

// CheckinResultOutput is the answered check-in.
type CheckinResultOutput struct{ Body *CheckinResult }

// AnswerCheckin serves POST /api/v1/crisis/check-ins/{checkin_id}.
func (h Handlers) AnswerCheckin(ctx context.Context, in *AnswerCheckinRequest) (*CheckinResultOutput, error) {
	r, err := h.S.AnswerCheckin(ctx, in.CheckinID, in.Body)
	if err != nil {
		return nil, err
	}
	return &CheckinResultOutput{Body: r}, nil
}
