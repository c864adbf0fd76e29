package server_test

import (
	"net/http"
	"sync"
	"testing"

	"mitra/internal/auth/authtest"
	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
	"mitra/internal/server"
)

// providerBody is a provider with two plans, the way an administrator
// enters a plan master.
func providerBody(code string) map[string]any {
	return map[string]any{
		"code": code, "name": code + " Life", "irdai_reg_no": "512",
		"plans": []map[string]any{
			{"plan_number": "914", "name": "New Endowment", "plan_type": "endowment", "terms": []int{12, 15, 20, 25, 30, 35},
				"premium_terms": []int{12, 15, 20, 25, 30, 35}, "min_entry_age": 8, "max_entry_age": 50, "min_sum_assured": 10000000,
				"modes": []string{"monthly", "yearly", "quarterly", "half_yearly"}},
			{"plan_number": "954", "name": "Tech Term", "plan_type": "term", "terms": []int{10, 20, 30, 40},
				"premium_terms": []int{5, 10, 15, 20, 30, 40}, "min_entry_age": 18, "max_entry_age": 65, "min_sum_assured": 5000000000,
				"modes": []string{"yearly", "half_yearly"}},
		},
	}
}

func mustCode(t *testing.T, what string, got, want int, body map[string]any) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: status %d, want %d: %v", what, got, want, body)
	}
}

func problemCode(b map[string]any) string { s, _ := b["code"].(string); return s }

func fieldOf(b map[string]any) string {
	errs, _ := b["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	m, _ := errs[0].(map[string]any)
	s, _ := m["location"].(string)
	return s
}

// insuranceEnv is a server with an administrator and one provider.
type insuranceEnv struct {
	s          *server.Server
	e          *authtest.Env
	admin      client
	providerID string
}

func newInsuranceEnv(t *testing.T, db *database.DB) insuranceEnv {
	s, e := newServerEnv(t, db, nil, authtest.Memory)
	ad := admin(t, s, e, "root@example.com")
	w, b := ad.do(http.MethodPost, "/api/v1/providers", providerBody("LIC"))
	mustCode(t, "create provider", w.Code, 201, b)
	return insuranceEnv{s: s, e: e, admin: ad, providerID: b["id"].(string)}
}

// apply submits an agent application and returns the agent id.
func (ie insuranceEnv) apply(t *testing.T, phone, licence string) string {
	t.Helper()
	c := client{t: t, h: ie.s, ip: "198.51.100.20"}
	w, b := c.do(http.MethodPost, "/api/v1/agents/register", map[string]any{"name": "Ravi Kumar", "phone": phone, "password": "correct horse battery",
		"licence_number": licence, "licence_expiry": "2030-03-31", "provider_id": ie.providerID, "city": "Pune"})
	mustCode(t, "apply", w.Code, 201, b)
	if b["status"] != "pending" || b["agent_code"] != nil {
		t.Fatalf("application: %v", b)
	}
	return b["id"].(string)
}

// approve verifies and approves an agent and returns a signed-in client.
func (ie insuranceEnv) approve(t *testing.T, id string) (client, string) {
	t.Helper()
	w, b := ie.admin.do(http.MethodPost, "/api/v1/agents/"+id+"/verify", map[string]any{})
	mustCode(t, "verify", w.Code, 200, b)
	w, b = ie.admin.do(http.MethodPost, "/api/v1/agents/"+id+"/approve", map[string]any{})
	mustCode(t, "approve", w.Code, 200, b)
	code := b["agent_code"].(string)
	return ie.login(t, code), code
}

func (ie insuranceEnv) login(t *testing.T, identifier string) client {
	t.Helper()
	c := client{t: t, h: ie.s, ip: "198.51.100.21"}
	w, b := c.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"identifier": identifier, "password": "correct horse battery"})
	mustCode(t, "login "+identifier, w.Code, 200, b)
	c.token = b["access_token"].(string)
	return c
}

func TestProvidersOverHTTP(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		ie := newInsuranceEnv(t, db)
		member, _ := signUp(t, ie.s, "member@example.com")
		anon := client{t: t, h: ie.s}

		// Everybody reads providers (the agent application form needs them).
		w, b := anon.do(http.MethodGet, "/api/v1/providers", nil)
		mustCode(t, "list", w.Code, 200, b)
		list := b["providers"].([]any)
		if len(list) != 1 || len(list[0].(map[string]any)["plans"].([]any)) != 2 {
			t.Fatalf("providers: %v", b)
		}
		w, b = anon.do(http.MethodGet, "/api/v1/providers/"+ie.providerID, nil)
		mustCode(t, "get", w.Code, 200, b)
		plan := b["plans"].([]any)[0].(map[string]any)
		if plan["plan_number"] != "914" || plan["modes"].([]any)[0] != "yearly" || plan["min_sum_assured"].(float64) != 10000000 {
			t.Fatalf("plan (modes in canonical order): %v", plan)
		}

		// Only administrators write.
		w, b = member.do(http.MethodPost, "/api/v1/providers", providerBody("HDFC"))
		mustCode(t, "member create", w.Code, 403, b)
		w, b = ie.admin.do(http.MethodPost, "/api/v1/providers", providerBody("lic"))
		mustCode(t, "duplicate code", w.Code, 409, b)
		if problemCode(b) != "provider_code_taken" {
			t.Fatalf("duplicate: %v", b)
		}

		// Plan master rules.
		bad := providerBody("SBI")
		bad["plans"].([]map[string]any)[0]["premium_terms"] = []int{40}
		w, b = ie.admin.do(http.MethodPost, "/api/v1/providers", bad)
		mustCode(t, "premium term longer than every term", w.Code, 422, b)
		if fieldOf(b) != "body.plans[0].premium_terms" {
			t.Fatalf("field: %v", b)
		}
		bad = providerBody("SBI")
		bad["plans"].([]map[string]any)[1]["min_entry_age"] = 70
		w, b = ie.admin.do(http.MethodPost, "/api/v1/providers", bad)
		mustCode(t, "entry ages reversed", w.Code, 422, b)
		if fieldOf(b) != "body.plans[1].max_entry_age" {
			t.Fatalf("field: %v", b)
		}
		bad = providerBody("SBI")
		bad["plans"].([]map[string]any)[1]["modes"] = []string{"weekly"}
		w, b = ie.admin.do(http.MethodPost, "/api/v1/providers", bad)
		mustCode(t, "unknown mode", w.Code, 422, b)

		// Replace the plan master: one plan dropped, one changed; deactivate.
		upd := providerBody("LIC")
		upd["plans"] = upd["plans"].([]map[string]any)[:1]
		upd["plans"].([]map[string]any)[0]["name"] = "New Endowment Plan"
		upd["active"] = false
		w, b = ie.admin.do(http.MethodPut, "/api/v1/providers/"+ie.providerID, upd)
		mustCode(t, "update", w.Code, 200, b)
		if ps := b["plans"].([]any); len(ps) != 1 || ps[0].(map[string]any)["name"] != "New Endowment Plan" || b["active"] != false {
			t.Fatalf("updated: %v", b)
		}
		// An inactive provider is hidden from everybody but administrators.
		if w, b = anon.do(http.MethodGet, "/api/v1/providers/"+ie.providerID, nil); w.Code != 404 {
			t.Fatalf("inactive provider shown: %d %v", w.Code, b)
		}
		if w, b = ie.admin.do(http.MethodGet, "/api/v1/providers", nil); len(b["providers"].([]any)) != 1 {
			t.Fatalf("admin list: %v", b)
		}
		if w, b = member.do(http.MethodPut, "/api/v1/providers/"+ie.providerID, upd); w.Code != 403 {
			t.Fatalf("member update: %d", w.Code)
		}
	})
}

func TestAgentApprovalWorkflowOverHTTP(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		ie := newInsuranceEnv(t, db)
		anon := client{t: t, h: ie.s, ip: "198.51.100.30"}
		id := ie.apply(t, "+91 98123 45678", "irda/ind/10001")

		// Application rules.
		w, b := anon.do(http.MethodPost, "/api/v1/agents/register", map[string]any{"name": "Late", "phone": "+919812300000", "password": "correct horse battery",
			"licence_number": "IRDA/IND/10002", "licence_expiry": "2020-01-01", "provider_id": ie.providerID})
		mustCode(t, "expired licence", w.Code, 422, b)
		if fieldOf(b) != "body.licence_expiry" {
			t.Fatalf("field: %v", b)
		}
		w, b = anon.do(http.MethodPost, "/api/v1/agents/register", map[string]any{"name": "Nowhere", "phone": "+919812300001", "password": "correct horse battery",
			"licence_number": "IRDA/IND/10003", "licence_expiry": "2030-01-01", "provider_id": "missing"})
		mustCode(t, "unknown provider", w.Code, 422, b)
		if fieldOf(b) != "body.provider_id" {
			t.Fatalf("field: %v", b)
		}
		w, b = anon.do(http.MethodPost, "/api/v1/agents/register", map[string]any{"name": "Copy", "phone": "+919812300002", "password": "correct horse battery",
			"licence_number": "IRDA/IND/10001", "licence_expiry": "2030-01-01", "provider_id": ie.providerID})
		mustCode(t, "licence taken", w.Code, 409, b)
		if problemCode(b) != "licence_taken" {
			t.Fatalf("code: %v", b)
		}

		// Before approval, a correct password answers agent_not_approved.
		w, b = anon.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"identifier": "+919812345678", "password": "correct horse battery"})
		mustCode(t, "pending login", w.Code, 403, b)
		if problemCode(b) != "agent_not_approved" {
			t.Fatalf("pending login: %v", b)
		}

		// Invalid transitions are refused; reasons are required.
		w, b = ie.admin.do(http.MethodPost, "/api/v1/agents/"+id+"/approve", map[string]any{})
		mustCode(t, "approve before verification", w.Code, 409, b)
		if problemCode(b) != "invalid_transition" {
			t.Fatalf("code: %v", b)
		}
		w, b = ie.admin.do(http.MethodPost, "/api/v1/agents/"+id+"/suspend", map[string]any{"reason": "x"})
		mustCode(t, "suspend pending", w.Code, 409, b)
		w, b = ie.admin.do(http.MethodPost, "/api/v1/agents/"+id+"/reject", map[string]any{})
		mustCode(t, "reject without reason", w.Code, 422, b)
		if problemCode(b) != "reason_required" || fieldOf(b) != "body.reason" {
			t.Fatalf("reason: %v", b)
		}

		agent, code := ie.approve(t, id)
		if len(code) != 9 || code[:3] != "AG-" {
			t.Fatalf("agent code %q", code)
		}
		w, b = agent.do(http.MethodGet, "/api/v1/agents/"+id, nil)
		mustCode(t, "own profile", w.Code, 200, b)
		if b["status"] != "approved" || b["licence_number"] != "IRDA/IND/10001" || b["phone"] != "+919812345678" {
			t.Fatalf("profile: %v", b)
		}
		w, b = ie.admin.do(http.MethodPost, "/api/v1/agents/"+id+"/approve", map[string]any{})
		mustCode(t, "approve twice", w.Code, 409, b)

		// Suspension ends the agent's sessions and sign-in; reinstatement
		// restores sign-in with the same code.
		w, b = ie.admin.do(http.MethodPost, "/api/v1/agents/"+id+"/suspend", map[string]any{"reason": "licence under review"})
		mustCode(t, "suspend", w.Code, 200, b)
		if b["status"] != "suspended" || b["status_reason"] != "licence under review" {
			t.Fatalf("suspended: %v", b)
		}
		if w, b = agent.do(http.MethodGet, "/api/v1/auth/me", nil); w.Code != 401 {
			t.Fatalf("suspended agent's token still works: %d %v", w.Code, b)
		}
		if w, b = anon.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"identifier": code, "password": "correct horse battery"}); w.Code != 401 {
			t.Fatalf("suspended agent signed in: %d %v", w.Code, b)
		}
		// The users API cannot bring a suspended agent back...
		w, b = ie.admin.do(http.MethodPut, "/api/v1/users/"+id, map[string]any{"status": "active"})
		mustCode(t, "reactivate through the users API", w.Code, 409, b)
		if problemCode(b) != "agent_managed" {
			t.Fatalf("code: %v", b)
		}
		// ...and even an active account works no book while the agent
		// record says suspended.
		if _, err := db.Exec(t.Context(), `UPDATE users SET status = 'active' WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
		back := ie.login(t, code)
		w, b = back.do(http.MethodPost, "/api/v1/customers", map[string]any{"name": "Asha", "date_of_birth": "1990-01-01"})
		mustCode(t, "suspended agent adds a customer", w.Code, 403, b)
		if problemCode(b) != "agent_not_approved" {
			t.Fatalf("code: %v", b)
		}
		if _, err := db.Exec(t.Context(), `UPDATE users SET status = 'deactivated' WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
		w, b = ie.admin.do(http.MethodPost, "/api/v1/agents/"+id+"/reinstate", map[string]any{})
		mustCode(t, "reinstate", w.Code, 200, b)
		if b["agent_code"] != code {
			t.Fatalf("code changed on reinstatement: %v", b)
		}
		ie.login(t, code)

		// A rejected application is final.
		other := ie.apply(t, "+919812345679", "IRDA/IND/20001")
		w, b = ie.admin.do(http.MethodPost, "/api/v1/agents/"+other+"/reject", map[string]any{"reason": "licence number does not match IRDAI records"})
		mustCode(t, "reject", w.Code, 200, b)
		w, b = ie.admin.do(http.MethodPost, "/api/v1/agents/"+other+"/verify", map[string]any{})
		mustCode(t, "verify rejected", w.Code, 409, b)

		// Every transition is audited.
		w, b = ie.admin.do(http.MethodGet, "/api/v1/audit?target_id="+id, nil)
		mustCode(t, "audit", w.Code, 200, b)
		seen := map[string]bool{}
		for _, e := range b["entries"].([]any) {
			seen[e.(map[string]any)["action"].(string)] = true
		}
		for _, a := range []string{"agent.applied", "agent.verified", "agent.approved", "agent.suspended", "agent.reinstated"} {
			if !seen[a] {
				t.Errorf("audit lacks %s: %v", a, seen)
			}
		}
	})
}

func TestAgentVisibilityAndProfiles(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		ie := newInsuranceEnv(t, db)
		w, b := ie.admin.do(http.MethodPost, "/api/v1/providers", providerBody("HDFC"))
		mustCode(t, "second provider", w.Code, 201, b)
		hdfc := b["id"].(string)

		a1 := ie.apply(t, "+919800000001", "IRDA/IND/30001")
		a2 := ie.apply(t, "+919800000002", "IRDA/IND/30002")
		agent1, _ := ie.approve(t, a1)
		agent2, _ := ie.approve(t, a2)
		member, _ := signUp(t, ie.s, "member@example.com")

		// Another agent's id answers 404, like a missing one.
		for _, c := range []client{agent2, member} {
			if w, b := c.do(http.MethodGet, "/api/v1/agents/"+a1, nil); w.Code != 404 {
				t.Fatalf("stranger read agent: %d %v", w.Code, b)
			}
			if w, b := c.do(http.MethodGet, "/api/v1/agents/"+a1+"/providers", nil); w.Code != 404 {
				t.Fatalf("stranger read links: %d %v", w.Code, b)
			}
		}
		if w, _ := agent1.do(http.MethodGet, "/api/v1/agents", nil); w.Code != 403 {
			t.Fatalf("agent listed agents: %d", w.Code)
		}

		// Profiles: the agent changes their own, not their licence.
		w, b = agent1.do(http.MethodPut, "/api/v1/agents/"+a1, map[string]any{"bio": "LIC agent since 2012", "city": "Nagpur"})
		mustCode(t, "own update", w.Code, 200, b)
		if b["bio"] != "LIC agent since 2012" || b["city"] != "Nagpur" {
			t.Fatalf("profile: %v", b)
		}
		w, b = agent1.do(http.MethodPut, "/api/v1/agents/"+a1, map[string]any{"licence_expiry": "2040-01-01"})
		mustCode(t, "own licence", w.Code, 403, b)
		w, b = agent2.do(http.MethodPut, "/api/v1/agents/"+a1, map[string]any{"bio": "hacked"})
		mustCode(t, "other's profile", w.Code, 404, b)
		w, b = ie.admin.do(http.MethodPut, "/api/v1/agents/"+a1, map[string]any{"licence_expiry": "2040-01-01"})
		mustCode(t, "admin licence", w.Code, 200, b)

		// Commission structure: administrators set it, the agent reads it.
		w, b = ie.admin.do(http.MethodPut, "/api/v1/agents/"+a1+"/providers/"+hdfc, map[string]any{"commission": map[string]any{
			"term": map[string]int{"first_year_bps": 3000, "renewal_bps": 500}, "endowment": map[string]int{"first_year_bps": 2500, "renewal_bps": 750}}})
		mustCode(t, "link", w.Code, 200, b)
		w, b = ie.admin.do(http.MethodPut, "/api/v1/agents/"+a1+"/providers/"+hdfc, map[string]any{"commission": map[string]any{"car": map[string]int{"first_year_bps": 1}}})
		mustCode(t, "unknown plan type", w.Code, 422, b)
		w, b = agent1.do(http.MethodPut, "/api/v1/agents/"+a1+"/providers/"+hdfc, map[string]any{"commission": map[string]any{}})
		mustCode(t, "agent sets own commission", w.Code, 403, b)
		w, b = agent1.do(http.MethodGet, "/api/v1/agents/"+a1+"/providers", nil)
		mustCode(t, "links", w.Code, 200, b)
		links := b["providers"].([]any)
		if len(links) != 2 {
			t.Fatalf("links: %v", b)
		}
		for _, l := range links {
			m := l.(map[string]any)
			if m["provider_id"] == hdfc && m["commission"].(map[string]any)["term"].(map[string]any)["first_year_bps"].(float64) != 3000 {
				t.Fatalf("commission: %v", m)
			}
		}
		w, b = ie.admin.do(http.MethodDelete, "/api/v1/agents/"+a1+"/providers/"+ie.providerID, nil)
		mustCode(t, "unlink primary", w.Code, 409, b)
		w, b = ie.admin.do(http.MethodDelete, "/api/v1/agents/"+a1+"/providers/"+hdfc, nil)
		mustCode(t, "unlink", w.Code, 204, b)

		// A provider admin sees their provider's agents only.
		_, paID := signUp(t, ie.s, "pa@hdfc.example")
		w, b = ie.admin.do(http.MethodPut, "/api/v1/users/"+paID, map[string]any{"role": "provider_admin"})
		mustCode(t, "make provider admin", w.Code, 200, b)
		pa := ie.login(t, "pa@hdfc.example")
		if w, b := pa.do(http.MethodGet, "/api/v1/agents", nil); w.Code != 403 {
			t.Fatalf("unlinked provider admin: %d %v", w.Code, b)
		}
		w, b = ie.admin.do(http.MethodPut, "/api/v1/providers/"+hdfc+"/staff/"+paID, nil)
		mustCode(t, "link staff", w.Code, 204, b)
		w, b = pa.do(http.MethodGet, "/api/v1/agents", nil)
		mustCode(t, "provider admin list", w.Code, 200, b)
		if n := len(b["agents"].([]any)); n != 0 {
			t.Fatalf("HDFC admin sees %d LIC agents", n)
		}
		if w, _ := pa.do(http.MethodGet, "/api/v1/agents/"+a1, nil); w.Code != 404 {
			t.Fatalf("provider admin read another provider's agent: %d", w.Code)
		}
		if w, _ := pa.do(http.MethodPost, "/api/v1/agents/"+a1+"/suspend", map[string]any{"reason": "x"}); w.Code != 403 {
			t.Fatalf("provider admin suspended: %d", w.Code)
		}
		// A provider admin of LIC sees LIC's agents, and of their
		// commission terms only LIC's.
		_, licID := signUp(t, ie.s, "pa@lic.example")
		w, b = ie.admin.do(http.MethodPut, "/api/v1/users/"+licID, map[string]any{"role": "provider_admin"})
		mustCode(t, "make LIC admin", w.Code, 200, b)
		w, b = ie.admin.do(http.MethodPut, "/api/v1/providers/"+ie.providerID+"/staff/"+licID, nil)
		mustCode(t, "link LIC staff", w.Code, 204, b)
		w, b = ie.admin.do(http.MethodPut, "/api/v1/agents/"+a1+"/providers/"+hdfc, map[string]any{"commission": map[string]any{
			"term": map[string]int{"first_year_bps": 3500, "renewal_bps": 600}}})
		mustCode(t, "relink", w.Code, 200, b)
		lic := ie.login(t, "pa@lic.example")
		w, b = lic.do(http.MethodGet, "/api/v1/agents", nil)
		mustCode(t, "LIC admin list", w.Code, 200, b)
		if n := len(b["agents"].([]any)); n != 2 {
			t.Fatalf("LIC admin sees %d agents, want 2: %v", n, b)
		}
		w, b = lic.do(http.MethodGet, "/api/v1/agents/"+a1+"/providers", nil)
		mustCode(t, "LIC admin reads links", w.Code, 200, b)
		if ls := b["providers"].([]any); len(ls) != 1 || ls[0].(map[string]any)["provider_id"] != ie.providerID {
			t.Fatalf("LIC admin sees other providers' terms: %v", b)
		}
		if w, b = agent1.do(http.MethodGet, "/api/v1/agents/"+a1+"/providers", nil); len(b["providers"].([]any)) != 2 {
			t.Fatalf("agent's own links: %v", b)
		}

		uid := ie.apply(t, "+919800000003", "IRDA/IND/30003")
		if w, b = ie.admin.do(http.MethodPut, "/api/v1/providers/"+hdfc+"/staff/"+uid, nil); w.Code != 422 {
			t.Fatalf("agent made staff: %d %v", w.Code, b)
		}

		// Administrators filter the review queue.
		w, b = ie.admin.do(http.MethodGet, "/api/v1/agents?status=pending", nil)
		mustCode(t, "queue", w.Code, 200, b)
		if as := b["agents"].([]any); len(as) != 1 || as[0].(map[string]any)["id"] != uid {
			t.Fatalf("pending queue: %v", b)
		}
		w, b = ie.admin.do(http.MethodGet, "/api/v1/agents?q=30002&limit=1", nil)
		mustCode(t, "search", w.Code, 200, b)
		if as := b["agents"].([]any); len(as) != 1 || as[0].(map[string]any)["id"] != a2 {
			t.Fatalf("search: %v", b)
		}
		w, b = ie.admin.do(http.MethodGet, "/api/v1/agents?limit=2", nil)
		if len(b["agents"].([]any)) != 2 || b["next_cursor"] == nil {
			t.Fatalf("page: %v", b)
		}
		w, b = ie.admin.do(http.MethodGet, "/api/v1/agents?limit=2&cursor="+b["next_cursor"].(string), nil)
		if len(b["agents"].([]any)) != 1 {
			t.Fatalf("second page: %v", b)
		}
	})
}

// Two administrators deciding at once: exactly one decision lands.
func TestAgentDecisionsDoNotRace(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		ie := newInsuranceEnv(t, db)
		id := ie.apply(t, "+919800000009", "IRDA/IND/40001")
		w, b := ie.admin.do(http.MethodPost, "/api/v1/agents/"+id+"/verify", map[string]any{})
		mustCode(t, "verify", w.Code, 200, b)
		var wg sync.WaitGroup
		codes := make([]int, 8)
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				action, body := "approve", map[string]any{}
				if i%2 == 1 {
					action, body = "reject", map[string]any{"reason": "duplicate application"}
				}
				w, _ := ie.admin.do(http.MethodPost, "/api/v1/agents/"+id+"/"+action, body)
				codes[i] = w.Code
			}()
		}
		wg.Wait()
		ok := 0
		for _, c := range codes {
			switch c {
			case 200:
				ok++
			case 409:
			default:
				t.Fatalf("decision answered %d: %v", c, codes)
			}
		}
		if ok != 1 {
			t.Fatalf("%d decisions landed, want 1: %v", ok, codes)
		}
		var status string
		var code *string
		if err := db.QueryRow(t.Context(), `SELECT a.status, u.agent_code FROM agents a JOIN users u ON u.id = a.user_id WHERE a.user_id = ?`, id).Scan(&status, &code); err != nil {
			t.Fatal(err)
		}
		if (status == "approved") != (code != nil) {
			t.Fatalf("status %s with agent code %v", status, code)
		}
	})
}

// Erasing an agent removes their personal details, keeps them from ever
// working a book, and frees their agent code.
func TestAgentErasure(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		ie := newInsuranceEnv(t, db)
		id := ie.apply(t, "+919800000010", "IRDA/IND/50001")
		agent, code := ie.approve(t, id)
		w, b := agent.do(http.MethodGet, "/api/v1/users/"+id+"/export", nil)
		mustCode(t, "export", w.Code, 200, b)
		if ins, _ := b["domains"].(map[string]any)["insurance"].(map[string]any); ins == nil || ins["agent"].(map[string]any)["licence_number"] != "IRDA/IND/50001" {
			t.Fatalf("export lacks the agent profile: %v", b["domains"])
		}
		w, b = agent.do(http.MethodPost, "/api/v1/users/"+id+"/erasure", map[string]any{})
		mustCode(t, "erase", w.Code, 204, b)
		var licence, status string
		if err := db.QueryRow(t.Context(), `SELECT licence_number, status FROM agents WHERE user_id = ?`, id).Scan(&licence, &status); err != nil {
			t.Fatal(err)
		}
		if licence == "IRDA/IND/50001" || status != "suspended" {
			t.Fatalf("after erasure: licence %q status %q", licence, status)
		}
		other := ie.apply(t, "+919800000011", "IRDA/IND/50002")
		w, b = ie.admin.do(http.MethodPost, "/api/v1/agents/"+other+"/verify", map[string]any{})
		mustCode(t, "verify", w.Code, 200, b)
		w, b = ie.admin.do(http.MethodPost, "/api/v1/agents/"+other+"/approve", map[string]any{"agent_code": code})
		mustCode(t, "reuse the erased agent's code", w.Code, 200, b)
	})
}
