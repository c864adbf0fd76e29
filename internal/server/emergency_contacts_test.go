package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"mitra/internal/ai"
	"mitra/internal/auth/authtest"
	"mitra/internal/persona"
	"mitra/internal/platform/access"
	"mitra/internal/platform/config"
	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
	"mitra/internal/platform/jobs"
	"mitra/internal/platform/sms"
	"mitra/internal/platform/textfake"
	"mitra/internal/platform/whatsapp"
	"mitra/internal/server"
)

// clock is the Persona service's own clock, moved by hand (expiry of codes
// and links, alert cooldowns) without touching token lifetimes.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// crisisEnv is the whole API with the crisis workflow running: jobs
// started, messages to contacts going to fake MSG91 and WhatsApp servers.
type crisisEnv struct {
	s     *server.Server
	e     *authtest.Env
	ps    *persona.Service
	q     *jobs.Queue
	msg91 *textfake.Server
	wa    *textfake.Server
	clock *clock
	ips   atomic.Int32
}

func newCrisisEnv(t *testing.T, db *database.DB) *crisisEnv {
	t.Helper()
	conf, _, err := config.Load("test", func(string) string { return "" }, nil, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	conf.DataDir, conf.Products = t.TempDir(), []string{"persona"}
	env := &crisisEnv{e: authtest.New(t, db, authtest.Memory), clock: &clock{}}
	env.msg91 = textfake.NewMSG91(t, "msg91-key")
	env.wa = textfake.NewWhatsApp(t, "wa-token", "1065403522")
	m, err := sms.NewMSG91(sms.MSG91Config{AuthKey: "msg91-key", TemplateID: "otp", BaseURL: env.msg91.URL, Flows: map[string]string{
		"contact_invite.id": "invite-id", "contact_invite.en": "invite-en", "contact_alert.id": "alert-id", "contact_alert.en": "alert-en"}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := whatsapp.New(whatsapp.Config{Token: "wa-token", PhoneNumberID: "1065403522", BaseURL: env.wa.URL,
		Templates: map[string]string{"contact_invite": "mitra_contact_invite", "contact_alert": "mitra_contact_alert"}})
	if err != nil {
		t.Fatal(err)
	}
	env.ps = persona.NewService(db, env.e.Vault, env.clock.Now)
	env.ps.Texts = persona.TextSenders{SMS: m, WhatsApp: w}
	env.ps.UserName, env.ps.Country = env.e.Svc.NameOf, env.e.Svc.CountryOf
	workers := river.NewWorkers()
	env.ps.RegisterJobs(workers, persona.Workflow{PublicURL: "https://mitra.example", EscalateAfter: time.Hour})
	if env.q, err = jobs.New(db, jobs.Options{Workers: workers, PollInterval: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	env.ps.Jobs = env.q
	env.e.Svc.RegisterDataSource(persona.CrisisSupportData{S: env.ps})
	gw := ai.New(ai.Config{}, ai.Deps{DB: db, Limiter: env.e.Limiter})
	t.Cleanup(gw.Close)
	env.s = server.New(server.Deps{Config: conf, Version: "v-test", DB: db, Jobs: env.q, Registry: prometheus.NewRegistry(),
		Auth: env.e.Svc, Limiter: env.e.Limiter, AI: gw, Persona: env.ps})
	if err := env.q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = env.q.Stop(ctx)
	})
	return env
}

// fresh returns c calling from a new address: public contact routes are
// limited per address, as an attacker's would be.
func (env *crisisEnv) fresh(c client) client {
	n := env.ips.Add(1)
	c.ip = fmt.Sprintf("203.0.%d.%d", 100+n/250, 1+n%250)
	return c
}

func (env *crisisEnv) anon(t *testing.T) client { return env.fresh(client{t: t, h: env.s}) }

// lastTo returns the newest message to phone on a fake.
func lastTo(t *testing.T, f *textfake.Server, phone string, n int) textfake.Message {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if m := f.To(phone); len(m) >= n {
			return m[len(m)-1]
		}
	}
	t.Fatalf("%s got %d messages, want %d", phone, len(f.To(phone)), n)
	return textfake.Message{}
}

func token(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("token") == "" {
		t.Fatalf("link %q", link)
	}
	return u.Query().Get("token")
}

func addContact(t *testing.T, c client, name, phone, channel string) map[string]any {
	t.Helper()
	w, b := c.do(http.MethodPost, "/api/v1/emergency-contacts", map[string]string{"name": name, "phone": phone, "relationship": "friend", "channel": channel})
	if w.Code != http.StatusCreated || b["status"] != "pending" {
		t.Fatalf("add %s: %d %v", phone, w.Code, b)
	}
	return b
}

// waitFor polls get until ok accepts the body.
func waitFor(t *testing.T, c client, path string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	var b map[string]any
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if _, b = c.do(http.MethodGet, path, nil); ok(b) {
			return b
		}
	}
	t.Fatalf("%s never became as expected: %v", path, b)
	return nil
}

func TestEmergencyContactsOverHTTP(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		env := newCrisisEnv(t, db)
		rina, rinaID := signUp(t, env.s, "rina@example.com")
		other, _ := signUp(t, env.s, "other@example.com")
		adm := admin(t, env.s, env.e, "contacts-admin@example.com")

		// Validation and anonymous callers.
		if w, _ := env.anon(t).do(http.MethodGet, "/api/v1/emergency-contacts", nil); w.Code != 401 {
			t.Fatalf("anonymous list: %d", w.Code)
		}
		for _, bad := range []map[string]string{
			{"name": "X", "phone": "12345", "relationship": "friend", "channel": "sms"},
			{"name": "X", "phone": "+62215551234", "relationship": "friend", "channel": "sms"}, // a Jakarta landline
			{"name": "X", "phone": "081234567890", "relationship": "friend", "channel": "fax"},
			{"name": "X", "phone": "081234567890", "relationship": "boss", "channel": "sms"},
			{"name": " ", "phone": "081234567890", "relationship": "friend", "channel": "sms"},
			{"name": "X", "phone": "081234567890", "relationship": "friend", "channel": "sms", "status": "confirmed"},
		} {
			if w, b := rina.do(http.MethodPost, "/api/v1/emergency-contacts", bad); w.Code != 422 {
				t.Errorf("%v: %d %v", bad, w.Code, b)
			}
		}

		// Add: pending, an invitation goes out in the contact's language.
		sari := addContact(t, rina, "Ibu Sari", "0812-3456-7890", "sms")
		sariID := sari["id"].(string)
		if sari["phone"] != "+6281234567890" || sari["language"] != "id" || sari["invite_status"] != "queued" || sari["invitation_expires_at"] == nil {
			t.Fatalf("contact %v", sari)
		}
		inv := lastTo(t, env.msg91, "+6281234567890", 1)
		if inv.Template != "invite-id" || inv.Params[0] != "Someone" || !strings.HasPrefix(inv.Params[1], "https://mitra.example/api/v1/emergency-contacts/confirm?token=") || len(inv.Params[2]) != 6 {
			t.Fatalf("invitation %+v", inv)
		}
		waitFor(t, rina, "/api/v1/emergency-contacts/"+sariID, func(b map[string]any) bool { return b["invite_status"] == "sent" })
		if w, b := rina.do(http.MethodPost, "/api/v1/emergency-contacts", map[string]string{"name": "Again", "phone": "+6281234567890", "relationship": "parent", "channel": "whatsapp"}); w.Code != 409 || b["code"] != "contact_exists" {
			t.Fatalf("duplicate: %d %v", w.Code, b)
		}

		// Another user's contact is not found, whatever the verb.
		for _, r := range []struct{ method, path string }{
			{http.MethodGet, ""}, {http.MethodPut, ""}, {http.MethodDelete, ""}, {http.MethodPost, "/resend"}, {http.MethodPost, "/verify"},
		} {
			body := any(map[string]string{"name": "X", "phone": "081234567890", "relationship": "friend", "channel": "sms"})
			if r.path == "/verify" {
				body = map[string]string{"code": inv.Params[2]}
			}
			if r.method == http.MethodGet || r.method == http.MethodDelete {
				body = nil
			}
			if w, b := env.fresh(other).do(r.method, "/api/v1/emergency-contacts/"+sariID+r.path, body); w.Code != 404 {
				t.Errorf("other user %s %s: %d %v", r.method, r.path, w.Code, b)
			}
		}
		if _, b := other.do(http.MethodGet, "/api/v1/emergency-contacts", nil); len(b["contacts"].([]any)) != 0 {
			t.Fatalf("other user's list: %v", b)
		}

		// Confirmation by link: opening the page changes nothing; the
		// button (or the API) does, once.
		tok := token(t, inv.Params[1])
		w, _ := env.anon(t).do(http.MethodGet, "/api/v1/emergency-contacts/confirm?token="+url.QueryEscape(tok), nil)
		page := w.Body.String()
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") || !strings.Contains(page, "Someone menambahkan kamu") ||
			!strings.Contains(page, `value="confirm"`) || !strings.Contains(w.Header().Get("Content-Security-Policy"), "form-action 'self'") {
			t.Fatalf("confirmation page: %d %s", w.Code, page)
		}
		if _, b := rina.do(http.MethodGet, "/api/v1/emergency-contacts/"+sariID, nil); b["status"] != "pending" {
			t.Fatalf("opening the page confirmed: %v", b)
		}
		if w, b := env.anon(t).do(http.MethodPost, "/api/v1/emergency-contacts/confirm", map[string]string{"token": tok}); w.Code != 200 || b["status"] != "confirmed" {
			t.Fatalf("confirm: %d %v", w.Code, b)
		}
		if w, b := env.anon(t).do(http.MethodPost, "/api/v1/emergency-contacts/confirm", map[string]string{"token": tok}); w.Code != 404 || b["code"] != "invalid_link" {
			t.Fatalf("link used twice: %d %v", w.Code, b)
		}
		if _, b := rina.do(http.MethodGet, "/api/v1/emergency-contacts/"+sariID, nil); b["status"] != "confirmed" || b["confirmed_by"] != "link" || b["invitation_expires_at"] != nil {
			t.Fatalf("after confirmation: %v", b)
		}
		if w, b := rina.do(http.MethodPost, "/api/v1/emergency-contacts/"+sariID+"/resend", nil); w.Code != 409 || b["code"] != "contact_not_pending" {
			t.Fatalf("resend to a confirmed contact: %d %v", w.Code, b)
		}

		// Confirmation by code, on WhatsApp, in English: a wrong code
		// counts, the right one confirms.
		arjun := addContact(t, rina, "Arjun", "+91 98123 45678", "whatsapp")
		arjunID := arjun["id"].(string)
		waInv := lastTo(t, env.wa, "+919812345678", 1)
		if waInv.Template != "mitra_contact_invite" || waInv.Language != "en" || len(waInv.Params) != 4 {
			t.Fatalf("WhatsApp invitation %+v", waInv)
		}
		wrong := "000000"
		if waInv.Params[2] == wrong {
			wrong = "111111"
		}
		if w, b := env.fresh(rina).do(http.MethodPost, "/api/v1/emergency-contacts/"+arjunID+"/verify", map[string]string{"code": wrong}); w.Code != 422 || b["code"] != "invalid_code" || !strings.Contains(b["detail"].(string), "4 tries left") {
			t.Fatalf("wrong code: %d %v", w.Code, b)
		}
		if w, b := env.fresh(rina).do(http.MethodPost, "/api/v1/emergency-contacts/"+arjunID+"/verify", map[string]string{"code": "12ab56"}); w.Code != 422 {
			t.Fatalf("malformed code: %d %v", w.Code, b)
		}
		if w, b := env.fresh(rina).do(http.MethodPost, "/api/v1/emergency-contacts/"+arjunID+"/verify", map[string]string{"code": waInv.Params[2]}); w.Code != 200 || b["status"] != "confirmed" || b["confirmed_by"] != "code" {
			t.Fatalf("right code: %d %v", w.Code, b)
		}

		// A third contact: the code expires after a day, the link after a
		// week; a new invitation brings a new code (and kills the old one).
		budi := addContact(t, rina, "Budi", "081298765432", "sms")
		budiID := budi["id"].(string)
		first := lastTo(t, env.msg91, "+6281298765432", 1)
		if w, b := rina.do(http.MethodPost, "/api/v1/emergency-contacts", map[string]string{"name": "Four", "phone": "085712345678", "relationship": "sibling", "channel": "sms"}); w.Code != 409 || b["code"] != "contact_limit" {
			t.Fatalf("fourth contact: %d %v", w.Code, b)
		}
		if w, b := rina.do(http.MethodPost, "/api/v1/emergency-contacts/"+budiID+"/resend", nil); w.Code != 429 || b["code"] != "rate_limited" {
			t.Fatalf("resend at once: %d %v", w.Code, b)
		}
		env.clock.Add(25 * time.Hour)
		if w, b := env.fresh(rina).do(http.MethodPost, "/api/v1/emergency-contacts/"+budiID+"/verify", map[string]string{"code": first.Params[2]}); w.Code != 410 || b["code"] != "code_expired" {
			t.Fatalf("expired code: %d %v", w.Code, b)
		}
		env.clock.Add(7 * 24 * time.Hour)
		if w, b := env.anon(t).do(http.MethodPost, "/api/v1/emergency-contacts/confirm", map[string]string{"token": token(t, first.Params[1])}); w.Code != 410 || b["code"] != "link_expired" {
			t.Fatalf("expired link: %d %v", w.Code, b)
		}
		// The expired page still offers "No" (the invitation says: open
		// the link and choose No), and so does a late "Yes".
		late := url.Values{"token": {token(t, first.Params[1])}, "answer": {"confirm"}}.Encode()
		for i := 0; i < 2; i++ {
			w, _ := env.anon(t).do(http.MethodGet, "/api/v1/emergency-contacts/confirm?token="+url.QueryEscape(token(t, first.Params[1])), nil)
			if i == 1 {
				w, _ = env.anon(t).do(http.MethodPost, "/api/v1/emergency-contacts/respond", late, "Content-Type", "application/x-www-form-urlencoded")
			}
			page := w.Body.String()
			if w.Code != 410 || !strings.Contains(page, "kedaluwarsa") || !strings.Contains(page, `name="answer" value="decline"`) ||
				!strings.Contains(page, `name="token" value="`+token(t, first.Params[1])+`"`) {
				t.Fatalf("expired page: %d %s", w.Code, page)
			}
		}
		if w, b := rina.do(http.MethodPost, "/api/v1/emergency-contacts/"+budiID+"/resend", nil); w.Code != 202 || b["status"] != "pending" {
			t.Fatalf("resend: %d %v", w.Code, b)
		}
		second := lastTo(t, env.msg91, "+6281298765432", 2)
		if second.Params[1] == first.Params[1] {
			t.Fatal("the new invitation reuses the old link")
		}
		// Five wrong codes kill the code, even the right one after.
		for i := 0; i < 5; i++ {
			code := fmt.Sprintf("%06d", i)
			if code == second.Params[2] {
				code = "999999"
			}
			w, b := env.fresh(rina).do(http.MethodPost, "/api/v1/emergency-contacts/"+budiID+"/verify", map[string]string{"code": code})
			if (i < 4 && w.Code != 422) || (i == 4 && (w.Code != 410 || b["code"] != "code_expired")) {
				t.Fatalf("wrong code %d: %d %v", i, w.Code, b)
			}
		}
		if w, _ := env.fresh(rina).do(http.MethodPost, "/api/v1/emergency-contacts/"+budiID+"/verify", map[string]string{"code": second.Params[2]}); w.Code != 410 {
			t.Fatalf("right code after five wrong: %d", w.Code)
		}

		// The contact says no with the page's form: declined, the number
		// opted out for everyone, and nothing more is sent to it.
		form := url.Values{"token": {token(t, second.Params[1])}, "answer": {"decline"}}.Encode()
		w, _ = env.anon(t).do(http.MethodPost, "/api/v1/emergency-contacts/respond", form, "Content-Type", "application/x-www-form-urlencoded")
		if w.Code != 200 || !strings.Contains(w.Body.String(), "Mitra tidak akan mengirim pesan ke nomor ini lagi") {
			t.Fatalf("decline by form: %d %s", w.Code, w.Body)
		}
		if _, b := rina.do(http.MethodGet, "/api/v1/emergency-contacts/"+budiID, nil); b["status"] != "declined" || b["declined_at"] == nil {
			t.Fatalf("after declining: %v", b)
		}
		if w, b := rina.do(http.MethodPost, "/api/v1/emergency-contacts/"+budiID+"/resend", nil); w.Code != 409 {
			t.Fatalf("resend to a declined contact: %d %v", w.Code, b)
		}
		if w, b := other.do(http.MethodPost, "/api/v1/emergency-contacts", map[string]string{"name": "B", "phone": "+6281298765432", "relationship": "friend", "channel": "whatsapp"}); w.Code != 409 || b["code"] != "contact_opted_out" {
			t.Fatalf("an opted-out number added by someone else: %d %v", w.Code, b)
		}
		if n := len(env.msg91.To("+6281298765432")) + len(env.wa.To("+6281298765432")); n != 2 {
			t.Fatalf("the opted-out number got %d messages, want the 2 invitations", n)
		}
		if w, _ := env.anon(t).do(http.MethodGet, "/api/v1/emergency-contacts/confirm?token=not-a-real-token-at-all-xx", nil); w.Code != 404 || !strings.Contains(w.Body.String(), "not valid") {
			t.Fatalf("bad token page: %d %s", w.Code, w.Body)
		}

		// Changing the name keeps the consent; a new number needs a new one.
		upd := map[string]string{"name": "Ibu Sari W.", "phone": "+6281234567890", "relationship": "parent", "channel": "sms", "language": "id"}
		if w, b := rina.do(http.MethodPut, "/api/v1/emergency-contacts/"+sariID, upd); w.Code != 200 || b["status"] != "confirmed" || b["name"] != "Ibu Sari W." {
			t.Fatalf("rename: %d %v", w.Code, b)
		}
		upd["phone"] = "085712345678"
		if w, b := rina.do(http.MethodPut, "/api/v1/emergency-contacts/"+sariID, upd); w.Code != 200 || b["status"] != "pending" || b["phone"] != "+6285712345678" {
			t.Fatalf("new number: %d %v", w.Code, b)
		}
		lastTo(t, env.msg91, "+6285712345678", 1)

		// Export holds the contacts; the audit log holds no name or number.
		w, b := rina.do(http.MethodGet, "/api/v1/users/"+rinaID+"/export", nil)
		support, _ := b["domains"].(map[string]any)["crisis_support"].(map[string]any)
		if w.Code != 200 || support == nil || len(support["emergency_contacts"].([]any)) != 3 {
			t.Fatalf("export: %d %v", w.Code, b["domains"])
		}
		w, _ = adm.do(http.MethodGet, "/api/v1/audit?action=emergency_contact.&limit=100", nil)
		for _, secret := range []string{"Sari", "Arjun", "Budi", "81234567890", "9812345678", "81298765432"} {
			if strings.Contains(w.Body.String(), secret) {
				t.Fatalf("the audit log holds %q", secret)
			}
		}
		for _, action := range []string{"emergency_contact.created", "emergency_contact.confirmed", "emergency_contact.declined", "emergency_contact.invitation_sent", "emergency_contact.code_failed", "emergency_contact.updated"} {
			if !strings.Contains(w.Body.String(), `"action":"`+action+`"`) {
				t.Errorf("%s not audited", action)
			}
		}

		// Delete, then erasure removes the rest.
		if w, _ := rina.do(http.MethodDelete, "/api/v1/emergency-contacts/"+arjunID, nil); w.Code != 204 {
			t.Fatalf("delete: %d", w.Code)
		}
		if w, _ := rina.do(http.MethodGet, "/api/v1/emergency-contacts/"+arjunID, nil); w.Code != 404 {
			t.Fatalf("deleted contact: %d", w.Code)
		}
		if w, b := rina.do(http.MethodPost, "/api/v1/users/"+rinaID+"/erasure", nil); w.Code/100 != 2 {
			t.Fatalf("erasure: %d %v", w.Code, b)
		}
		var left int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM emergency_contacts WHERE user_id = ?`, rinaID).Scan(&left); err != nil || left != 0 {
			t.Fatalf("%d contacts left after erasure (%v)", left, err)
		}
	})
}

// Alerts go only to confirmed contacts, on their channel, with a stop link
// that works; after it, that number gets nothing, and a contact is not
// alerted twice within six hours.
func TestAlertsOnlyToConfirmedContacts(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		env := newCrisisEnv(t, db)
		c := client{t: t, h: env.s, ip: "198.51.100.60"}
		w, b := c.do(http.MethodPost, "/api/v1/auth/register", map[string]string{"phone": "081311112222", "password": "correct horse battery", "name": "Dewi"})
		if w.Code != 201 {
			t.Fatalf("register: %d %v", w.Code, b)
		}
		c.token = b["access_token"].(string)
		adm := admin(t, env.s, env.e, "alerts-admin@example.com")

		sms1 := addContact(t, c, "Sari", "081234567890", "sms")
		wa1 := addContact(t, c, "Arjun", "+919812345678", "whatsapp")
		addContact(t, c, "Pending", "081298765432", "sms")
		inv := lastTo(t, env.msg91, "+6281234567890", 1)
		if w, _ := env.anon(t).do(http.MethodPost, "/api/v1/emergency-contacts/confirm", map[string]string{"token": token(t, inv.Params[1])}); w.Code != 200 {
			t.Fatalf("confirm: %d", w.Code)
		}
		waInv := lastTo(t, env.wa, "+919812345678", 1)
		if w, _ := env.fresh(c).do(http.MethodPost, "/api/v1/emergency-contacts/"+wa1["id"].(string)+"/verify", map[string]string{"code": waInv.Params[2]}); w.Code != 200 {
			t.Fatalf("verify: %d", w.Code)
		}
		lastTo(t, env.msg91, "+6281298765432", 1)

		// An imminent message: the notice now; the alerts by job.
		w, b = c.do(http.MethodPost, "/api/ai/chat", msg("I just took 30 pills", false))
		if w.Code != 200 || b["crisis"] == nil || b["crisis"].(map[string]any)["level"] != "imminent" {
			t.Fatalf("chat: %d %v", w.Code, b)
		}
		alert := lastTo(t, env.msg91, "+6281234567890", 2)
		waAlert := lastTo(t, env.wa, "+919812345678", 2)
		// The user's phone is Indonesian: Indonesia's emergency number, for
		// both contacts.
		if alert.Template != "alert-id" || alert.Params[0] != "Dewi" || alert.Params[1] != "112" ||
			waAlert.Template != "mitra_contact_alert" || waAlert.Language != "en" || waAlert.Params[0] != "Dewi" || waAlert.Params[1] != "112" {
			t.Fatalf("alerts %+v %+v", alert, waAlert)
		}
		if n := len(env.msg91.To("+6281298765432")); n != 1 {
			t.Fatalf("the pending contact got %d messages", n)
		}
		_, b = adm.do(http.MethodGet, "/api/v1/crisis/events", nil)
		events := b["events"].([]any)
		if len(events) != 1 {
			t.Fatalf("events %v", b)
		}
		eventID := events[0].(map[string]any)["id"].(string)
		waitFor(t, adm, "/api/v1/audit?action=crisis.contact_alert_sent", func(b map[string]any) bool { return len(b["entries"].([]any)) == 2 })

		// The SMS contact stops messages from the alert's link.
		stop := alert.Params[2]
		w, _ = env.anon(t).do(http.MethodGet, strings.TrimPrefix(stop, "https://mitra.example"), nil)
		if w.Code != 200 || !strings.Contains(w.Body.String(), `value="decline"`) {
			t.Fatalf("stop page: %d %s", w.Code, w.Body)
		}
		if w, b := env.anon(t).do(http.MethodPost, "/api/v1/emergency-contacts/decline", map[string]string{"token": token(t, stop)}); w.Code != 200 || b["status"] != "declined" {
			t.Fatalf("stop: %d %v", w.Code, b)
		}
		if _, b := c.do(http.MethodGet, "/api/v1/emergency-contacts/"+sms1["id"].(string), nil); b["status"] != "declined" {
			t.Fatalf("after stop: %v", b)
		}
		if w, _ := env.anon(t).do(http.MethodPost, "/api/v1/emergency-contacts/decline", map[string]string{"token": sms1["id"].(string) + ".r1.0123456789abcdef0123456789abcdef"}); w.Code != 404 {
			t.Fatalf("forged stop token: %d", w.Code)
		}

		// A new episode a little later: nobody is alerted again (the
		// WhatsApp contact was alerted within six hours, the SMS contact
		// stopped).
		if w, _ := adm.do(http.MethodPost, "/api/v1/crisis/events/"+eventID+"/resolve", map[string]string{}); w.Code != 200 {
			t.Fatalf("resolve: %d", w.Code)
		}
		c.do(http.MethodPost, "/api/ai/chat", msg("I just took 30 pills", false))
		waitFor(t, adm, "/api/v1/audit?action=crisis.contact_alert_skipped", func(b map[string]any) bool { return len(b["entries"].([]any)) == 1 })
		// Seven hours on: the WhatsApp contact is alerted again, the
		// stopped number still not.
		env.clock.Add(7 * time.Hour)
		_, b = adm.do(http.MethodGet, "/api/v1/crisis/events?status=open", nil)
		for _, e := range b["events"].([]any) {
			adm.do(http.MethodPost, "/api/v1/crisis/events/"+e.(map[string]any)["id"].(string)+"/resolve", map[string]string{})
		}
		c.do(http.MethodPost, "/api/ai/chat", msg("I just took 30 pills", false))
		lastTo(t, env.wa, "+919812345678", 3)
		waitFor(t, adm, "/api/v1/audit?action=crisis.contacts_alerted", func(b map[string]any) bool { return len(b["entries"].([]any)) == 3 })
		if n := len(env.msg91.To("+6281234567890")); n != 2 {
			t.Fatalf("the stopped number got %d messages, want 2 (invitation, first alert)", n)
		}
	})
}

// A contact who agreed keeps a way to withdraw before any alert: the
// invitation carries the lasting stop link, and so do the confirmed page
// and the JSON answer.
func TestConfirmedContactCanWithdraw(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		env := newCrisisEnv(t, db)
		rina, _ := signUp(t, env.s, "withdraw@example.com")
		const stopPrefix = "https://mitra.example/api/v1/emergency-contacts/decline?token="
		// By the JSON API.
		a := addContact(t, rina, "Ani", "0812-1111-2222", "sms")
		inv := lastTo(t, env.msg91, "+6281211112222", 1)
		if len(inv.Params) != 4 || !strings.HasPrefix(inv.Params[3], stopPrefix) {
			t.Fatalf("invitation without a stop link: %+v", inv)
		}
		w, b := env.anon(t).do(http.MethodPost, "/api/v1/emergency-contacts/confirm", map[string]string{"token": token(t, inv.Params[1])})
		if w.Code != 200 || b["status"] != "confirmed" || b["stop_url"] != inv.Params[3] {
			t.Fatalf("confirm: %d %v", w.Code, b)
		}
		if w, b := env.anon(t).do(http.MethodPost, "/api/v1/emergency-contacts/decline", map[string]string{"token": token(t, b["stop_url"].(string))}); w.Code != 200 || b["status"] != "declined" {
			t.Fatalf("withdraw: %d %v", w.Code, b)
		}
		if _, b := rina.do(http.MethodGet, "/api/v1/emergency-contacts/"+a["id"].(string), nil); b["status"] != "declined" {
			t.Fatalf("after withdrawing: %v", b)
		}
		// By the page's button.
		addContact(t, rina, "Budi", "0812-3333-4444", "sms")
		inv = lastTo(t, env.msg91, "+6281233334444", 1)
		form := url.Values{"token": {token(t, inv.Params[1])}, "answer": {"confirm"}}.Encode()
		w, _ = env.anon(t).do(http.MethodPost, "/api/v1/emergency-contacts/respond", form, "Content-Type", "application/x-www-form-urlencoded")
		if page := w.Body.String(); w.Code != 200 || !strings.Contains(page, "Terima kasih") || !strings.Contains(page, `href="`+strings.ReplaceAll(inv.Params[3], "&", "&amp;")) {
			t.Fatalf("confirmed page: %d %s", w.Code, page)
		}
	})
}

func memberCtx(userID string) context.Context {
	return access.WithPrincipal(context.Background(), access.Principal{UserID: userID, Role: access.Member})
}

// PostgreSQL, READ COMMITTED: a confirmation that read the contact as
// pending, then waits for a change of number (a new invitation) to commit,
// confirms nothing: consent to the old number is not consent to the new.
func TestConfirmRacingANewNumberConfirmsNothing(t *testing.T) {
	db := dbtest.Postgres(t)
	env := newCrisisEnv(t, db)
	rina, _ := signUp(t, env.s, "race@example.com")
	c := addContact(t, rina, "Ani", "0812-5555-6666", "sms")
	id := c["id"].(string)
	inv := lastTo(t, env.msg91, "+6281255556666", 1)
	locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- db.InTx(context.Background(), func(tx *database.Tx) error {
			// What UpdateContact does to the row when the number changes.
			if _, err := tx.Exec(context.Background(), `UPDATE emergency_contacts SET status = 'pending', token_fp = 'new', code_fp = 'new', phone_fp = 'new' WHERE id = ?`, id); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	confirmed := make(chan error, 1)
	go func() {
		_, err := env.ps.ConfirmContact(context.Background(), token(t, inv.Params[1]))
		confirmed <- err
	}()
	time.Sleep(300 * time.Millisecond) // the confirmation now waits on the row
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	err := <-confirmed
	var status string
	if qerr := db.QueryRow(context.Background(), `SELECT status FROM emergency_contacts WHERE id = ?`, id).Scan(&status); qerr != nil {
		t.Fatal(qerr)
	}
	if err == nil || status != "pending" {
		t.Fatalf("confirmation racing a new number: err %v, status %s", err, status)
	}
}

// Parallel wrong codes get 5 tries between them, not 5 each (PostgreSQL
// runs them concurrently; SQLite serialises them); and over a contact's
// life at most 15 codes are tried, whatever the invitations.
func TestCodeTriesHoldUnderParallelGuesses(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		env := newCrisisEnv(t, db)
		rina, rinaID := signUp(t, env.s, "guess@example.com")
		c := addContact(t, rina, "Ani", "0812-7777-8888", "sms")
		id := c["id"].(string)
		inv := lastTo(t, env.msg91, "+6281277778888", 1)
		ctx := memberCtx(rinaID)
		wrong := func(n int) string { return fmt.Sprintf("%06d", (n*7919)%1_000_000) }
		var wg sync.WaitGroup
		var invalid atomic.Int32
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code := wrong(i + 1)
				if code == inv.Params[2] {
					code = wrong(i + 100)
				}
				if _, err := env.ps.VerifyContact(ctx, id, code); err != nil && strings.Contains(err.Error(), "wrong code") {
					invalid.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := auditN(t, db, "emergency_contact.code_failed"); n != 5 || invalid.Load() != 4 {
			t.Fatalf("20 parallel guesses: %d counted, %d told to try again", n, invalid.Load())
		}
		if _, err := env.ps.VerifyContact(ctx, id, inv.Params[2]); err == nil {
			t.Fatal("the right code after 5 wrong ones confirmed")
		}
		// Two more invitations, 5 wrong codes each: 15 over the contact's
		// life; then even the right code of a new invitation is refused.
		for round := 2; round <= 4; round++ {
			env.clock.Add(2 * time.Minute)
			if _, err := env.ps.ResendInvite(ctx, id); err != nil {
				t.Fatal(err)
			}
			inv = lastTo(t, env.msg91, "+6281277778888", round)
			if round == 4 {
				break
			}
			for i := range 5 {
				code := wrong(round*10 + i)
				if code == inv.Params[2] {
					code = wrong(round*10 + i + 500)
				}
				_, _ = env.ps.VerifyContact(ctx, id, code)
			}
		}
		if _, err := env.ps.VerifyContact(ctx, id, inv.Params[2]); err == nil || !strings.Contains(err.Error(), "too many wrong codes") {
			t.Fatalf("a 16th code: %v", err)
		}
		if n := auditN(t, db, "emergency_contact.code_failed"); n != 15 {
			t.Fatalf("code_failed audited %d times", n)
		}
	})
}

func auditN(t *testing.T, db *database.DB, action string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = ?`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A user cannot turn invitations into free messages to strangers: 10 a
// day whatever the numbers (add, delete, add again), a minute between two
// changes of number, and no link in the name the messages carry.
func TestInvitationBudget(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		env := newCrisisEnv(t, db)
		spam := client{t: t, h: env.s, ip: "198.51.100.12"}
		w, b := spam.do(http.MethodPost, "/api/v1/auth/register", map[string]string{"email": "spam@example.com", "password": "correct horse battery",
			"name": "Win http://evil.example/x www.prize.example bit.ly/abc now"})
		if w.Code != http.StatusCreated {
			t.Fatalf("register: %d %v", w.Code, b)
		}
		spam.token = b["access_token"].(string)
		addContact(t, spam, "Stranger", "0812-9000-0000", "sms")
		inv := lastTo(t, env.msg91, "+6281290000000", 1)
		if name := inv.Params[0]; name != "Win now" {
			t.Fatalf("name in the invitation: %q", name)
		}
		for i := 1; i < 10; i++ {
			c := addContact(t, spam, "Stranger", fmt.Sprintf("0812-9000-%04d", i), "sms")
			if w, _ := spam.do(http.MethodDelete, "/api/v1/emergency-contacts/"+c["id"].(string), nil); w.Code != 204 {
				t.Fatalf("delete: %d", w.Code)
			}
		}
		w, b = spam.do(http.MethodPost, "/api/v1/emergency-contacts", map[string]string{"name": "Stranger", "phone": "0812-9000-0099", "relationship": "friend", "channel": "sms"})
		if w.Code != 429 || b["code"] != "invite_budget_exhausted" || w.Header().Get("Retry-After") == "" {
			t.Fatalf("11th invitation in a day: %d %v", w.Code, b)
		}

		// Changing the number is a new invitation: not twice in a minute.
		other, _ := signUp(t, env.s, "phone-hopper@example.com")
		c := addContact(t, other, "Ani", "0812-9100-0001", "sms")
		put := func(phone string) (int, map[string]any) {
			w, b := other.do(http.MethodPut, "/api/v1/emergency-contacts/"+c["id"].(string), map[string]string{"name": "Ani", "phone": phone, "relationship": "friend", "channel": "sms"})
			return w.Code, b
		}
		if code, b := put("0812-9100-0002"); code != 429 || b["code"] != "rate_limited" {
			t.Fatalf("new number at once: %d %v", code, b)
		}
		env.clock.Add(2 * time.Minute)
		if code, b := put("0812-9100-0002"); code != 200 || b["status"] != "pending" {
			t.Fatalf("new number after a minute: %d %v", code, b)
		}
	})
}

// An alert still queued when the event is resolved, or a day after the
// event, is not sent: skipped and audited with the reason.
func TestStaleAlertsAreNotSent(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		env := newCrisisEnv(t, db)
		for _, c := range []struct{ who, phone, reason string }{
			{"stale-resolved@example.com", "0812-6100-0001", "event_resolved"},
			{"stale-old@example.com", "0812-6100-0002", "event_stale"},
		} {
			user, userID := signUp(t, env.s, c.who)
			contact := addContact(t, user, "Ani", c.phone, "sms")
			e164 := "+62" + strings.ReplaceAll(c.phone, "-", "")[1:]
			inv := lastTo(t, env.msg91, e164, 1)
			if w, b := env.anon(t).do(http.MethodPost, "/api/v1/emergency-contacts/confirm", map[string]string{"token": token(t, inv.Params[1])}); w.Code != 200 {
				t.Fatalf("confirm: %d %v", w.Code, b)
			}
			if w, b := user.do(http.MethodPost, "/api/ai/chat", msg("I'm going to take all my pills tonight", false)); w.Code != 200 || b["crisis"] == nil {
				t.Fatalf("chat: %d %v", w.Code, b)
			}
			var eventID string
			if err := db.QueryRow(context.Background(), `SELECT id FROM crisis_events WHERE user_id = ?`, userID).Scan(&eventID); err != nil {
				t.Fatal(err)
			}
			if c.reason == "event_resolved" {
				if _, err := env.ps.Transition(access.WithPrincipal(context.Background(), access.Principal{UserID: "counselor", Role: access.Counselor}), eventID, persona.EventResolved, ""); err != nil {
					t.Fatal(err)
				}
			} else {
				env.clock.Add(25 * time.Hour)
			}
			if _, err := env.q.Insert(context.Background(), persona.CrisisContactAlertArgs{EventID: eventID, ContactID: contact["id"].(string)}, nil); err != nil {
				t.Fatal(err)
			}
			var status, reason string
			for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline) && status == ""; time.Sleep(25 * time.Millisecond) {
				_ = db.QueryRow(context.Background(), `SELECT status, reason FROM crisis_contact_alerts WHERE event_id = ?`, eventID).Scan(&status, &reason)
			}
			if status != "skipped" || reason != c.reason || len(env.msg91.To(e164)) != 1 {
				t.Fatalf("%s: alert %s %s, %d messages", c.reason, status, reason, len(env.msg91.To(e164)))
			}
		}
		if n := auditN(t, db, "crisis.contact_alert_skipped"); n != 2 {
			t.Fatalf("contact_alert_skipped audited %d times", n)
		}
	})
}
