// Command bookbench measures an agent's book at scale on the real mitra
// binary: GET /api/v1/policies/{id} and the due list (a filtered
// GET /api/v1/policies) for agents holding 5,000 policies each among
// 1,000,000 in the database, on SQLite and, with -postgres, PostgreSQL. It
// prints the query plans of both requests' SQL on the loaded data.
//
// The data set is written straight into the database (providers through
// the API, then agents, customers and policies in bulk: COPY on
// PostgreSQL, one prepared statement on SQLite) and analysed; agents sign
// in through the API. Requests go round-robin over the agents (each
// agent's own limit is 10 requests/s, like a phone's).
//
//	go run ./bench/cmd/bookbench [-postgres URL] [-policies 1000000] [-agents 200] [-duration 10s] [-rates 500,1000]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"mitra/bench/load"
	"mitra/bench/proc"
	"mitra/internal/auth"
	"mitra/internal/insurance"
	"mitra/internal/platform/database"
	"mitra/internal/platform/ids"
	"mitra/internal/platform/vault"
)

type options struct {
	postgres string
	policies int
	agents   int
	duration time.Duration
	warmup   time.Duration
	rates    []float64
	plans    bool
}

func main() {
	o := options{}
	var rates string
	flag.StringVar(&o.postgres, "postgres", os.Getenv("MITRA_TEST_DATABASE_URL"), "PostgreSQL URL (empty: SQLite only)")
	flag.IntVar(&o.policies, "policies", 1_000_000, "policies in the database")
	flag.IntVar(&o.agents, "agents", 200, "agents (each holds policies/agents)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per run")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up per run")
	flag.StringVar(&rates, "rates", "500,1000", "fixed request rates")
	flag.BoolVar(&o.plans, "plans", true, "print the query plans")
	flag.Parse()
	for _, r := range strings.Split(rates, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(r), 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad -rates:", err)
			os.Exit(2)
		}
		o.rates = append(o.rates, v)
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "bookbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "bookbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := proc.Build(dir)
	if err != nil {
		return err
	}
	fmt.Printf("machine: %d CPUs; date %s; %d policies, %d agents × %d policies, %d customers each\n\n",
		proc.NumCPU(), time.Now().UTC().Format(time.RFC3339), o.policies, o.agents, o.policies/o.agents, o.policies/o.agents/5)
	dbs := []string{"sqlite"}
	if o.postgres != "" {
		dbs = append(dbs, "postgres")
	}
	var plans []string
	fmt.Println("| database | request | load | req/s | p50 ms | p90 ms | p99 ms | errors | server CPU µs/req |")
	fmt.Println("|---|---|---|--:|--:|--:|--:|--:|--:|")
	for _, db := range dbs {
		env := []string{"MITRA_DATA_DIR=" + filepath.Join(dir, db), "MITRA_LOG_LEVEL=warn", "MITRA_LOG_FORMAT=json", "MITRA_PRODUCTS=agent",
			"MITRA_ENCRYPTION_KEYS=" + vault.NewKeySpec("b1"), "MITRA_TRUSTED_PROXIES=127.0.0.1/32", "MITRA_REDIS_URL=", "MITRA_DATABASE_URL="}
		dbo := database.Options{SQLitePath: filepath.Join(dir, db, "mitra.db")}
		if db == "postgres" {
			schema := fmt.Sprintf("bookbench_%d", time.Now().UnixNano())
			env = append(env, "MITRA_DATABASE_URL="+o.postgres, "MITRA_DATABASE_SCHEMA="+schema)
			dbo = database.Options{URL: o.postgres, Schema: schema}
			defer proc.DropSchema(o.postgres, schema)
		}
		p, err := benchDB(ctx, o, bin, db, env, dbo)
		if err != nil {
			return fmt.Errorf("%s: %w", db, err)
		}
		plans = append(plans, p...)
	}
	if o.plans {
		fmt.Println()
		for _, p := range plans {
			fmt.Println(p)
		}
	}
	return nil
}

const adminEmail, adminPassword = "bench-admin@example.com", "correct horse battery staple"

func benchDB(ctx context.Context, o options, bin, db string, env []string, dbo database.Options) ([]string, error) {
	cmd := exec.Command(bin, "admin", "create", "--email", adminEmail, "--password", adminPassword)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("admin create: %v: %s", err, out)
	}
	s, err := proc.Start(bin, env...)
	if err != nil {
		return nil, err
	}
	defer s.Stop()
	adminTok, err := login(s.Base, adminEmail, adminPassword)
	if err != nil {
		return nil, err
	}
	providers, err := createProviders(s.Base, adminTok)
	if err != nil {
		return nil, err
	}
	// The bulk load runs with the server stopped: one long write
	// transaction would hold SQLite's writer from the server's job queue.
	s.Stop()
	d, err := database.Open(ctx, dbo)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	t0 := time.Now()
	book, err := loadBook(ctx, d, o, providers)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	fmt.Fprintf(os.Stderr, "%s: loaded %d policies in %s\n", db, o.policies, time.Since(t0).Round(time.Second))
	if s, err = proc.Start(bin, env...); err != nil {
		return nil, err
	}
	defer s.Stop()
	tokens := make([]string, len(book.agents))
	for i, a := range book.agents {
		if tokens[i], err = login(s.Base, a.code, proc.Password); err != nil {
			return nil, err
		}
	}
	row := func(scenario, loadDesc string, r load.Result, cpu time.Duration) {
		per := "-"
		if r.Total > 0 {
			per = fmt.Sprintf("%.0f", float64(cpu.Microseconds())/float64(r.Total))
		}
		fmt.Printf("| %s | %s | %s | %.0f | %.3f | %.3f | %.3f | %d | %s |\n", db, scenario, loadDesc, r.Achieved,
			proc.Ms(r.P50), proc.Ms(r.P90), proc.Ms(r.P99), r.Errors(), per)
	}
	var next atomic.Uint64
	pick := func() (int, *rand.Rand) {
		n := next.Add(1)
		return int(n % uint64(len(tokens))), rand.New(rand.NewPCG(n, 7))
	}
	get := func() *http.Request {
		i, r := pick()
		ids := book.agents[i].policies
		req, _ := http.NewRequest(http.MethodGet, s.Base+"/api/v1/policies/"+ids[r.IntN(len(ids))], nil)
		req.Header.Set("Authorization", "Bearer "+tokens[i])
		return req
	}
	today := time.Now().UTC().Format("2006-01-02")
	in30 := time.Now().UTC().AddDate(0, 0, 30).Format("2006-01-02")
	dueList := "/api/v1/policies?status=in_force&due_from=" + today + "&due_to=" + in30 + "&limit=20"
	list := func() *http.Request {
		i, _ := pick()
		req, _ := http.NewRequest(http.MethodGet, s.Base+dueList, nil)
		req.Header.Set("Authorization", "Bearer "+tokens[i])
		return req
	}
	// Check both answer 200 with data before measuring.
	for _, mk := range []func() *http.Request{get, list} {
		resp, err := http.DefaultClient.Do(mk())
		if err != nil {
			return nil, err
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("probe: %d %v", resp.StatusCode, body)
		}
		if ps, ok := body["policies"].([]any); ok && len(ps) == 0 {
			return nil, errors.New("probe: the due list is empty")
		}
	}
	for _, rate := range o.rates {
		for _, sc := range []struct {
			name string
			req  func() *http.Request
		}{{"GET /api/v1/policies/{id}", get}, {"GET /api/v1/policies (due in 30 days, in force, 20)", list}} {
			c0 := s.CPU()
			r, err := load.Fixed{Rate: rate, Duration: o.duration, Warmup: o.warmup, NewRequest: sc.req, MaxInFlight: 64}.Run(ctx)
			if err != nil {
				return nil, err
			}
			row(sc.name, fmt.Sprintf("%.0f/s", rate), r, s.CPU()-c0)
		}
	}
	return explain(ctx, d, db, book.agents[0].id, book.agents[0].policies[0], today, in30)
}

func login(base, identifier, password string) (string, error) {
	var out struct {
		AccessToken string `json:"access_token"`
	}
	err := proc.PostJSON(base+"/api/v1/auth/login", map[string]string{"identifier": identifier, "password": password}, &out)
	return out.AccessToken, err
}

type plan struct {
	providerID, planID string
	terms, pterms      []int
	modes              []string
}

// createProviders enters three providers' plan masters through the API.
func createProviders(base, token string) ([]plan, error) {
	var out []plan
	for _, code := range []string{"LIC", "HDFCLIFE", "SBILIFE"} {
		body := map[string]any{"code": code, "name": code + " (bench)", "plans": []map[string]any{
			{"plan_number": "914", "name": "Endowment", "plan_type": "endowment", "terms": []int{12, 15, 20, 25}, "premium_terms": []int{12, 15, 20, 25},
				"min_entry_age": 8, "max_entry_age": 55, "min_sum_assured": 10000000, "modes": insurance.Modes},
			{"plan_number": "954", "name": "Term", "plan_type": "term", "terms": []int{20, 30}, "premium_terms": []int{10, 20, 30},
				"min_entry_age": 18, "max_entry_age": 60, "min_sum_assured": 50000000, "modes": []string{"yearly", "monthly"}},
		}}
		var p insurance.Provider
		if err := postAuth(base+"/api/v1/providers", token, body, &p); err != nil {
			return nil, err
		}
		for _, pl := range p.Plans {
			out = append(out, plan{providerID: p.ID, planID: pl.ID, terms: pl.Terms, pterms: pl.PremiumTerms, modes: pl.Modes})
		}
	}
	return out, nil
}

func postAuth(url, token string, body, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var p map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&p)
		return fmt.Errorf("POST %s: %d %v", url, resp.StatusCode, p)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

type benchAgent struct {
	id, code string
	policies []string
}

type book struct{ agents []benchAgent }

var statuses = []struct {
	name   string
	weight int
}{{"in_force", 70}, {"lapsed", 10}, {"paid_up", 5}, {"matured", 8}, {"surrendered", 4}, {"claimed", 3}}

func pickStatus(r *rand.Rand) string {
	n := r.IntN(100)
	for _, s := range statuses {
		if n < s.weight {
			return s.name
		}
		n -= s.weight
	}
	return "in_force"
}

// loadBook writes agents (who can sign in with proc.Password), customers
// and policies.
func loadBook(ctx context.Context, d *database.DB, o options, plans []plan) (*book, error) {
	hash := auth.HashPassword(proc.Password, auth.DefaultPasswordParams)
	now := time.Now().UTC()
	r := rand.New(rand.NewPCG(1, 2))
	b := &book{}
	per := o.policies / o.agents
	perCustomer := 5
	err := d.InTx(ctx, func(tx *database.Tx) error {
		w := &writer{tx: tx}
		seq := 0
		for a := range o.agents {
			ag := benchAgent{id: ids.New(), code: fmt.Sprintf("BK-%05d", a)}
			if err := w.row(ctx, "users", []string{"id", "agent_code", "name", "password_hash", "role", "status", "created_at", "updated_at"},
				ag.id, ag.code, fmt.Sprintf("Bench agent %d", a), hash, "agent", "active", now, now); err != nil {
				return err
			}
			if err := w.flush(ctx); err != nil { // agents before the rows that reference them (COPY batches per table)
				return err
			}
			pl := plans[a%len(plans)]
			if err := w.row(ctx, "agents", []string{"user_id", "provider_id", "licence_number", "licence_expiry", "status", "created_at", "updated_at"},
				ag.id, pl.providerID, fmt.Sprintf("BENCH/%06d", a), "2030-12-31", "approved", now, now); err != nil {
				return err
			}
			if err := w.flush(ctx); err != nil {
				return err
			}
			var customers []string
			for c := 0; c < per/perCustomer; c++ {
				id := ids.New()
				customers = append(customers, id)
				name := fmt.Sprintf("Customer %d-%d", a, c)
				dob := time.Date(1960+r.IntN(40), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC).Format("2006-01-02")
				if err := w.row(ctx, "customers", []string{"id", "agent_id", "name", "name_key", "phone", "date_of_birth", "created_at", "updated_at"},
					id, ag.id, name, strings.ToLower(name), fmt.Sprintf("+9198%08d", seq/perCustomer), dob, now, now); err != nil {
					return err
				}
			}
			if err := w.flush(ctx); err != nil {
				return err
			}
			for i := 0; i < per; i++ {
				seq++
				p := plans[r.IntN(len(plans))]
				mode := p.modes[r.IntN(len(p.modes))]
				term := p.terms[r.IntN(len(p.terms))]
				pterm := min(term, p.pterms[r.IntN(len(p.pterms))])
				start := now.AddDate(-r.IntN(term), -r.IntN(12), -r.IntN(28))
				status := pickStatus(r)
				months := map[string]int{"yearly": 12, "half_yearly": 6, "quarterly": 3, "monthly": 1}[mode]
				due := start
				paid := 0
				for !due.After(now) {
					due = due.AddDate(0, months, 0)
					paid++
				}
				if r.IntN(3) == 0 { // a third are due within the next months
					due = now.AddDate(0, 0, r.IntN(60))
				}
				grace := due.AddDate(0, 0, 30)
				if mode == "monthly" {
					grace = due.AddDate(0, 0, 15)
				}
				nextDue, graceEnd := due.Format("2006-01-02"), grace.Format("2006-01-02")
				if status != "in_force" && status != "lapsed" {
					nextDue, graceEnd = "9999-12-31", "9999-12-31"
				}
				id := ids.New()
				ag.policies = append(ag.policies, id)
				if err := w.row(ctx, "policies", []string{"id", "agent_id", "provider_id", "plan_id", "customer_id", "policy_number", "sum_assured", "premium",
					"premium_mode", "term_years", "premium_term_years", "commencement_date", "maturity_date", "premiums_paid", "next_due_date", "grace_end_date",
					"status", "status_changed_at", "created_at", "updated_at"},
					id, ag.id, p.providerID, p.planID, customers[i/perCustomer], fmt.Sprintf("%09d", seq), int64(100000+r.IntN(90))*100000, int64(1000+r.IntN(5000))*100,
					mode, term, pterm, start.Format("2006-01-02"), start.AddDate(term, 0, 0).Format("2006-01-02"), paid, nextDue, graceEnd,
					status, now, now.Add(-time.Duration(r.IntN(1e6))*time.Second), now); err != nil {
					return err
				}
			}
			if err := w.flush(ctx); err != nil {
				return err
			}
			b.agents = append(b.agents, ag)
		}
		return w.flush(ctx)
	})
	if err != nil {
		return nil, err
	}
	_, err = d.Exec(ctx, "ANALYZE")
	return b, err
}

// writer inserts rows in one transaction: buffered COPY on PostgreSQL, a
// prepared INSERT per table on SQLite.
type writer struct {
	tx    *database.Tx
	table string
	cols  []string
	rows  [][]any
}

func (w *writer) row(ctx context.Context, table string, cols []string, vals ...any) error {
	if w.table != table {
		if err := w.flush(ctx); err != nil {
			return err
		}
		w.table, w.cols = table, cols
	}
	w.rows = append(w.rows, vals)
	if len(w.rows) >= 10000 {
		return w.flush(ctx)
	}
	return nil
}

func (w *writer) flush(ctx context.Context) error {
	if len(w.rows) == 0 {
		return nil
	}
	defer func() { w.rows = w.rows[:0] }()
	if pg := w.tx.PgxTx(); pg != nil {
		_, err := pg.CopyFrom(ctx, pgx.Identifier{w.table}, w.cols, pgx.CopyFromRows(w.rows))
		return err
	}
	q := "INSERT INTO " + w.table + " (" + strings.Join(w.cols, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(w.cols)-1) + ")"
	for _, r := range w.rows {
		if _, err := w.tx.Exec(ctx, q, r...); err != nil {
			return err
		}
	}
	return nil
}

// explain prints the plans of the two requests' queries, as the service
// builds them, on the loaded data.
func explain(ctx context.Context, d *database.DB, db, agentID, policyID, from, to string) ([]string, error) {
	var out []string
	for _, q := range insurance.BenchQueries(agentID, policyID, from, to) {
		prefix := "EXPLAIN QUERY PLAN "
		if db == "postgres" {
			prefix = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "
		}
		rows, err := d.Query(ctx, prefix+q.SQL, q.Args...)
		if err != nil {
			return nil, fmt.Errorf("explain %s: %w", q.Name, err)
		}
		var lines []string
		for rows.Next() {
			var line string
			var id, parent, unused int
			dest := []any{&line}
			if db == "sqlite" {
				dest = []any{&id, &parent, &unused, &line}
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return nil, err
			}
			lines = append(lines, line)
		}
		rows.Close()
		out = append(out, fmt.Sprintf("%s plan, %s:\n```\n%s\n```", db, q.Name, strings.Join(lines, "\n")))
	}
	return out, nil
}
