package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"mitra/internal/auth/authtest"
	"mitra/internal/insurance"
	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
	"mitra/internal/platform/logging"
	"mitra/internal/server"
)

// The book of business (I3 customers, I4 policies) over HTTP: every
// endpoint as each role, every rule with its code and field, every status
// transition, and the daily status job.

// bookEnv is a server with two providers and their plans (written straight
// into the database), two agents, a provider admin of each provider, an
// administrator and a member.
type bookEnv struct {
	t                       *testing.T
	s                       *server.Server
	e                       *authtest.Env
	db                      *database.DB
	admin, agentA, agentB   client
	staff1, staff2, member  client
	agentAID, agentBID      string
	p1, p2                  string // providers: both agents work with p1, agent A also with p2
	plan914, plan5, planP2  string // plan914 and plan5 are p1's
	today                   time.Time
	nextIP                  int
	pan, aadhaar, aadhaarL4 string
}

const bookUnknownID = "01a20000-0000-7000-8000-00000000beef"

func newBookEnv(t *testing.T, db *database.DB) *bookEnv {
	t.Helper()
	s, e := newServerEnv(t, db, nil, authtest.Memory)
	b := &bookEnv{t: t, s: s, e: e, db: db, nextIP: 30}
	y, m, d := e.Clock.Now().In(time.FixedZone("IST", 19800)).Date()
	b.today = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	now := e.Clock.Now()
	b.p1, b.p2 = "01a20000-0000-7000-8000-0000000000a1", "01a20000-0000-7000-8000-0000000000a2"
	b.plan914, b.plan5, b.planP2 = "01a20000-0000-7000-8000-000000000914", "01a20000-0000-7000-8000-000000000005", "01a20000-0000-7000-8000-000000000222"
	b.exec(`INSERT INTO providers (id, code, name, created_at, updated_at) VALUES (?, 'LIC', 'LIC of India', ?, ?), (?, 'HDFC', 'HDFC Life', ?, ?)`, b.p1, now, now, b.p2, now, now)
	plan := `INSERT INTO provider_plans (id, provider_id, plan_number, name, plan_type, terms, premium_terms, min_entry_age, max_entry_age, min_sum_assured, modes, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	b.exec(plan, b.plan914, b.p1, "914", "New Endowment", "endowment", "[12,15,20,25,30,35]", "[12,15,20,25,30,35]", 8, 50, 100000_00, `["yearly","half_yearly","quarterly","monthly"]`, now, now)
	b.exec(plan, b.plan5, b.p1, "905", "Short Endowment", "endowment", "[5,10]", "[5,10]", 18, 60, 50000_00, `["yearly","monthly"]`, now, now)
	b.exec(plan, b.planP2, b.p2, "C2P", "Click 2 Protect", "term", "[10,20,30]", "[5,10,20,30]", 18, 65, 5000000_00, `["yearly"]`, now, now)
	b.admin = admin(t, s, e, "root@example.com")
	b.agentA, b.agentAID = b.user("asha.agent@example.com", "agent", b.p1)
	b.agentB, b.agentBID = b.user("bala.agent@example.com", "agent", b.p1)
	b.exec(`INSERT INTO agent_providers (agent_id, provider_id, commission, created_at, updated_at) VALUES (?, ?, '{}', ?, ?)`, b.agentAID, b.p2, now, now)
	b.staff1, _ = b.user("staff.lic@example.com", "provider_admin", b.p1)
	b.staff2, _ = b.user("staff.hdfc@example.com", "provider_admin", b.p2)
	b.member, _ = b.user("member@example.com", "member", "")
	b.pan = "ABCPE1234F"
	b.aadhaar = "234567890124" // Verhoeff check digit 4
	b.aadhaarL4 = "0124"
	return b
}

func (b *bookEnv) exec(q string, args ...any) {
	b.t.Helper()
	if _, err := b.db.Exec(context.Background(), q, args...); err != nil {
		b.t.Fatalf("%s: %v", q, err)
	}
}

// user registers an account, gives it a role (agents get a profile at
// provider, provider admins work for it) and signs it in again.
func (b *bookEnv) user(email, role, provider string) (client, string) {
	t := b.t
	t.Helper()
	b.nextIP++
	c := client{t: t, h: b.s, ip: fmt.Sprintf("198.51.100.%d", b.nextIP)}
	w, r := c.do(http.MethodPost, "/api/v1/auth/register", map[string]string{"email": email, "password": "correct horse battery", "name": "Someone"})
	mustCode(t, "register "+email, w.Code, 201, r)
	id := r["user"].(map[string]any)["id"].(string)
	now := b.e.Clock.Now()
	switch role {
	case "agent":
		code := fmt.Sprintf("AG-%d", b.nextIP)
		b.exec(`UPDATE users SET role = 'agent', agent_code = ? WHERE id = ?`, code, id)
		b.exec(`INSERT INTO agents (user_id, provider_id, licence_number, licence_expiry, status, created_at, updated_at) VALUES (?, ?, ?, '2030-12-31', 'approved', ?, ?)`,
			id, provider, "LIC/"+code, now, now)
	case "provider_admin":
		b.exec(`UPDATE users SET role = 'provider_admin' WHERE id = ?`, id)
		b.exec(`INSERT INTO provider_staff (user_id, provider_id, created_at) VALUES (?, ?, ?)`, id, provider, now)
	}
	w, r = c.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"identifier": email, "password": "correct horse battery"})
	mustCode(t, "login "+email, w.Code, 200, r)
	c.token = r["access_token"].(string)
	return c, id
}

// date is today in India moved by years, months and days, with the day
// clamped to the month's end (as policy schedules are).
func (b *bookEnv) date(years, months, days int) string {
	y, m, d := b.today.Date()
	first := time.Date(y+years, m+time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), 0, 0, 0, 0, time.UTC).AddDate(0, 0, days).Format("2006-01-02")
}

func wantProblem(t *testing.T, what string, w *httptest.ResponseRecorder, body map[string]any, status int, code, field string) {
	t.Helper()
	if w.Code != status || problemCode(body) != code {
		t.Fatalf("%s: %d %v, want %d %s", what, w.Code, body, status, code)
	}
	if field == "" {
		return
	}
	errs, _ := body["errors"].([]any)
	for _, e := range errs {
		if e.(map[string]any)["location"] == field {
			return
		}
	}
	t.Fatalf("%s: no error on %s: %v", what, field, body)
}

func (b *bookEnv) customerBody(name string, extra map[string]any) map[string]any {
	m := map[string]any{"name": name, "phone": "98123 45678", "date_of_birth": "1985-04-02"}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func (b *bookEnv) newCustomer(c client, name string, extra map[string]any) string {
	b.t.Helper()
	w, r := c.do(http.MethodPost, "/api/v1/customers", b.customerBody(name, extra))
	mustCode(b.t, "create customer "+name, w.Code, 201, r)
	return r["id"].(string)
}

// policyBody is a valid policy on plan 914 of p1: 20 years, paying 15,
// yearly, commencing today.
func (b *bookEnv) policyBody(number, customerID string, extra map[string]any) map[string]any {
	m := map[string]any{"policy_number": number, "provider_id": b.p1, "plan_id": b.plan914, "customer_id": customerID,
		"sum_assured": 500000_00, "premium": 25000_00, "premium_mode": "yearly", "term": 20, "premium_term": 15,
		"commencement_date": b.date(0, 0, 0)}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func (b *bookEnv) newPolicy(c client, number, customerID string, extra map[string]any) map[string]any {
	b.t.Helper()
	w, r := c.do(http.MethodPost, "/api/v1/policies", b.policyBody(number, customerID, extra))
	mustCode(b.t, "create policy "+number, w.Code, 201, r)
	return r
}

func (b *bookEnv) setStatus(c client, id, status string) (*httptest.ResponseRecorder, map[string]any) {
	return c.do(http.MethodPost, "/api/v1/policies/"+id+"/status", map[string]any{"status": status, "reason": "test: " + status})
}

func listIDs(body map[string]any, key string) []string {
	var out []string
	for _, x := range body[key].([]any) {
		out = append(out, x.(map[string]any)["id"].(string))
	}
	return out
}

func TestBookCustomers(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		b := newBookEnv(t, db)
		ctx := context.Background()

		// An agent adds a customer: phone in E.164, PAN masked, Aadhaar
		// reduced to its last 4, consent time set by the server.
		w, c := b.agentA.do(http.MethodPost, "/api/v1/customers", b.customerBody("Asha  Devi", map[string]any{
			"email": "Asha@Example.in", "pan": "abcpe 1234 f", "aadhaar": "2345 6789 0124", "whatsapp_consent": true,
			"address": map[string]any{"line1": "12 MG Road", "city": "Pune", "state": "Maharashtra", "pincode": "411001"},
			"nominees": []map[string]any{
				{"name": "Ravi", "relationship": "spouse", "share_percent": 60, "date_of_birth": "1983-01-01"},
				{"name": "Mina", "relationship": "child", "share_percent": 40, "date_of_birth": b.date(-5, 0, 0), "appointee_name": "Ravi"},
			}}))
		mustCode(t, "create", w.Code, 201, c)
		asha := c["id"].(string)
		if c["name"] != "Asha Devi" || c["phone"] != "+919812345678" || c["email"] != "asha@example.in" || c["agent_id"] != b.agentAID ||
			c["pan_masked"] != "XXXXX1234X" || c["aadhaar_masked"] != "XXXX XXXX "+b.aadhaarL4 || c["whatsapp_consent"] != true || c["whatsapp_consent_at"] == nil ||
			len(c["nominees"].([]any)) != 2 || c["address"].(map[string]any)["pincode"] != "411001" || c["age"].(float64) < 39 {
			t.Fatalf("created: %v", c)
		}
		if strings.Contains(w.Body.String(), b.pan) || strings.Contains(w.Body.String(), b.aadhaar[:8]) {
			t.Fatalf("identifier echoed: %s", w.Body)
		}
		// At rest: the PAN sealed (it opens with the key, bound to the row),
		// only 4 Aadhaar digits, no identifier in the audit log.
		var sealed, hash, last4 string
		if err := db.QueryRow(ctx, `SELECT pan_sealed, pan_hash, aadhaar_last4 FROM customers WHERE id = ?`, asha).Scan(&sealed, &hash, &last4); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(sealed, "1234") || strings.Contains(hash, "1234") || last4 != b.aadhaarL4 {
			t.Fatalf("at rest: %q %q %q", sealed, hash, last4)
		}
		if pan, err := b.e.Vault.OpenString(sealed, "customers.pan:"+asha); err != nil || pan != b.pan {
			t.Fatalf("sealed PAN does not open: %q %v", pan, err)
		}
		var auditData string
		if err := db.QueryRow(ctx, `SELECT after_data FROM audit_log WHERE action = 'customer.created' AND target_id = ?`, asha).Scan(&auditData); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(auditData, "1234") || strings.Contains(auditData, "Asha") || !strings.Contains(auditData, `"pan":true`) {
			t.Fatalf("audit: %s", auditData)
		}

		// Each validation with its field; identifiers are never echoed.
		for _, c := range []struct {
			what  string
			extra map[string]any
			field string
		}{
			{"company PAN", map[string]any{"pan": "ABCCE1234F"}, "body.pan"},
			{"malformed PAN", map[string]any{"pan": "ABCPE12345"}, "body.pan"},
			{"Aadhaar check digit", map[string]any{"aadhaar": "234567890123"}, "body.aadhaar"},
			{"Aadhaar length", map[string]any{"aadhaar": "12345"}, "body.aadhaar"},
			{"shares", map[string]any{"nominees": []map[string]any{{"name": "R", "relationship": "spouse", "share_percent": 50, "date_of_birth": "1980-01-01"}}}, "body.nominees"},
			{"minor without appointee", map[string]any{"nominees": []map[string]any{{"name": "M", "relationship": "child", "share_percent": 100, "date_of_birth": b.date(-3, 0, 0)}}}, "body.nominees[0].appointee_name"},
			{"consent without phone", map[string]any{"phone": "", "whatsapp_consent": true}, "body.whatsapp_consent"},
			{"phone", map[string]any{"phone": "12345"}, "body.phone"},
			{"birth in the future", map[string]any{"date_of_birth": b.date(0, 0, 2)}, "body.date_of_birth"},
			{"pincode", map[string]any{"address": map[string]any{"pincode": "011001"}}, "body.address.pincode"},
			{"relationship", map[string]any{"nominees": []map[string]any{{"name": "R", "relationship": "friend", "share_percent": 100, "date_of_birth": "1980-01-01"}}}, "body.nominees[0].relationship"},
		} {
			w, r := b.agentA.do(http.MethodPost, "/api/v1/customers", b.customerBody("X", c.extra))
			wantProblem(t, c.what, w, r, 422, "invalid", c.field)
			if strings.Contains(w.Body.String(), "234567890123") {
				t.Fatalf("%s: Aadhaar echoed: %s", c.what, w.Body)
			}
		}

		// A problem never repeats what was sent: not an Aadhaar number sent
		// as a JSON number (a type error), not a phone number, not a short
		// body that is not JSON.
		for what, raw := range map[string]string{
			"Aadhaar as a number": `{"name":"X","date_of_birth":"1985-04-02","aadhaar":` + b.aadhaar + `}`,
			"PAN as a number":     `{"name":"X","date_of_birth":"1985-04-02","pan":` + b.aadhaar + `}`,
			"phone as a number":   `{"name":"X","date_of_birth":"1985-04-02","phone":` + b.aadhaar + `}`,
			"body cut short":      `{"name":"X","aadhaar":` + b.aadhaar,
		} {
			w, r := b.agentA.do(http.MethodPost, "/api/v1/customers", raw)
			if w.Code != 422 && w.Code != 400 {
				t.Fatalf("%s: %d %v", what, w.Code, r)
			}
			if strings.Contains(w.Body.String(), b.aadhaar[4:]) || strings.Contains(w.Body.String(), `"value"`) {
				t.Fatalf("%s: the problem repeats the number: %s", what, w.Body)
			}
		}
		w, r := b.agentA.do(http.MethodPost, "/api/v1/customers", `{"name":"X","date_of_birth":"1985-04-02","aadhaar":`+b.aadhaar+`}`)
		wantProblem(t, "Aadhaar as a number", w, r, 422, "invalid", "body.aadhaar")

		// One customer per PAN in an agent's book; other books are separate.
		w, r = b.agentA.do(http.MethodPost, "/api/v1/customers", b.customerBody("Asha again", map[string]any{"pan": b.pan}))
		wantProblem(t, "same PAN", w, r, 409, "customer_pan_taken", "body.pan")
		bala := b.newCustomer(b.agentB, "Bala", map[string]any{"pan": b.pan, "phone": "+91 99000 11223"})

		// Ownership on create: agents their own book, administrators name it.
		w, r = b.agentA.do(http.MethodPost, "/api/v1/customers", b.customerBody("Mass assigned", map[string]any{"agent_id": b.agentBID}))
		wantProblem(t, "agent naming another agent", w, r, 422, "invalid", "body.agent_id")
		w, r = b.admin.do(http.MethodPost, "/api/v1/customers", b.customerBody("No agent", nil))
		wantProblem(t, "admin without agent", w, r, 422, "invalid", "body.agent_id")
		w, r = b.admin.do(http.MethodPost, "/api/v1/customers", b.customerBody("Ghost", map[string]any{"agent_id": bookUnknownID}))
		wantProblem(t, "admin, unknown agent", w, r, 422, "agent_not_found", "body.agent_id")
		// Only an approved agent's book takes new customers.
		for _, st := range []string{"pending", "verified", "rejected", "suspended"} {
			b.exec(`UPDATE agents SET status = ? WHERE user_id = ?`, st, b.agentBID)
			w, r = b.admin.do(http.MethodPost, "/api/v1/customers", b.customerBody("Held", map[string]any{"agent_id": b.agentBID}))
			wantProblem(t, "admin adds to a "+st+" agent's book", w, r, 422, "agent_not_approved", "body.agent_id")
		}
		w, r = b.agentB.do(http.MethodPost, "/api/v1/customers", b.customerBody("Held", nil))
		wantProblem(t, "a suspended agent adds", w, r, 403, "agent_not_approved", "")
		b.exec(`UPDATE agents SET status = 'approved' WHERE user_id = ?`, b.agentBID)
		w, r = b.admin.do(http.MethodPost, "/api/v1/customers", b.customerBody("Chitra", map[string]any{"agent_id": b.agentBID}))
		mustCode(t, "admin creates for B", w.Code, 201, r)
		chitra := r["id"].(string)
		if r["agent_id"] != b.agentBID {
			t.Fatalf("admin's customer: %v", r)
		}
		for _, c := range []client{b.staff1, b.member} {
			w, r = c.do(http.MethodPost, "/api/v1/customers", b.customerBody("Nope", nil))
			wantProblem(t, "read-only and member create", w, r, 403, "forbidden", "")
		}

		// Reading: own 200; another agent's 404; provider admins only
		// customers holding their provider's policies; member 403.
		path := "/api/v1/customers/" + asha
		mustCode(t, "own", func() int { w, _ := b.agentA.do(http.MethodGet, path, nil); return w.Code }(), 200, nil)
		for what, c := range map[string]client{"agent B": b.agentB, "staff of p1 before any policy": b.staff1, "staff of p2": b.staff2} {
			w, r = c.do(http.MethodGet, path, nil)
			wantProblem(t, what, w, r, 404, "customer_not_found", "")
		}
		w, r = b.member.do(http.MethodGet, path, nil)
		wantProblem(t, "member", w, r, 403, "forbidden", "")
		w, r = (client{t: t, h: b.s}).do(http.MethodGet, path, nil)
		wantProblem(t, "anonymous", w, r, 401, "unauthorized", "")
		w, r = b.admin.do(http.MethodGet, path, nil)
		mustCode(t, "admin reads", w.Code, 200, r)
		w, r = b.agentA.do(http.MethodGet, "/api/v1/customers/not-an-id", nil)
		wantProblem(t, "malformed id", w, r, 404, "customer_not_found", "")
		b.newPolicy(b.agentA, "LIC-0001", asha, nil)
		w, r = b.staff1.do(http.MethodGet, path, nil)
		mustCode(t, "staff of p1 after a p1 policy", w.Code, 200, r)
		w, r = b.staff2.do(http.MethodGet, path, nil)
		wantProblem(t, "staff of p2 still", w, r, 404, "customer_not_found", "")

		// Updating: consent withdrawn clears its time, given again sets a
		// new one; an absent PAN is kept, an empty one removed.
		upd := b.customerBody("Asha Devi Rao", map[string]any{"whatsapp_consent": false})
		w, r = b.agentA.do(http.MethodPut, path, upd)
		mustCode(t, "update", w.Code, 200, r)
		if r["name"] != "Asha Devi Rao" || r["whatsapp_consent"] != false || r["whatsapp_consent_at"] != nil || r["pan_masked"] != "XXXXX1234X" || r["aadhaar_masked"] == "" {
			t.Fatalf("updated: %v", r)
		}
		b.e.Clock.Add(time.Minute)
		upd["whatsapp_consent"], upd["pan"] = true, ""
		w, r = b.agentA.do(http.MethodPut, path, upd)
		mustCode(t, "update 2", w.Code, 200, r)
		at, _ := time.Parse(time.RFC3339Nano, r["whatsapp_consent_at"].(string))
		if r["pan_masked"] != "" || at.Before(b.e.Clock.Now().Add(-time.Second)) {
			t.Fatalf("consent again, PAN removed: %v", r)
		}
		if err := db.QueryRow(ctx, `SELECT after_data FROM audit_log WHERE action = 'customer.updated' AND target_id = ? ORDER BY id DESC LIMIT 1`, asha).Scan(&auditData); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(auditData, `"pan"`) || !strings.Contains(auditData, `"whatsapp_consent"`) || strings.Contains(auditData, "Rao") {
			t.Fatalf("update audit: %s", auditData)
		}
		w, r = b.agentB.do(http.MethodPut, path, upd)
		wantProblem(t, "B updates A's", w, r, 404, "customer_not_found", "")
		w, r = b.staff1.do(http.MethodPut, path, upd)
		wantProblem(t, "staff updates", w, r, 403, "forbidden", "")
		w, r = b.agentA.do(http.MethodPut, path, b.customerBody("Asha", map[string]any{"agent_id": b.agentBID}))
		wantProblem(t, "moving a customer", w, r, 422, "invalid", "body.agent_id")

		// Listing: search by name and phone, sorting, pages, scope.
		b.newCustomer(b.agentA, "Deepak Sharma", map[string]any{"phone": "+91 97000 55555"})
		b.newCustomer(b.agentA, "Esha Sharma", map[string]any{"phone": "+91 96000 44444"})
		w, r = b.agentA.do(http.MethodGet, "/api/v1/customers?q=SHARMA", nil)
		if mustCode(t, "search", w.Code, 200, r); len(r["customers"].([]any)) != 2 {
			t.Fatalf("search by name: %v", r)
		}
		w, r = b.agentA.do(http.MethodGet, "/api/v1/customers?q=970005", nil)
		if list := r["customers"].([]any); len(list) != 1 || list[0].(map[string]any)["name"] != "Deepak Sharma" {
			t.Fatalf("search by phone: %v", r)
		}
		var names []string
		cursor := ""
		for pages := 0; ; pages++ {
			w, r = b.agentA.do(http.MethodGet, "/api/v1/customers?limit=2&sort=-name&cursor="+cursor, nil)
			mustCode(t, "page", w.Code, 200, r)
			for _, c := range r["customers"].([]any) {
				names = append(names, c.(map[string]any)["name"].(string))
			}
			cursor, _ = r["next_cursor"].(string)
			if cursor == "" || pages > 5 {
				break
			}
		}
		if strings.Join(names, ",") != "Esha Sharma,Deepak Sharma,Asha Devi Rao" {
			t.Fatalf("pages sorted by name, descending: %v", names)
		}
		w, r = b.agentA.do(http.MethodGet, "/api/v1/customers?sort=created_at&limit=1", nil)
		if ids := listIDs(r, "customers"); len(ids) != 1 || ids[0] != asha || r["next_cursor"] == nil {
			t.Fatalf("oldest first: %v", r)
		}
		w, r = b.agentB.do(http.MethodGet, "/api/v1/customers", nil)
		if ids := listIDs(r, "customers"); len(ids) != 2 || !strings.Contains(strings.Join(ids, ","), bala) || !strings.Contains(strings.Join(ids, ","), chitra) {
			t.Fatalf("agent B's book: %v", r)
		}
		w, r = b.staff1.do(http.MethodGet, "/api/v1/customers", nil)
		if ids := listIDs(r, "customers"); len(ids) != 1 || ids[0] != asha {
			t.Fatalf("p1 staff see the customers with p1 policies: %v", r)
		}
		w, r = b.staff2.do(http.MethodGet, "/api/v1/customers", nil)
		if len(r["customers"].([]any)) != 0 {
			t.Fatalf("p2 staff: %v", r)
		}
		w, r = b.admin.do(http.MethodGet, "/api/v1/customers?limit=100", nil)
		if len(r["customers"].([]any)) != 5 {
			t.Fatalf("admin sees all: %v", r)
		}
		w, r = b.admin.do(http.MethodGet, "/api/v1/customers?agent_id="+b.agentBID, nil)
		if len(r["customers"].([]any)) != 2 {
			t.Fatalf("admin, one agent: %v", r)
		}
		w, r = b.agentA.do(http.MethodGet, "/api/v1/customers?cursor=bad!", nil)
		wantProblem(t, "bad cursor", w, r, 422, "invalid", "query.cursor")
		w, r = b.agentA.do(http.MethodGet, "/api/v1/customers?sort=age", nil)
		wantProblem(t, "bad sort", w, r, 422, "invalid", "query.sort")

		// Deleting: refused while the customer holds a policy.
		w, r = b.agentA.do(http.MethodDelete, path, nil)
		wantProblem(t, "delete with policies", w, r, 409, "customer_has_policies", "")
		w, r = b.agentA.do(http.MethodDelete, "/api/v1/customers/"+bala, nil)
		wantProblem(t, "delete another agent's", w, r, 404, "customer_not_found", "")
		w, r = b.staff1.do(http.MethodDelete, path, nil)
		wantProblem(t, "staff deletes", w, r, 403, "forbidden", "")
		w, r = b.agentB.do(http.MethodDelete, "/api/v1/customers/"+bala, nil)
		mustCode(t, "delete", w.Code, 204, r)
		w, r = b.agentB.do(http.MethodGet, "/api/v1/customers/"+bala, nil)
		wantProblem(t, "deleted", w, r, 404, "customer_not_found", "")
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'customer.deleted' AND target_id = ?`, bala).Scan(&n); err != nil || n != 1 {
			t.Fatalf("delete audited: %d %v", n, err)
		}
	})
}

func TestBookPolicies(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		b := newBookEnv(t, db)
		asha := b.newCustomer(b.agentA, "Asha", nil) // born 1985-04-02
		bala := b.newCustomer(b.agentB, "Bala", nil)

		// A policy entered with the first premium paid: the computed dates.
		p := b.newPolicy(b.agentA, "lic-100200", asha, map[string]any{"premium_mode": "monthly", "commencement_date": "2024-01-31",
			"nominee": map[string]any{"name": "Ravi", "relationship": "spouse"}})
		id := p["id"].(string)
		if p["policy_number"] != "LIC-100200" || p["maturity_date"] != "2044-01-31" || p["next_due_date"] != "2024-02-29" || p["grace_period_end"] != "2024-03-15" ||
			p["premiums_paid"].(float64) != 1 || p["premiums_total"].(float64) != 180 || p["entry_age"].(float64) != 38 || p["status"] != "in_force" ||
			p["plan_name"] != "New Endowment" || p["plan_number"] != "914" || p["provider_name"] != "LIC of India" || p["customer_name"] != "Asha" ||
			p["currency"] != "INR" || p["sum_assured"].(float64) != 500000_00 || p["nominee"].(map[string]any)["name"] != "Ravi" || p["agent_id"] != b.agentAID {
			t.Fatalf("created: %v", p)
		}
		// Imported with 7 half-yearly premiums paid since 2021-08-31.
		imp := b.newPolicy(b.agentA, "LIC-100201", asha, map[string]any{"premium_mode": "half_yearly", "commencement_date": "2021-08-31", "premiums_paid": 7, "term": 25})
		if imp["next_due_date"] != "2025-02-28" || imp["grace_period_end"] != "2025-03-30" || imp["maturity_date"] != "2046-08-31" {
			t.Fatalf("imported: %v", imp)
		}

		// Every rule, with its code and field.
		for _, c := range []struct {
			what   string
			c      client
			extra  map[string]any
			status int
			code   string
			field  string
		}{
			{"premium term longer than term", b.agentA, map[string]any{"term": 15, "premium_term": 20}, 422, "premium_term_exceeds_term", "body.premium_term"},
			{"term not in plan", b.agentA, map[string]any{"term": 18, "premium_term": 15}, 422, "term_not_allowed", "body.term"},
			{"premium term not in plan", b.agentA, map[string]any{"premium_term": 13}, 422, "premium_term_not_allowed", "body.premium_term"},
			{"mode not in plan", b.agentA, map[string]any{"plan_id": b.plan5, "term": 10, "premium_term": 10, "premium_mode": "quarterly"}, 422, "mode_not_allowed", "body.premium_mode"},
			{"sum assured too low", b.agentA, map[string]any{"sum_assured": 99999_99}, 422, "sum_assured_below_minimum", "body.sum_assured"},
			{"commencement in future", b.agentA, map[string]any{"commencement_date": b.date(0, 0, 1)}, 422, "commencement_in_future", "body.commencement_date"},
			{"entry age", b.agentA, map[string]any{"commencement_date": "1990-01-01"}, 422, "entry_age_out_of_range", "body.customer_id"},
			{"premiums paid beyond the term", b.agentA, map[string]any{"premiums_paid": 16}, 422, "premiums_paid_out_of_range", "body.premiums_paid"},
			{"premiums paid ahead", b.agentA, map[string]any{"premiums_paid": 2}, 422, "premiums_paid_ahead", "body.premiums_paid"},
			{"another agent's customer", b.agentA, map[string]any{"customer_id": bala}, 422, "customer_not_found", "body.customer_id"},
			{"unknown customer", b.agentA, map[string]any{"customer_id": bookUnknownID}, 422, "customer_not_found", "body.customer_id"},
			{"plan of another provider", b.agentA, map[string]any{"plan_id": b.planP2}, 422, "plan_not_found", "body.plan_id"},
			{"unknown provider", b.agentA, map[string]any{"provider_id": bookUnknownID}, 422, "provider_not_found", "body.provider_id"},
			{"provider the agent does not work with", b.agentB, map[string]any{"customer_id": bala, "provider_id": b.p2, "plan_id": b.planP2, "term": 20, "premium_term": 20, "sum_assured": 6000000_00}, 422, "provider_not_linked", "body.provider_id"},
			{"number taken at the provider", b.agentB, map[string]any{"customer_id": bala, "policy_number": "LIC-100200"}, 409, "policy_number_taken", "body.policy_number"},
			{"malformed number", b.agentA, map[string]any{"policy_number": "#1"}, 422, "invalid", "body.policy_number"},
			{"unknown mode", b.agentA, map[string]any{"premium_mode": "weekly"}, 422, "invalid", "body.premium_mode"},
			{"malformed date", b.agentA, map[string]any{"commencement_date": "2024-02-30"}, 422, "invalid", "body.commencement_date"},
			{"agent naming another agent", b.agentA, map[string]any{"agent_id": b.agentBID}, 422, "invalid", "body.agent_id"},
			{"administrator without an agent", b.admin, nil, 422, "invalid", "body.agent_id"},
			{"provider admin", b.staff1, nil, 403, "forbidden", ""},
			{"member", b.member, nil, 403, "forbidden", ""},
		} {
			number, _ := c.extra["policy_number"].(string)
			if number == "" {
				number = "LIC-RULE"
			}
			cust, _ := c.extra["customer_id"].(string)
			if cust == "" {
				cust = asha
			}
			w, r := c.c.do(http.MethodPost, "/api/v1/policies", b.policyBody(number, cust, c.extra))
			wantProblem(t, c.what, w, r, c.status, c.code, c.field)
		}
		// The same number at another provider is another policy.
		p2 := b.newPolicy(b.agentA, "LIC-100200", asha, map[string]any{"provider_id": b.p2, "plan_id": b.planP2, "term": 20, "premium_term": 20, "sum_assured": 6000000_00})
		// An inactive provider takes no new policy; its policies may still
		// be corrected.
		b.exec(`UPDATE providers SET active = ? WHERE id = ?`, false, b.p2)
		p2body := b.policyBody("LIC-100201", asha, map[string]any{"provider_id": b.p2, "plan_id": b.planP2, "term": 20, "premium_term": 20, "sum_assured": 6000000_00})
		w, r := b.agentA.do(http.MethodPost, "/api/v1/policies", p2body)
		wantProblem(t, "policy with an inactive provider", w, r, 422, "provider_inactive", "body.provider_id")
		p2body["policy_number"], p2body["sum_assured"] = "LIC-100200", 7000000_00
		w, r = b.agentA.do(http.MethodPut, "/api/v1/policies/"+p2["id"].(string), p2body)
		if mustCode(t, "correct a policy with an inactive provider", w.Code, 200, r); r["sum_assured"].(float64) != 7000000_00 {
			t.Fatalf("corrected: %v", r)
		}
		b.exec(`UPDATE providers SET active = ? WHERE id = ?`, true, b.p2)
		// Only an approved agent's book takes new policies.
		b.exec(`UPDATE agents SET status = 'suspended' WHERE user_id = ?`, b.agentBID)
		w, r = b.admin.do(http.MethodPost, "/api/v1/policies", b.policyBody("LIC-200300", bala, map[string]any{"agent_id": b.agentBID}))
		wantProblem(t, "admin adds to a suspended agent's book", w, r, 422, "agent_not_approved", "body.agent_id")
		b.exec(`UPDATE agents SET status = 'approved' WHERE user_id = ?`, b.agentBID)
		// An administrator enters a policy for agent B.
		w, r = b.admin.do(http.MethodPost, "/api/v1/policies", b.policyBody("LIC-200300", bala, map[string]any{"agent_id": b.agentBID}))
		mustCode(t, "admin creates", w.Code, 201, r)
		bp := r["id"].(string)

		// Reading, by role.
		path := "/api/v1/policies/" + id
		for what, c := range map[string]client{"owner": b.agentA, "p1 staff": b.staff1, "admin": b.admin} {
			w, r := c.do(http.MethodGet, path, nil)
			if mustCode(t, what, w.Code, 200, r); r["id"] != id || r["next_due_date"] != "2024-02-29" {
				t.Fatalf("%s: %v", what, r)
			}
		}
		for what, c := range map[string]client{"agent B": b.agentB, "p2 staff": b.staff2} {
			w, r := c.do(http.MethodGet, path, nil)
			wantProblem(t, what, w, r, 404, "policy_not_found", "")
		}
		w, r = b.staff2.do(http.MethodGet, "/api/v1/policies/"+p2["id"].(string), nil)
		mustCode(t, "p2 staff, p2 policy", w.Code, 200, r)
		w, r = b.member.do(http.MethodGet, path, nil)
		wantProblem(t, "member", w, r, 403, "forbidden", "")
		w, r = (client{t: t, h: b.s}).do(http.MethodGet, path, nil)
		wantProblem(t, "anonymous", w, r, 401, "unauthorized", "")

		// Correcting: the dates follow; rules apply; only the owner and
		// administrators write.
		body := b.policyBody("LIC-100200", asha, map[string]any{"premium_mode": "monthly", "commencement_date": "2024-01-31", "premiums_paid": 3, "sum_assured": 600000_00})
		w, r = b.agentA.do(http.MethodPut, path, body)
		if mustCode(t, "update", w.Code, 200, r); r["next_due_date"] != "2024-04-30" || r["grace_period_end"] != "2024-05-15" || r["sum_assured"].(float64) != 600000_00 || r["nominee"] != nil {
			t.Fatalf("updated: %v", r)
		}
		var audited string
		if err := db.QueryRow(context.Background(), `SELECT after_data FROM audit_log WHERE action = 'policy.updated' AND target_id = ?`, id).Scan(&audited); err != nil ||
			!strings.Contains(audited, `"premiums_paid":3`) || !strings.Contains(audited, `"sum_assured":60000000`) {
			t.Fatalf("update audit: %s %v", audited, err)
		}
		body["term"] = 18
		w, r = b.agentA.do(http.MethodPut, path, body)
		wantProblem(t, "update breaking a rule", w, r, 422, "term_not_allowed", "body.term")
		body["term"] = 20
		w, r = b.agentB.do(http.MethodPut, path, body)
		wantProblem(t, "B updates A's", w, r, 404, "policy_not_found", "")
		w, r = b.staff1.do(http.MethodPut, path, body)
		wantProblem(t, "staff updates", w, r, 403, "forbidden", "")
		delete(body, "premiums_paid")
		w, r = b.admin.do(http.MethodPut, path, body)
		if mustCode(t, "admin updates", w.Code, 200, r); r["premiums_paid"].(float64) != 3 || r["next_due_date"] != "2024-04-30" {
			t.Fatalf("an update without premiums_paid keeps the count: %v", r)
		}
		body["policy_number"] = "LIC-200300"
		w, r = b.agentA.do(http.MethodPut, path, body)
		wantProblem(t, "update to a taken number", w, r, 409, "policy_number_taken", "body.policy_number")

		// Listing: filters, sorting, pages, scope. Four policies numbered
		// L-*, by next due date: L-1 (lapsed, due a year ago), L-4 (monthly,
		// due in about three weeks), L-2 (due in a year less 3 days), L-3
		// (at p2, due in a year).
		l1 := b.newPolicy(b.agentA, "L-1", asha, map[string]any{"commencement_date": b.date(-2, 0, 0)})
		if _, r := b.setStatus(b.agentA, l1["id"].(string), "lapsed"); r["status"] != "lapsed" {
			t.Fatalf("lapse: %v", r)
		}
		b.newPolicy(b.agentA, "L-2", asha, map[string]any{"commencement_date": b.date(0, 0, -3)})
		b.newPolicy(b.agentA, "L-3", asha, map[string]any{"provider_id": b.p2, "plan_id": b.planP2, "term": 20, "premium_term": 20, "sum_assured": 6000000_00})
		b.newPolicy(b.agentA, "L-4", asha, map[string]any{"premium_mode": "monthly", "commencement_date": b.date(0, 0, -10)})
		list := func(c client, query string) string {
			t.Helper()
			w, r := c.do(http.MethodGet, "/api/v1/policies"+query, nil)
			mustCode(t, "list "+query, w.Code, 200, r)
			var numbers []string
			for _, p := range r["policies"].([]any) {
				numbers = append(numbers, p.(map[string]any)["policy_number"].(string))
			}
			return strings.Join(numbers, ",")
		}
		for query, want := range map[string]string{
			"?q=l-":                          "L-1,L-4,L-2,L-3",
			"?q=L-&status=lapsed":            "L-1",
			"?q=L-&status=in_force,lapsed":   "L-1,L-4,L-2,L-3",
			"?q=L-&status=in_force":          "L-4,L-2,L-3",
			"?q=L-&status=paid_up":           "",
			"?q=L-&provider_id=" + b.p2:      "L-3",
			"?q=L-&customer_id=" + asha:      "L-1,L-4,L-2,L-3",
			"?customer_id=" + bala:           "",
			"?q=L-&sort=-next_due_date":      "L-3,L-2,L-4,L-1",
			"?q=L-&sort=-created_at&limit=2": "L-4,L-3",
			"?q=L-&sort=created_at&limit=2":  "L-1,L-2",
			"?q=L-&due_from=" + b.date(0, 0, 0) + "&due_to=" + b.date(0, 0, 60): "L-4",
			"?due_from=2024-04-01&due_to=2025-03-01":                            "LIC-100200,LIC-100201",
		} {
			if got := list(b.agentA, query); got != want {
				t.Errorf("%s: %s, want %s", query, got, want)
			}
		}
		// Pages give each policy once, in order.
		var seen []string
		cursor := ""
		for i := 0; i < 10; i++ {
			w, r := b.agentA.do(http.MethodGet, "/api/v1/policies?q=L-&limit=3&cursor="+cursor, nil)
			mustCode(t, "page", w.Code, 200, r)
			for _, p := range r["policies"].([]any) {
				seen = append(seen, p.(map[string]any)["policy_number"].(string))
			}
			if cursor, _ = r["next_cursor"].(string); cursor == "" {
				break
			}
		}
		if strings.Join(seen, ",") != "L-1,L-4,L-2,L-3" {
			t.Fatalf("pages: %v", seen)
		}
		if got := list(b.agentA, "?limit=100"); strings.Count(got, ",") != 6 {
			t.Fatalf("A's whole list: %s", got)
		}
		if got := list(b.agentB, ""); got != "LIC-200300" {
			t.Fatalf("B's list: %v", got)
		}
		if got := list(b.staff2, "?sort=created_at"); got != "LIC-100200,L-3" {
			t.Fatalf("p2 staff's list: %v", got)
		}
		if got := list(b.staff1, "?agent_id="+b.agentBID); got != "LIC-200300" {
			t.Fatalf("p1 staff, one agent: %v", got)
		}
		if got := list(b.admin, "?limit=100"); strings.Count(got, ",") != 7 {
			t.Fatalf("admin's list: %v", got)
		}
		w, r = b.agentA.do(http.MethodGet, "/api/v1/policies?status=dormant", nil)
		wantProblem(t, "unknown status", w, r, 422, "invalid", "")
		w, r = b.agentA.do(http.MethodGet, "/api/v1/policies?due_from=tomorrow", nil)
		wantProblem(t, "bad date", w, r, 422, "invalid", "query.due_from")
		w, r = b.member.do(http.MethodGet, "/api/v1/policies", nil)
		wantProblem(t, "member lists", w, r, 403, "forbidden", "")

		// Deleting: staff never; another agent 404; the owner within a day;
		// afterwards only administrators.
		w, r = b.staff1.do(http.MethodDelete, path, nil)
		wantProblem(t, "staff deletes", w, r, 403, "forbidden", "")
		w, r = b.agentB.do(http.MethodDelete, path, nil)
		wantProblem(t, "B deletes A's", w, r, 404, "policy_not_found", "")
		w, r = b.agentA.do(http.MethodDelete, "/api/v1/policies/"+p2["id"].(string), nil)
		mustCode(t, "owner deletes the same day", w.Code, 204, r)
		w, r = b.agentA.do(http.MethodGet, "/api/v1/policies/"+p2["id"].(string), nil)
		wantProblem(t, "deleted", w, r, 404, "policy_not_found", "")
		b.e.Clock.Add(25 * time.Hour)
		agentA := b.relogin("asha.agent@example.com")
		w, r = agentA.do(http.MethodDelete, path, nil)
		wantProblem(t, "owner deletes after a day", w, r, 409, "policy_delete_window_over", "")
		admin := b.relogin("root@example.com")
		w, r = admin.do(http.MethodDelete, "/api/v1/policies/"+bp, nil)
		mustCode(t, "admin deletes", w.Code, 204, r)

		// A day after entering it, the agent no longer moves the premium
		// schedule: premiums paid (payments record them) and the terms the
		// due dates follow from are corrected by administrators.
		body = b.policyBody("LIC-100200", asha, map[string]any{"premium_mode": "monthly", "commencement_date": "2024-01-31", "premiums_paid": 3, "sum_assured": 600000_00})
		for what, change := range map[string]map[string]any{
			"premiums paid":     {"premiums_paid": 9},
			"commencement date": {"commencement_date": "2024-03-31"},
			"premium mode":      {"premium_mode": "quarterly"},
			"premium term":      {"premium_term": 12},
		} {
			field := "body." + map[string]string{"premiums paid": "premiums_paid", "commencement date": "commencement_date", "premium mode": "premium_mode", "premium term": "premium_term"}[what]
			changed := map[string]any{}
			for k, v := range body {
				changed[k] = v
			}
			for k, v := range change {
				changed[k] = v
			}
			w, r = agentA.do(http.MethodPut, path, changed)
			wantProblem(t, "agent changes the "+what+" a day later", w, r, 409, "policy_schedule_locked", field)
		}
		body["sum_assured"] = 650000_00
		w, r = agentA.do(http.MethodPut, path, body)
		if mustCode(t, "agent corrects the sum assured, count unchanged", w.Code, 200, r); r["premiums_paid"].(float64) != 3 || r["sum_assured"].(float64) != 650000_00 {
			t.Fatalf("a day later: %v", r)
		}
		body["premiums_paid"] = 4
		w, r = admin.do(http.MethodPut, path, body)
		if mustCode(t, "administrator corrects the count", w.Code, 200, r); r["premiums_paid"].(float64) != 4 || r["next_due_date"] != "2024-05-31" {
			t.Fatalf("administrator's correction: %v", r)
		}
	})
}

// relogin signs a user in again (after the test clock moved past their
// token's life).
func (b *bookEnv) relogin(email string) client {
	b.t.Helper()
	b.nextIP++
	c := client{t: b.t, h: b.s, ip: fmt.Sprintf("198.51.100.%d", b.nextIP)}
	w, r := c.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"identifier": email, "password": "correct horse battery"})
	mustCode(b.t, "login "+email, w.Code, 200, r)
	c.token = r["access_token"].(string)
	return c
}

func TestBookPolicyStatus(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		b := newBookEnv(t, db)
		ctx := context.Background()
		asha := b.newCustomer(b.agentA, "Asha", nil)
		id := func(p map[string]any) string { return p["id"].(string) }

		// Two years ago, yearly, one premium paid: the second premium's
		// grace ended eleven months ago.
		overdue := id(b.newPolicy(b.agentA, "S-1", asha, map[string]any{"commencement_date": b.date(-2, 0, 0)}))
		fresh := id(b.newPolicy(b.agentA, "S-2", asha, nil))
		for _, c := range []struct {
			what, id, to string
			client       client
			status       int
			code         string
		}{
			{"grace not over", fresh, "lapsed", b.agentA, 409, "grace_period_not_over"},
			{"not yet matured", fresh, "matured", b.agentA, 409, "not_yet_matured"},
			{"already in force", fresh, "in_force", b.agentA, 409, "invalid_transition"},
			{"unknown status", fresh, "dormant", b.agentA, 422, "invalid"},
			{"provider admin", overdue, "lapsed", b.staff1, 403, "forbidden"},
			{"another agent", overdue, "lapsed", b.agentB, 404, "policy_not_found"},
			{"member", overdue, "lapsed", b.member, 403, "forbidden"},
		} {
			w, r := b.setStatus(c.client, c.id, c.to)
			field := "body.status"
			if c.status == 403 || c.status == 404 {
				field = ""
			}
			wantProblem(t, c.what, w, r, c.status, c.code, field)
		}

		// in force → lapsed → revived (arrears recorded as paid) → paid-up
		// → claimed (final).
		w, r := b.setStatus(b.agentA, overdue, "lapsed")
		if mustCode(t, "lapse", w.Code, 200, r); r["status"] != "lapsed" || r["next_due_date"] != b.date(-1, 0, 0) || r["revival_deadline"] != b.date(4, 0, 0) || r["status_reason"] != "test: lapsed" {
			t.Fatalf("lapsed: %v", r)
		}
		w, r = b.setStatus(b.agentA, overdue, "in_force")
		if mustCode(t, "revive", w.Code, 200, r); r["status"] != "in_force" || r["premiums_paid"].(float64) != 3 || r["next_due_date"] != b.date(1, 0, 0) || r["revival_deadline"] != nil {
			t.Fatalf("revived: %v", r)
		}
		var before, after string
		if err := db.QueryRow(ctx, `SELECT before_data, after_data FROM audit_log WHERE action = 'policy.status_changed' AND target_id = ? ORDER BY id DESC LIMIT 1`, overdue).Scan(&before, &after); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(before, `"status":"lapsed"`) || !strings.Contains(before, `"premiums_paid":1`) || !strings.Contains(after, `"status":"in_force"`) ||
			!strings.Contains(after, `"premiums_paid":3`) || !strings.Contains(after, `"via":"api"`) {
			t.Fatalf("revival audit: %s → %s", before, after)
		}
		for _, step := range []struct{ to, code string }{{"paid_up", ""}, {"in_force", "invalid_transition"}, {"lapsed", "invalid_transition"}, {"claimed", ""}, {"surrendered", "invalid_transition"}} {
			w, r := b.setStatus(b.agentA, overdue, step.to)
			if step.code == "" {
				if mustCode(t, step.to, w.Code, 200, r); r["status"] != step.to || r["next_due_date"] != nil {
					t.Fatalf("%s: %v", step.to, r)
				}
				continue
			}
			wantProblem(t, "→ "+step.to, w, r, 409, step.code, "body.status")
		}
		w, r = b.agentA.do(http.MethodPut, "/api/v1/policies/"+overdue, b.policyBody("S-1", asha, map[string]any{"commencement_date": b.date(-2, 0, 0)}))
		wantProblem(t, "change a closed policy", w, r, 409, "policy_closed", "")

		// Revival only within five years of the first unpaid premium.
		old := id(b.newPolicy(b.agentA, "S-3", asha, map[string]any{"commencement_date": b.date(-10, 0, 0), "term": 25}))
		if w, r := b.setStatus(b.agentA, old, "lapsed"); w.Code != 200 {
			t.Fatalf("lapse old: %v", r)
		}
		w, r = b.setStatus(b.agentA, old, "in_force")
		wantProblem(t, "revival after 5 years", w, r, 409, "revival_period_over", "body.status")
		w, r = b.setStatus(b.agentA, old, "surrendered")
		mustCode(t, "surrender a lapsed policy", w.Code, 200, r)

		// A month of monthly premiums has no paid-up or surrender value.
		monthly := id(b.newPolicy(b.agentA, "S-4", asha, map[string]any{"premium_mode": "monthly"}))
		w, r = b.setStatus(b.agentA, monthly, "surrendered")
		wantProblem(t, "surrender too early", w, r, 409, "min_premiums_not_paid", "body.status")
		w, r = b.setStatus(b.agentA, monthly, "paid_up")
		wantProblem(t, "paid-up too early", w, r, 409, "min_premiums_not_paid", "body.status")

		// Maturity on the maturity date; a paid-up policy matures too.
		due := id(b.newPolicy(b.agentA, "S-5", asha, map[string]any{"plan_id": b.plan5, "term": 5, "premium_term": 5, "sum_assured": 100000_00,
			"commencement_date": b.date(-5, 0, 0), "premiums_paid": 5}))
		w, r = b.setStatus(b.admin, due, "matured")
		if mustCode(t, "mature (administrator)", w.Code, 200, r); r["status"] != "matured" || r["maturity_date"] != b.date(0, 0, 0) {
			t.Fatalf("matured: %v", r)
		}
		w, r = b.setStatus(b.agentA, due, "claimed")
		wantProblem(t, "a matured policy is final", w, r, 409, "invalid_transition", "body.status")
	})
}

func TestBookDailyStatusJob(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		b := newBookEnv(t, db)
		ctx := logging.WithLogger(context.Background(), logging.Discard())
		asha := b.newCustomer(b.agentA, "Asha", nil)
		id := func(p map[string]any) string { return p["id"].(string) }
		overdue := id(b.newPolicy(b.agentA, "J-1", asha, map[string]any{"commencement_date": b.date(-2, 0, 0)}))
		monthly := id(b.newPolicy(b.agentA, "J-2", asha, map[string]any{"premium_mode": "monthly"})) // next due in a month, 15 days of grace
		maturing := id(b.newPolicy(b.agentA, "J-3", asha, map[string]any{"plan_id": b.plan5, "term": 5, "premium_term": 5, "sum_assured": 100000_00,
			"commencement_date": b.date(-5, 0, 0), "premiums_paid": 5}))
		paidUp := id(b.newPolicy(b.agentA, "J-4", asha, map[string]any{"plan_id": b.plan5, "term": 5, "premium_term": 5, "sum_assured": 100000_00,
			"commencement_date": b.date(-5, 0, -1), "premiums_paid": 3}))
		if w, r := b.setStatus(b.agentA, paidUp, "paid_up"); w.Code != 200 {
			t.Fatalf("paid-up: %v", r)
		}
		lapsedAtMaturity := id(b.newPolicy(b.agentA, "J-5", asha, map[string]any{"plan_id": b.plan5, "term": 5, "premium_term": 5, "sum_assured": 100000_00,
			"commencement_date": b.date(-5, 0, 0), "premiums_paid": 2}))
		if w, r := b.setStatus(b.agentA, lapsedAtMaturity, "lapsed"); w.Code != 200 {
			t.Fatalf("lapse: %v", r)
		}
		// Lapsed at maturity without a paid-up value: 5 of 60 monthly premiums.
		noValue := id(b.newPolicy(b.agentA, "J-6", asha, map[string]any{"plan_id": b.plan5, "term": 5, "premium_term": 5, "sum_assured": 100000_00,
			"premium_mode": "monthly", "commencement_date": b.date(-5, 0, 0), "premiums_paid": 5}))
		if w, r := b.setStatus(b.agentA, noValue, "lapsed"); w.Code != 200 {
			t.Fatalf("lapse: %v", r)
		}
		// Lapsed six years ago with a year's premiums paid, 13 years to run.
		revivalOver := id(b.newPolicy(b.agentA, "J-7", asha, map[string]any{"commencement_date": b.date(-7, 0, 0)}))
		if w, r := b.setStatus(b.agentA, revivalOver, "lapsed"); w.Code != 200 || r["revival_deadline"] != b.date(-1, 0, 0) {
			t.Fatalf("lapse: %v", r)
		}
		// Enough overdue policies for several batches, written directly.
		bala := b.newCustomer(b.agentB, "Bala", nil)
		now := b.e.Clock.Now()
		for i := range 1100 {
			b.exec(`INSERT INTO policies (id, agent_id, provider_id, plan_id, customer_id, policy_number, sum_assured, premium, premium_mode, term_years, premium_term_years,
				commencement_date, maturity_date, premiums_paid, next_due_date, grace_end_date, status, status_changed_at, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, 50000000, 2500000, 'yearly', 20, 15, ?, ?, 1, ?, ?, 'in_force', ?, ?, ?)`,
				fmt.Sprintf("01a20000-0000-7000-8000-%012d", i), b.agentBID, b.p1, b.plan914, bala, fmt.Sprintf("BULK-%04d", i),
				b.date(-3, 0, 0), b.date(17, 0, 0), b.date(-2, 0, 0), b.date(-2, 0, 30), now, now, now)
		}

		// The job with its own clock: at first, today.
		var clock time.Duration
		svc := insurance.NewService(db, b.e.Vault, nil, func() time.Time { return b.e.Clock.Now().Add(clock) })
		worker := &insurance.PolicyStatusWorker{Service: svc}
		status := func(id string) string {
			var s string
			if err := db.QueryRow(ctx, `SELECT status FROM policies WHERE id = ?`, id).Scan(&s); err != nil {
				t.Fatal(err)
			}
			return s
		}
		count := func(q string, args ...any) int {
			var n int
			if err := db.QueryRow(ctx, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if err := worker.Work(ctx, nil); err != nil {
			t.Fatal(err)
		}
		// A lapsed policy with a paid-up value becomes paid-up when revival is
		// no longer possible (and matures at maturity); without one it stays
		// lapsed, its revival deadline past.
		for id, want := range map[string]string{overdue: "lapsed", monthly: "in_force", maturing: "matured", paidUp: "matured",
			lapsedAtMaturity: "matured", noValue: "lapsed", revivalOver: "paid_up"} {
			if got := status(id); got != want {
				t.Errorf("%s: %s, want %s", id, got, want)
			}
		}
		if n := count(`SELECT count(*) FROM policies WHERE policy_number LIKE 'BULK-%' AND status = 'lapsed'`); n != 1100 {
			t.Fatalf("bulk lapsed: %d", n)
		}
		jobAudits := `SELECT count(*) FROM audit_log WHERE action = 'policy.status_changed' AND actor_role = 'system' AND actor_id IS NULL`
		if n := count(jobAudits); n != 1106 {
			t.Fatalf("job audit entries: %d", n)
		}
		var after string
		if err := db.QueryRow(ctx, `SELECT after_data FROM audit_log WHERE target_id = ? AND actor_role = 'system'`, overdue).Scan(&after); err != nil ||
			!strings.Contains(after, `"via":"daily_job"`) || !strings.Contains(after, `"status":"lapsed"`) {
			t.Fatalf("job audit: %s %v", after, err)
		}
		w, r := b.agentA.do(http.MethodGet, "/api/v1/policies/"+overdue, nil)
		if mustCode(t, "read lapsed", w.Code, 200, r); !strings.Contains(r["status_reason"].(string), "grace period ended") {
			t.Fatalf("reason: %v", r)
		}
		w, r = b.agentA.do(http.MethodGet, "/api/v1/policies/"+revivalOver, nil)
		if mustCode(t, "read paid-up", w.Code, 200, r); !strings.Contains(r["status_reason"].(string), "revival no longer possible") || r["next_due_date"] != nil {
			t.Fatalf("paid-up by the job: %v", r)
		}
		w, r = b.agentA.do(http.MethodGet, "/api/v1/policies/"+noValue, nil)
		if mustCode(t, "read lapsed without value", w.Code, 200, r); r["revival_deadline"] != b.date(0, 0, -1) {
			t.Fatalf("lapsed without value: the revival deadline is the day before maturity: %v", r)
		}
		w, r = b.setStatus(b.agentA, noValue, "in_force")
		wantProblem(t, "revive after maturity", w, r, 409, "revival_period_over", "body.status")

		// Idempotent: the same day again changes nothing.
		if err := worker.Work(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if n := count(jobAudits); n != 1106 {
			t.Fatalf("second run changed %d policies", n-1106)
		}

		// 47 days later the monthly premium's grace (15 days) is over.
		clock = 47 * 24 * time.Hour
		r2, err := svc.SweepPolicyStatuses(ctx)
		if err != nil || r2.Lapsed != 1 || r2.Matured != 0 || r2.PaidUp != 0 || status(monthly) != "lapsed" {
			t.Fatalf("later: %+v %v %s", r2, err, status(monthly))
		}
	})
}

func TestBookRecordPremium(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		b := newBookEnv(t, db)
		ctx := context.Background()
		asha := b.newCustomer(b.agentA, "Asha", nil)
		p := b.newPolicy(b.agentA, "R-1", asha, map[string]any{"plan_id": b.plan5, "term": 5, "premium_term": 5, "sum_assured": 100000_00,
			"commencement_date": b.date(-5, 0, 0), "premium_mode": "monthly", "premiums_paid": 59})
		svc := insurance.NewService(db, b.e.Vault, nil, b.e.Clock.Now)
		record := func() error {
			return db.InTx(ctx, func(tx *database.Tx) error { return svc.RecordPremium(ctx, tx, p["id"].(string)) })
		}
		if p["next_due_date"] != b.date(0, -1, 0) {
			t.Fatalf("before: %v", p)
		}
		if err := record(); err != nil {
			t.Fatal(err)
		}
		_, r := b.agentA.do(http.MethodGet, "/api/v1/policies/"+p["id"].(string), nil)
		if r["premiums_paid"].(float64) != 60 || r["next_due_date"] != nil || r["grace_period_end"] != nil {
			t.Fatalf("after the last premium: %v", r)
		}
		if err := record(); err == nil || !strings.Contains(err.Error(), "no_premium_due") {
			t.Fatalf("beyond the last premium: %v", err)
		}
		lapsed := b.newPolicy(b.agentA, "R-2", asha, map[string]any{"commencement_date": b.date(-2, 0, 0)})
		if w, r := b.setStatus(b.agentA, lapsed["id"].(string), "lapsed"); w.Code != 200 {
			t.Fatalf("lapse: %v", r)
		}
		err := db.InTx(ctx, func(tx *database.Tx) error { return svc.RecordPremium(ctx, tx, lapsed["id"].(string)) })
		if err == nil || !strings.Contains(err.Error(), "policy_not_in_force") {
			t.Fatalf("premium on a lapsed policy: %v", err)
		}
		err = db.InTx(ctx, func(tx *database.Tx) error { return svc.RecordPremium(ctx, tx, bookUnknownID) })
		if err == nil || !strings.Contains(err.Error(), "policy_not_found") {
			t.Fatalf("unknown policy: %v", err)
		}
	})
}
