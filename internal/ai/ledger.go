package ai

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/database"
	"mitra/internal/platform/ids"
)

// Outcomes recorded in the ledger.
const (
	OutcomeOK                 = "ok"
	OutcomeClientDisconnected = "client_disconnected"
	OutcomeMidStreamError     = "mid_stream_error"
	OutcomeUpstreamError      = "upstream_error"
	OutcomeRefused            = "refused"
	OutcomeBadRequest         = "bad_request"
	OutcomeQuotaExhausted     = "quota_exhausted"
	OutcomeTimeout            = "timeout"
	OutcomeUnavailable        = "unavailable"
)

// Record is one ledger row.
type Record struct {
	ID               string    `json:"id"`
	UserID           string    `json:"user_id"`
	Model            string    `json:"model"`
	Endpoint         string    `json:"endpoint"`
	Stream           bool      `json:"stream"`
	PromptTokens     int       `json:"prompt_tokens"`
	CompletionTokens int       `json:"completion_tokens"`
	TotalTokens      int       `json:"total_tokens"`
	Estimated        bool      `json:"estimated" doc:"Token counts estimated (the upstream did not report them, e.g. the client left)"`
	CostUSD          *float64  `json:"cost_usd,omitempty"`
	LatencyMS        int64     `json:"latency_ms"`
	TTFBMS           *int64    `json:"ttfb_ms,omitempty"`
	Attempts         int       `json:"attempts"`
	Outcome          string    `json:"outcome"`
	RequestID        string    `json:"request_id"`
	CreatedAt        time.Time `json:"created_at"`
}

func periods(t time.Time) (day, month string) {
	t = t.UTC()
	return "d" + t.Format("2006-01-02"), "m" + t.Format("2006-01")
}

// ledger writes usage records off the response path: calls hand their
// record to a writer goroutine, which writes what has gathered (up to 256
// records, or every 20 ms) in one transaction, the ledger rows and the
// per-user counters together. On SQLite's single writer that is the
// difference between one transaction per call and one per batch. Close
// writes whatever is pending; a crash loses at most the last batch.
type ledger struct {
	g     *Gateway
	ch    chan Record
	flush chan chan struct{}
	done  chan struct{}
	once  sync.Once

	mu     sync.RWMutex // guards closed against sends on a closed channel
	closed bool
}

const (
	ledgerBatch    = 256
	ledgerInterval = 20 * time.Millisecond
)

func newLedger(g *Gateway) *ledger {
	l := &ledger{g: g, ch: make(chan Record, 4096), flush: make(chan chan struct{}), done: make(chan struct{})}
	go l.run()
	return l
}

func (l *ledger) run() {
	defer close(l.done)
	t := time.NewTicker(ledgerInterval)
	defer t.Stop()
	var batch []Record
	write := func() {
		if len(batch) > 0 {
			l.g.write(batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case r, ok := <-l.ch:
			if !ok {
				write()
				return
			}
			batch = append(batch, r)
			if len(batch) >= ledgerBatch {
				write()
			}
		case <-t.C:
			write()
		case ack := <-l.flush:
			for drained := false; !drained; {
				select {
				case r, ok := <-l.ch:
					if !ok {
						drained = true
						break
					}
					batch = append(batch, r)
				default:
					drained = true
				}
			}
			write()
			close(ack)
		}
	}
}

// record queues a ledger row; when the queue is full the caller writes it
// itself (back-pressure rather than loss).
func (g *Gateway) record(_ context.Context, r Record) {
	r.ID = ids.New()
	if r.CreatedAt.IsZero() {
		r.CreatedAt = g.now()
	}
	l := g.ledger
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed { // a call that outlived shutdown
		g.write([]Record{r})
		return
	}
	select {
	case l.ch <- r:
	default:
		g.write([]Record{r})
	}
}

// Flush writes every queued record before returning.
func (g *Gateway) Flush() {
	ack := make(chan struct{})
	select {
	case g.ledger.flush <- ack:
		<-ack
	case <-g.ledger.done:
	}
}

// Close writes the pending records and stops the writer.
func (g *Gateway) Close() {
	l := g.ledger
	l.once.Do(func() {
		l.mu.Lock()
		l.closed = true
		close(l.ch)
		l.mu.Unlock()
	})
	<-l.done
}

// write stores records and adds their tokens to the users' counters, in
// one transaction.
func (g *Gateway) write(batch []Record) {
	sums := map[counterKey][2]int64{}
	for _, r := range batch {
		day, month := periods(r.CreatedAt)
		for _, p := range []string{day, month} {
			k := counterKey{r.UserID, p}
			v := sums[k]
			v[0] += int64(r.TotalTokens)
			v[1]++
			sums[k] = v
		}
	}
	ctx := context.Background()
	var err error
	for try := 0; try < 2; try++ { // one retry: a busy database is worth a second go
		if err = g.writeOnce(ctx, batch, sums); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		g.log.Error("ai usage not recorded", "records", len(batch), "err", err)
		return
	}
	// Keep cached quota readings exact for this node's own calls.
	for k, v := range sums {
		g.quotas.add(k.user, k.period, v[0])
	}
}

type counterKey struct{ user, period string }

func (g *Gateway) writeOnce(ctx context.Context, batch []Record, sums map[counterKey][2]int64) error {
	return g.db.InTx(ctx, func(tx *database.Tx) error {
		for _, r := range batch {
			var cost *int64
			if r.CostUSD != nil {
				c := int64(math.Round(*r.CostUSD * 1e6))
				cost = &c
			}
			if _, err := tx.Exec(ctx, `INSERT INTO ai_usage (id, user_id, model, endpoint, stream, prompt_tokens, completion_tokens, total_tokens, estimated, cost_micros, latency_ms, ttfb_ms, attempts, outcome, request_id, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				r.ID, r.UserID, r.Model, r.Endpoint, r.Stream, r.PromptTokens, r.CompletionTokens, r.TotalTokens, r.Estimated, cost, r.LatencyMS, r.TTFBMS, r.Attempts, r.Outcome, r.RequestID, r.CreatedAt); err != nil {
				return err
			}
		}
		for k, v := range sums {
			if _, err := tx.Exec(ctx, `INSERT INTO ai_usage_counters (user_id, period, tokens, requests) VALUES (?, ?, ?, ?)
				ON CONFLICT (user_id, period) DO UPDATE SET tokens = ai_usage_counters.tokens + excluded.tokens, requests = ai_usage_counters.requests + excluded.requests`,
				k.user, k.period, v[0], v[1]); err != nil {
				return err
			}
		}
		return nil
	})
}

// RoleLimits are the AI limits of one role. Zero means unlimited.
type RoleLimits struct {
	RequestsPerMinute int
	DailyTokens       int64
	MonthlyTokens     int64
}

// DefaultLimits are the limits per role when none are configured.
var DefaultLimits = map[access.Role]RoleLimits{
	access.Member:        {RequestsPerMinute: 20, DailyTokens: 200_000, MonthlyTokens: 3_000_000},
	access.Customer:      {RequestsPerMinute: 10, DailyTokens: 50_000, MonthlyTokens: 500_000},
	access.Agent:         {RequestsPerMinute: 30, DailyTokens: 300_000, MonthlyTokens: 5_000_000},
	access.Counselor:     {RequestsPerMinute: 60, DailyTokens: 500_000, MonthlyTokens: 10_000_000},
	access.ProviderAdmin: {RequestsPerMinute: 30, DailyTokens: 300_000, MonthlyTokens: 5_000_000},
	access.Admin:         {RequestsPerMinute: 120},
	access.SuperAdmin:    {RequestsPerMinute: 120},
}

// Quota is what remains of a caller's token allowances before a call
// (-1: unlimited).
type Quota struct {
	DailyRemaining   int64
	MonthlyRemaining int64
}

// remaining is the smaller allowance left, or -1 when unlimited.
func (q Quota) remaining() int64 {
	switch {
	case q.DailyRemaining < 0:
		return q.MonthlyRemaining
	case q.MonthlyRemaining < 0:
		return q.DailyRemaining
	}
	return min(q.DailyRemaining, q.MonthlyRemaining)
}

// checkQuota refuses the call when a token allowance is used up.
func (g *Gateway) checkQuota(ctx context.Context, p access.Principal, lim RoleLimits) (Quota, error) {
	q := Quota{DailyRemaining: -1, MonthlyRemaining: -1}
	if lim.DailyTokens == 0 && lim.MonthlyTokens == 0 {
		return q, nil
	}
	now := g.now()
	day, month := periods(now)
	used, ok := g.quotas.get(p.UserID, day, month, now)
	if !ok {
		var err error
		if used, err = g.readCounters(ctx, p.UserID, day, month); err != nil {
			return q, err
		}
		g.quotas.set(p.UserID, day, month, used, now)
	}
	if lim.DailyTokens > 0 {
		q.DailyRemaining = max(0, lim.DailyTokens-used[day])
	}
	if lim.MonthlyTokens > 0 {
		q.MonthlyRemaining = max(0, lim.MonthlyTokens-used[month])
	}
	u := now.UTC()
	switch {
	case q.DailyRemaining == 0:
		next := time.Date(u.Year(), u.Month(), u.Day()+1, 0, 0, 0, 0, time.UTC)
		return q, &apperr.Error{Code: CodeTokenQuota, Status: 429, Message: "your daily AI allowance is used up; it renews at midnight UTC", RetryAfter: next.Sub(u)}
	case q.MonthlyRemaining == 0:
		next := time.Date(u.Year(), u.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		return q, &apperr.Error{Code: CodeTokenQuota, Status: 429, Message: "your monthly AI allowance is used up", RetryAfter: next.Sub(u)}
	}
	return q, nil
}

func (g *Gateway) readCounters(ctx context.Context, userID, day, month string) (map[string]int64, error) {
	rows, err := g.db.Query(ctx, `SELECT period, tokens FROM ai_usage_counters WHERE user_id = ? AND period IN (?, ?)`, userID, day, month)
	if err != nil {
		return nil, fmt.Errorf("ai: quota: %w", err)
	}
	defer rows.Close()
	used := map[string]int64{day: 0, month: 0}
	for rows.Next() {
		var period string
		var n int64
		if err := rows.Scan(&period, &n); err != nil {
			return nil, fmt.Errorf("ai: quota: %w", err)
		}
		used[period] = n
	}
	return used, rows.Err()
}

// quotaCache keeps each user's counters for a few seconds, so a quota
// check does not read the database on every call. This node's own usage
// is added as it is written; other nodes' usage is seen after quotaTTL.
type quotaCache struct {
	mu sync.Mutex
	m  map[string]*quotaEntry
}

type quotaEntry struct {
	used map[string]int64
	at   time.Time
}

const quotaTTL = 2 * time.Second

func (c *quotaCache) get(user, day, month string, now time.Time) (map[string]int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[user]
	if !ok || now.Sub(e.at) > quotaTTL {
		return nil, false
	}
	if _, ok := e.used[day]; !ok {
		return nil, false
	}
	if _, ok := e.used[month]; !ok {
		return nil, false
	}
	return map[string]int64{day: e.used[day], month: e.used[month]}, true
}

func (c *quotaCache) set(user, day, month string, used map[string]int64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 100_000 {
		c.m = map[string]*quotaEntry{}
	}
	c.m[user] = &quotaEntry{used: map[string]int64{day: used[day], month: used[month]}, at: now}
}

func (c *quotaCache) add(user, period string, tokens int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[user]; ok {
		if _, ok := e.used[period]; ok {
			e.used[period] += tokens
		}
	}
}

// UsageTotals sums usage over a period.
type UsageTotals struct {
	Requests         int64    `json:"requests"`
	PromptTokens     int64    `json:"prompt_tokens"`
	CompletionTokens int64    `json:"completion_tokens"`
	TotalTokens      int64    `json:"total_tokens"`
	CostUSD          *float64 `json:"cost_usd,omitempty"`
}

// MyUsage is a user's own totals and recent calls.
type MyUsage struct {
	Today  UsageTotals `json:"today"`
	Month  UsageTotals `json:"month"`
	Quota  QuotaView   `json:"quota"`
	Recent []Record    `json:"recent"`
}

// QuotaView shows allowances (null: unlimited).
type QuotaView struct {
	DailyTokens      *int64 `json:"daily_tokens"`
	DailyRemaining   *int64 `json:"daily_remaining"`
	MonthlyTokens    *int64 `json:"monthly_tokens"`
	MonthlyRemaining *int64 `json:"monthly_remaining"`
	RequestsPerMin   int    `json:"requests_per_minute"`
}

const recordColumns = `id, user_id, model, endpoint, stream, prompt_tokens, completion_tokens, total_tokens, estimated, cost_micros, latency_ms, ttfb_ms, attempts, outcome, request_id, created_at`

func scanRecord(s interface{ Scan(...any) error }) (Record, error) {
	var r Record
	var cost *int64
	err := s.Scan(&r.ID, &r.UserID, &r.Model, &r.Endpoint, &r.Stream, &r.PromptTokens, &r.CompletionTokens, &r.TotalTokens, &r.Estimated, &cost, &r.LatencyMS, &r.TTFBMS, &r.Attempts, &r.Outcome, &r.RequestID, &r.CreatedAt)
	if cost != nil {
		c := float64(*cost) / 1e6
		r.CostUSD = &c
	}
	return r, err
}

func (g *Gateway) totals(ctx context.Context, userID string, from time.Time) (UsageTotals, error) {
	var t UsageTotals
	var cost *int64
	err := g.db.QueryRow(ctx, `SELECT count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0), coalesce(sum(total_tokens), 0), sum(cost_micros)
		FROM ai_usage WHERE user_id = ? AND created_at >= ?`, userID, from).Scan(&t.Requests, &t.PromptTokens, &t.CompletionTokens, &t.TotalTokens, &cost)
	if cost != nil {
		c := float64(*cost) / 1e6
		t.CostUSD = &c
	}
	return t, err
}

// Usage returns the caller's totals, allowances and latest 50 calls.
func (g *Gateway) Usage(ctx context.Context, p access.Principal) (*MyUsage, error) {
	now := g.now().UTC()
	out := &MyUsage{Recent: []Record{}}
	var err error
	if out.Today, err = g.totals(ctx, p.UserID, time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)); err != nil {
		return nil, fmt.Errorf("ai: usage: %w", err)
	}
	if out.Month, err = g.totals(ctx, p.UserID, time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)); err != nil {
		return nil, fmt.Errorf("ai: usage: %w", err)
	}
	lim := g.limitsFor(p.Role)
	out.Quota.RequestsPerMin = lim.RequestsPerMinute
	if lim.DailyTokens > 0 {
		out.Quota.DailyTokens = &lim.DailyTokens
		r := max(0, lim.DailyTokens-out.Today.TotalTokens)
		out.Quota.DailyRemaining = &r
	}
	if lim.MonthlyTokens > 0 {
		out.Quota.MonthlyTokens = &lim.MonthlyTokens
		r := max(0, lim.MonthlyTokens-out.Month.TotalTokens)
		out.Quota.MonthlyRemaining = &r
	}
	rows, err := g.db.Query(ctx, `SELECT `+recordColumns+` FROM ai_usage WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT 50`, p.UserID)
	if err != nil {
		return nil, fmt.Errorf("ai: usage: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("ai: usage: %w", err)
		}
		out.Recent = append(out.Recent, r)
	}
	return out, rows.Err()
}

// SummaryRow is one group of the administrators' summary.
type SummaryRow struct {
	Key string `json:"key" doc:"The user id, model or day (YYYY-MM-DD)"`
	UsageTotals
}

// Summary groups usage between from and to by "user", "model" or "day".
func (g *Gateway) Summary(ctx context.Context, by string, from, to time.Time, limit int) ([]SummaryRow, error) {
	var key string
	switch by {
	case "user":
		key = "user_id"
	case "model":
		key = "model"
	case "day":
		if g.db.Dialect() == database.Postgres {
			key = "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
		} else {
			key = "substr(created_at, 1, 10)"
		}
	default:
		return nil, apperr.Field("query.by", "must be user, model or day")
	}
	if to.IsZero() {
		to = g.now().Add(time.Minute)
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -30)
	}
	if !from.Before(to) {
		return nil, apperr.Field("query.from", "must be before to")
	}
	rows, err := g.db.Query(ctx, fmt.Sprintf(`SELECT %s AS k, count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0), coalesce(sum(total_tokens), 0), sum(cost_micros)
		FROM ai_usage WHERE created_at >= ? AND created_at < ? GROUP BY k ORDER BY 5 DESC, k LIMIT %d`, key, max(1, min(limit, 1000))), from, to)
	if err != nil {
		return nil, fmt.Errorf("ai: summary: %w", err)
	}
	defer rows.Close()
	out := []SummaryRow{}
	for rows.Next() {
		var r SummaryRow
		var cost *int64
		if err := rows.Scan(&r.Key, &r.Requests, &r.PromptTokens, &r.CompletionTokens, &r.TotalTokens, &cost); err != nil {
			return nil, fmt.Errorf("ai: summary: %w", err)
		}
		if cost != nil {
			c := float64(*cost) / 1e6
			r.CostUSD = &c
		}
		r.Key = strings.TrimSpace(r.Key)
		out = append(out, r)
	}
	return out, rows.Err()
}
