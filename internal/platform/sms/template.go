package sms

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"mitra/internal/platform/logging"
)

// Template is a business message other than a one-time code: an approved
// (in India, DLT-registered) template chosen by Name and Language, filled
// with Params in order. Text is the whole message as the template reads
// once filled; providers send only the template and its parameters, the log
// sender writes Text.
type Template struct {
	Name     string   // the logical template, such as "contact_alert"
	Language string   // "id", "en"
	Params   []string // the template's variables, in order
	Text     string   // the filled message, for the log and for tests
}

// TemplateSender delivers template messages by SMS. phone is E.164. As for
// OTPSender, an error wrapping ErrPermanent must not be retried, any other
// may be, and no error text holds the message, the number or a credential.
type TemplateSender interface {
	SendTemplate(ctx context.Context, phone string, t Template) error
	Name() string
}

var (
	_ TemplateSender = (*MSG91)(nil)
	_ TemplateSender = LogSender{}
)

// maxParamRunes bounds one template variable; MSG91 counts a message in
// 160-character parts, and no variable of ours needs more than this.
const maxParamRunes = 300

func validateTemplate(phone string, t Template) error {
	if !validPhone(phone) {
		return &Error{Permanent: true, reason: "invalid phone number (want E.164, such as +919812345678)"}
	}
	if t.Name == "" || t.Language == "" {
		return &Error{Permanent: true, reason: "template name and language are required"}
	}
	for _, p := range t.Params {
		if p == "" || !utf8.ValidString(p) || utf8.RuneCountInString(p) > maxParamRunes {
			return &Error{Permanent: true, reason: "invalid template parameter (empty, not UTF-8 or too long)"}
		}
	}
	return nil
}

// TemplateKey names a template in MSG91Config.Flows: "name.language".
func TemplateKey(name, language string) string { return name + "." + language }

// msg91FlowPath is the send-SMS endpoint of MSG91's v5 flow API.
const msg91FlowPath = "/api/v5/flow"

// SendTemplate sends t to phone through MSG91's flow API with the flow
// template configured for t's name and language (MSG91Config.Flows).
//
// The request is POST {BaseURL}/api/v5/flow with the "authkey" header and
// the body {"template_id":…,"short_url":"0","recipients":[{"mobiles":…,
// "var1":…,"var2":…}]}: mobiles is the E.164 number without "+", and the
// template's variables must be named var1, var2… in the order of Params.
// MSG91 answers {"type":"success","message":…} or {"type":"error",…},
// classified as for SendOTP. A template with no configured flow fails
// permanently without a call.
func (m *MSG91) SendTemplate(ctx context.Context, phone string, t Template) error {
	if err := validateTemplate(phone, t); err != nil {
		return err
	}
	flow := m.flows[TemplateKey(t.Name, t.Language)]
	if flow == "" {
		return &Error{Provider: m.Name(), Permanent: true, reason: "no flow template configured for " + strconv.Quote(TemplateKey(t.Name, t.Language))}
	}
	recipient := map[string]string{"mobiles": phone[1:]}
	for i, p := range t.Params {
		recipient["var"+strconv.Itoa(i+1)] = p
	}
	body, err := json.Marshal(map[string]any{"template_id": flow, "short_url": "0", "recipients": []map[string]string{recipient}})
	if err != nil {
		return &Error{Provider: m.Name(), Permanent: true, reason: "could not encode the request"}
	}
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.flowEndpoint.String(), strings.NewReader(string(body)))
	if err != nil {
		return &Error{Provider: m.Name(), Permanent: true, reason: "could not build the request"}
	}
	req.Header.Set("authkey", m.authKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := m.client.Do(req)
	if err != nil {
		return transportError(ctx, m.Name(), err)
	}
	defer resp.Body.Close()
	return m.classify(ctx, resp)
}

// SendTemplate is the development sender of template messages: it logs the
// filled text, the template and the number masked ("message (development:
// not sent)"), and sends nothing. It checks its arguments as MSG91 does.
func (s LogSender) SendTemplate(ctx context.Context, phone string, t Template) error {
	if err := validateTemplate(phone, t); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sms: log: %w", err)
	}
	l := s.Logger
	if l == nil {
		l = slog.Default()
	}
	l.LogAttrs(ctx, slog.LevelInfo, "message (development: not sent)", slog.String("channel", "sms"),
		slog.String("phone", logging.MaskPhone(phone)), slog.String("template", t.Name), slog.String("language", t.Language), slog.String("text", t.Text))
	return nil
}
