package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"mitra/internal/auth"
	"mitra/internal/insurance"
	"mitra/internal/insurance/presentation"
	"mitra/internal/platform/access"
)

// seedCmd: mitra seed [--password P]. It loads a demo data set through the
// services (so every rule applies): providers with plan masters, approved,
// verified and pending agents, a provider admin, customers and policies in
// every status, presentations from templates, and Persona accounts. A
// second run changes nothing and prints the logins again.
func seedCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var password string
	cfg, _, help, err := loadConfig("seed", getenv, args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&password, "password", "demo-password-2026", "the password of every demo account")
	})
	if help || err != nil {
		return err
	}
	if cfg.Production() {
		return usageError{"mitra seed loads demo accounts with a shared password: not in production"}
	}
	log, closeLog := newLogger(cfg, stderr)
	defer closeLog()
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	d := demo{a: a, password: password, today: time.Now().UTC()}
	var seeded, admins int
	if err := a.db.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM app_settings WHERE key = ?), (SELECT COUNT(*) FROM users WHERE email = ?)`, seedMarker, demoAdmin).Scan(&seeded, &admins); err != nil {
		return err
	}
	switch {
	case seeded > 0:
		fmt.Fprintln(stdout, "The demo data set is already loaded.")
	case admins > 0:
		return usageError{"an earlier mitra seed stopped half-way: start from an empty data directory (or database schema)"}
	default:
		if err := d.load(ctx); err != nil {
			return explain(err)
		}
		// The marker is written last: a run cut short is told apart from a
		// finished one.
		if _, err := a.db.Exec(ctx, `INSERT INTO app_settings (key, value, updated_at) VALUES (?, ?, ?)`, seedMarker, buildVersion(), time.Now()); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "Loaded the demo data set.")
	}
	fmt.Fprintf(stdout, "\nDemo logins (password %q; agents sign in with their agent code):\n\n", password)
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tSIGN IN WITH\tWHO")
	for _, l := range demoLogins {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", l.role, l.identifier, l.who)
	}
	return tw.Flush()
}

const (
	demoAdmin  = "admin@demo.mitra.example"
	seedMarker = "demo_seeded"
)

var demoLogins = []struct{ role, identifier, who string }{
	{"super_admin", demoAdmin, "Administrator"},
	{"provider_admin", "desk@lic.demo.mitra.example", "LIC head-office desk"},
	{"agent", "AG-100001", "Ravi Kumar, LIC agent, Pune (approved)"},
	{"agent", "AG-100002", "Priya Sharma, HDFC Life agent, Jaipur (approved)"},
	{"agent (verified)", "+919822010004", "Sneha Iyer (verified, awaiting approval: sign-in refused)"},
	{"agent (pending)", "+919822010003", "Arjun Mehta (application pending: sign-in refused)"},
	{"counselor", "counselor@demo.mitra.example", "Persona crisis counselor"},
	{"member", "member@demo.mitra.example", "Persona member"},
}

type demo struct {
	a        *app
	password string
	today    time.Time
}

func (d demo) as(ctx context.Context, userID string, role access.Role) context.Context {
	return access.WithPrincipal(ctx, access.Principal{UserID: userID, Role: role})
}

func (d demo) load(ctx context.Context) error {
	admin, err := d.a.auth.CreateAdmin(ctx, demoAdmin, d.password, "Demo Administrator", access.SuperAdmin)
	if err != nil {
		return fmt.Errorf("administrator: %w", err)
	}
	actx := d.as(ctx, admin.ID, access.SuperAdmin)
	ins := d.a.insurance

	providers := map[string]*insurance.Provider{}
	for _, in := range demoProviders() {
		p, err := ins.PutProvider(actx, "", in)
		if err != nil {
			return fmt.Errorf("provider %s: %w", in.Code, err)
		}
		providers[p.Code] = p
	}

	// Staff accounts: signed up as members, then given their role.
	staff := func(email, name string, role access.Role) (string, error) {
		if _, err := d.a.auth.Register(ctx, auth.RegisterInput{Email: email, Password: d.password, Name: name}, auth.Client{IP: "127.0.0.1", UserAgent: "mitra seed"}); err != nil {
			return "", fmt.Errorf("%s: %w", email, err)
		}
		var id string
		if err := d.a.db.QueryRow(ctx, `SELECT id FROM users WHERE email = ?`, email).Scan(&id); err != nil {
			return "", err
		}
		if role != access.Member {
			if _, err := d.a.auth.UpdateUser(actx, access.Principal{UserID: admin.ID, Role: access.SuperAdmin}, id, auth.UpdateUserInput{Role: &role}); err != nil {
				return "", fmt.Errorf("%s: %w", email, err)
			}
		}
		return id, nil
	}
	desk, err := staff("desk@lic.demo.mitra.example", "LIC Desk", access.ProviderAdmin)
	if err != nil {
		return err
	}
	if err := ins.SetProviderStaff(actx, providers["LIC"].ID, desk); err != nil {
		return err
	}
	if _, err := staff("counselor@demo.mitra.example", "Dr. Maya Hartono", access.Counselor); err != nil {
		return err
	}
	if _, err := staff("member@demo.mitra.example", "Rina Putri", access.Member); err != nil {
		return err
	}

	// Agents: two approved (with their books), one verified, one pending.
	type demoAgent struct {
		name, phone, email, licence, provider, city, code, status string
	}
	agents := []demoAgent{
		{"Ravi Kumar", "+919822010001", "ravi.kumar@demo.mitra.example", "LIC/PUN/2019/04411", "LIC", "Pune", "AG-100001", insurance.AgentApproved},
		{"Priya Sharma", "+919822010002", "priya.sharma@demo.mitra.example", "HDFC/JAI/2021/11872", "HDFCLIFE", "Jaipur", "AG-100002", insurance.AgentApproved},
		{"Arjun Mehta", "+919822010003", "", "SBI/AMD/2024/00917", "SBILIFE", "Ahmedabad", "", insurance.AgentPending},
		{"Sneha Iyer", "+919822010004", "", "LIC/CHE/2023/30550", "LIC", "Chennai", "", insurance.AgentVerified},
	}
	expiry := d.today.AddDate(3, 0, 0).Format("2006-01-02")
	for i, ag := range agents {
		app, err := ins.Apply(ctx, insurance.AgentApplication{Name: ag.name, Phone: ag.phone, Email: ag.email, Password: d.password,
			LicenceNumber: ag.licence, LicenceExpiry: expiry, ProviderID: providers[ag.provider].ID, City: ag.city})
		if err != nil {
			return fmt.Errorf("agent %s: %w", ag.name, err)
		}
		if ag.status == insurance.AgentPending {
			continue
		}
		if _, err := ins.Decide(actx, app.ID, "verify", insurance.DecisionInput{Reason: "licence checked against the IRDAI register"}); err != nil {
			return err
		}
		if ag.status == insurance.AgentVerified {
			continue
		}
		if _, err := ins.Decide(actx, app.ID, "approve", insurance.DecisionInput{AgentCode: ag.code}); err != nil {
			return err
		}
		if _, err := ins.UpdateAgent(d.as(ctx, app.ID, access.Agent), app.ID, insurance.AgentProfileInput{Bio: ptrTo(fmt.Sprintf("Helping families in %s plan their future since %d.", ag.city, 2012+i*5))}); err != nil {
			return err
		}
		commission := map[string]insurance.Commission{"endowment": {FirstYearBps: 2500, RenewalBps: 500}, "term": {FirstYearBps: 3000, RenewalBps: 500}}
		if _, err := ins.LinkProvider(actx, app.ID, providers[ag.provider].ID, insurance.LinkInput{Commission: commission}); err != nil {
			return err
		}
		if err := d.book(d.as(ctx, app.ID, access.Agent), i, providers[ag.provider]); err != nil {
			return fmt.Errorf("book of %s: %w", ag.name, err)
		}
		if err := d.presentations(d.as(ctx, app.ID, access.Agent), app.ID); err != nil {
			return fmt.Errorf("presentations of %s: %w", ag.name, err)
		}
	}
	return nil
}

func ptrTo[T any](v T) *T { return &v }

// book enters an agent's customers and policies, then moves some policies
// to every other status through the same transitions the API allows.
func (d demo) book(ctx context.Context, n int, p *insurance.Provider) error {
	ins := d.a.insurance
	names := [][2]string{{"Anil Deshpande", "1978-04-12"}, {"Sunita Deshpande", "1981-09-30"}, {"Mohammed Shaikh", "1975-01-05"},
		{"Kavita Joshi", "1990-07-21"}, {"Rajesh Patil", "1985-11-02"}, {"Meena Kulkarni", "1972-03-17"}, {"Vikram Singh", "1995-12-08"},
		{"Farah Khan", "1988-06-25"}}
	cities := []string{"Pune", "Jaipur"}
	var customers []*insurance.Customer
	for i, nm := range names {
		c, err := ins.CreateCustomer(ctx, insurance.CustomerInput{Name: nm[0], Phone: fmt.Sprintf("+9198%02d%06d", 30+n, 481000+i), DateOfBirth: nm[1],
			Email:           strings.ToLower(strings.ReplaceAll(nm[0], " ", ".")) + "@demo.mitra.example",
			Address:         insurance.Address{Line1: fmt.Sprintf("%d, Shanti Nagar", 10+i), City: cities[n%2], State: []string{"Maharashtra", "Rajasthan"}[n%2], Pincode: []string{"411001", "302001"}[n%2]},
			Nominees:        []insurance.Nominee{{Name: "Family member of " + nm[0], Relationship: "spouse", SharePercent: 100, DateOfBirth: "1980-01-01"}},
			WhatsAppConsent: i%3 != 2})
		if err != nil {
			return fmt.Errorf("customer %s: %w", nm[0], err)
		}
		customers = append(customers, c)
	}
	// One policy per (customer, shape); shapes chosen so each status is
	// reachable: recent ones in force, an old unpaid one lapsable, a long
	// finished one maturable.
	type shape struct {
		years, months, paid int
		status, reason      string
	}
	shapes := []shape{
		{1, 2, 0, insurance.StatusInForce, ""},
		{3, 0, 0, insurance.StatusInForce, ""},
		{4, 5, 1, insurance.StatusLapsed, "premium unpaid after the grace period"},
		{5, 0, 0, insurance.StatusPaidUp, "customer stopped paying; reduced paid-up value"},
		{6, 1, 0, insurance.StatusSurrendered, "surrendered for the surrender value"},
		{7, 3, 0, insurance.StatusClaimed, "death claim settled"},
		{14, 0, 0, insurance.StatusMatured, "maturity benefit paid"},
		{0, 8, 0, insurance.StatusInForce, ""},
	}
	var endow, term *insurance.Plan
	for i := range p.Plans {
		switch p.Plans[i].PlanType {
		case "endowment":
			if endow == nil {
				endow = &p.Plans[i]
			}
		case "term":
			if term == nil {
				term = &p.Plans[i]
			}
		}
	}
	for i, c := range customers {
		sh := shapes[i%len(shapes)]
		pl := endow
		if i%4 == 3 && sh.status == insurance.StatusInForce {
			pl = term
		}
		start := d.today.AddDate(-sh.years, -sh.months, 0)
		mode := pl.Modes[i%len(pl.Modes)]
		t, pt := pl.Terms[0], pl.PremiumTerms[0]
		if pt > t {
			pt = t
		}
		instalments := map[string]int{"yearly": 1, "half_yearly": 2, "quarterly": 4, "monthly": 12}[mode]
		paid := sh.paid
		if paid == 0 { // paid up to date
			paid = 0
			for due := start; !due.After(d.today) && paid < pt*instalments; due = start.AddDate(0, 12/instalments*paid, 0) {
				paid++
			}
			paid = min(paid, pt*instalments)
		}
		sum := max(pl.MinSumAssured, int64(500000)*100*int64(1+i%4))
		in := insurance.PolicyInput{PolicyNumber: fmt.Sprintf("%s%d%06d", strings.ToUpper(p.Code[:1]), n+1, 4821+i*37), ProviderID: p.ID, PlanID: pl.ID,
			CustomerID: c.ID, SumAssured: sum, Premium: sum / int64(t) / int64(instalments) * 11 / 10, PremiumMode: mode, Term: t, PremiumTerm: pt,
			CommencementDate: start.Format("2006-01-02"), PremiumsPaid: paid,
			Nominee: &insurance.PolicyNominee{Name: "Family member of " + c.Name, Relationship: "spouse", DateOfBirth: "1980-01-01"}}
		pol, err := ins.CreatePolicy(ctx, in)
		if err != nil {
			return fmt.Errorf("policy for %s: %w", c.Name, err)
		}
		if sh.status != insurance.StatusInForce {
			if _, err := ins.UpdatePolicyStatus(ctx, pol.ID, insurance.StatusInput{Status: sh.status, Reason: sh.reason}); err != nil {
				return fmt.Errorf("policy %s → %s: %w", pol.PolicyNumber, sh.status, err)
			}
		}
	}
	return nil
}

func demoProviders() []insurance.ProviderInput {
	all := []string{"yearly", "half_yearly", "quarterly", "monthly"}
	return []insurance.ProviderInput{
		{Code: "LIC", Name: "Life Insurance Corporation of India", IRDAIRegNo: "512", Website: "https://licindia.in", Plans: []insurance.PlanInput{
			{PlanNumber: "914", Name: "New Endowment Plan", PlanType: "endowment", Terms: []int{12, 15, 20, 25, 30, 35}, PremiumTerms: []int{12, 15, 20, 25, 30, 35},
				MinEntryAge: 8, MaxEntryAge: 50, MinSumAssured: 100000 * 100, Modes: all},
			{PlanNumber: "936", Name: "Jeevan Labh", PlanType: "endowment", Terms: []int{16, 21, 25}, PremiumTerms: []int{10, 15, 16},
				MinEntryAge: 8, MaxEntryAge: 59, MinSumAssured: 200000 * 100, Modes: all},
			{PlanNumber: "954", Name: "New Tech-Term", PlanType: "term", Terms: []int{10, 15, 20, 25, 30, 35, 40}, PremiumTerms: []int{10, 15, 20, 25, 30, 35, 40},
				MinEntryAge: 18, MaxEntryAge: 65, MinSumAssured: 5000000 * 100, Modes: []string{"yearly", "half_yearly"}},
		}},
		{Code: "HDFCLIFE", Name: "HDFC Life Insurance", IRDAIRegNo: "101", Website: "https://www.hdfclife.com", Plans: []insurance.PlanInput{
			{PlanNumber: "C2PS", Name: "Click 2 Protect Super", PlanType: "term", Terms: []int{10, 20, 30, 40}, PremiumTerms: []int{5, 10, 20, 30, 40},
				MinEntryAge: 18, MaxEntryAge: 65, MinSumAssured: 5000000 * 100, Modes: []string{"yearly", "half_yearly", "monthly"}},
			{PlanNumber: "SPLUS", Name: "Sanchay Plus", PlanType: "endowment", Terms: []int{12, 15, 20}, PremiumTerms: []int{10, 12},
				MinEntryAge: 5, MaxEntryAge: 60, MinSumAssured: 300000 * 100, Modes: all},
		}},
		{Code: "SBILIFE", Name: "SBI Life Insurance", IRDAIRegNo: "111", Website: "https://www.sbilife.co.in", Plans: []insurance.PlanInput{
			{PlanNumber: "SPA", Name: "Smart Platina Assure", PlanType: "endowment", Terms: []int{12, 15}, PremiumTerms: []int{6, 7},
				MinEntryAge: 3, MaxEntryAge: 50, MinSumAssured: 200000 * 100, Modes: []string{"yearly", "monthly"}},
			{PlanNumber: "ESN", Name: "eShield Next", PlanType: "term", Terms: []int{5, 10, 20, 30}, PremiumTerms: []int{5, 10, 20, 30},
				MinEntryAge: 18, MaxEntryAge: 65, MinSumAssured: 5000000 * 100, Modes: []string{"yearly", "monthly"}},
		}},
	}
}

// presentations gives an agent one presentation per template, the first
// one active (what the agent's home page shows).
func (d demo) presentations(ctx context.Context, agentID string) error {
	if d.a.presentations == nil {
		return nil // the agent product is off
	}
	templates, err := d.a.presentations.Templates(ctx)
	if err != nil {
		return err
	}
	if len(templates) == 0 {
		return errors.New("seed: no presentation templates")
	}
	for i, t := range templates {
		p, err := d.a.presentations.Create(ctx, presentation.CreateInput{TemplateID: t.ID})
		if err != nil {
			return err
		}
		if i == 0 {
			if _, err := d.a.presentations.Activate(ctx, p.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
