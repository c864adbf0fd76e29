package insurance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/ids"
	"mitra/internal/platform/page"
)

// Policy is a life policy in an agent's book, with the dates that follow
// from its terms and the premiums paid.
type Policy struct {
	ID               string         `json:"id"`
	AgentID          string         `json:"agent_id"`
	PolicyNumber     string         `json:"policy_number"`
	ProviderID       string         `json:"provider_id"`
	ProviderName     string         `json:"provider_name"`
	PlanID           string         `json:"plan_id"`
	PlanNumber       string         `json:"plan_number"`
	PlanName         string         `json:"plan_name"`
	CustomerID       string         `json:"customer_id"`
	CustomerName     string         `json:"customer_name"`
	Currency         string         `json:"currency" example:"INR"`
	SumAssured       int64          `json:"sum_assured" doc:"In paise"`
	Premium          int64          `json:"premium" doc:"One instalment, in paise"`
	PremiumMode      string         `json:"premium_mode" enum:"yearly,half_yearly,quarterly,monthly"`
	Term             int            `json:"term" doc:"Policy term in years"`
	PremiumTerm      int            `json:"premium_term" doc:"Premium-paying term in years"`
	CommencementDate string         `json:"commencement_date" format:"date"`
	EntryAge         int            `json:"entry_age" doc:"The customer's age last birthday at commencement"`
	MaturityDate     string         `json:"maturity_date" format:"date" doc:"Commencement plus the term"`
	PremiumsPaid     int            `json:"premiums_paid"`
	PremiumsTotal    int            `json:"premiums_total" doc:"Premiums over the premium-paying term"`
	NextDueDate      *string        `json:"next_due_date" format:"date" doc:"The first unpaid premium; null when none is owed or the policy is no longer in force or lapsed"`
	GracePeriodEnd   *string        `json:"grace_period_end" format:"date" doc:"Last day of grace of the next due premium (30 days after it, 15 for monthly premiums)"`
	RevivalDeadline  *string        `json:"revival_deadline,omitempty" format:"date" doc:"Lapsed policies: the last day they may be revived (5 years after the first unpaid premium, and before the maturity date); in the past once revival is no longer possible"`
	Nominee          *PolicyNominee `json:"nominee"`
	Status           string         `json:"status" enum:"in_force,lapsed,paid_up,matured,surrendered,claimed"`
	StatusReason     string         `json:"status_reason"`
	StatusChangedAt  time.Time      `json:"status_changed_at"`
	CreatedAt        time.Time      `json:"created_at"`
	UpdatedAt        time.Time      `json:"updated_at"`
}

// PolicyNominee is who receives a policy's benefits.
type PolicyNominee struct {
	Name          string `json:"name" minLength:"1" maxLength:"200"`
	Relationship  string `json:"relationship" enum:"spouse,child,parent,sibling,grandchild,grandparent,other"`
	DateOfBirth   string `json:"date_of_birth,omitempty" format:"date"`
	AppointeeName string `json:"appointee_name,omitempty" maxLength:"200" doc:"Required when the nominee is under 18"`
}

// PolicyInput creates or replaces a policy. The status is not part of it:
// it moves through POST /api/v1/policies/{policy_id}/status.
type PolicyInput struct {
	AgentID          string         `json:"agent_id,omitempty" maxLength:"36" doc:"Administrators name the agent; agents leave it out (their own book)"`
	PolicyNumber     string         `json:"policy_number" minLength:"1" maxLength:"40" doc:"Unique per provider; letters, digits, / and -"`
	ProviderID       string         `json:"provider_id" maxLength:"36"`
	PlanID           string         `json:"plan_id" maxLength:"36"`
	CustomerID       string         `json:"customer_id" maxLength:"36"`
	SumAssured       int64          `json:"sum_assured" minimum:"1" doc:"In paise"`
	Premium          int64          `json:"premium" minimum:"1" doc:"One instalment, in paise"`
	PremiumMode      string         `json:"premium_mode" enum:"yearly,half_yearly,quarterly,monthly"`
	Term             int            `json:"term" minimum:"1" maximum:"100" doc:"Years"`
	PremiumTerm      int            `json:"premium_term" minimum:"1" maximum:"100" doc:"Years"`
	CommencementDate string         `json:"commencement_date" format:"date"`
	PremiumsPaid     int            `json:"premiums_paid,omitempty" minimum:"0" maximum:"1200" doc:"Premiums paid so far. On create default 1 (the first, at commencement), more for policies entered after issue. On update absent (or unchanged) keeps the count; payments move it. A different count, like a change of commencement date, premium mode or terms, is a correction of the premium schedule: its agent's within a day of entering the policy, administrators' at any time (409 policy_schedule_locked otherwise)"`
	Nominee          *PolicyNominee `json:"nominee,omitempty"`
}

var (
	errPolicyNotFound = &apperr.Error{Code: "policy_not_found", Status: 404, Message: "no such policy"}
	policyNumberShape = regexp.MustCompile(`^[A-Z0-9][A-Z0-9/-]{2,39}$`)
)

// deleteWindow is how long after entering a policy its agent may delete
// it or correct its premium schedule (a mistake caught the same day);
// administrators may at any time.
const deleteWindow = 24 * time.Hour

// touch is the updated_at of a write at now to a row last written at
// prev: now to the microsecond the databases keep, or just after prev
// when the clock has not moved past it. Optimistic guards compare
// updated_at, so every write must change it.
func touch(now, prev time.Time) time.Time {
	t := now.UTC().Truncate(time.Microsecond)
	if !t.After(prev) {
		t = prev.UTC().Truncate(time.Microsecond).Add(time.Microsecond)
	}
	return t
}

// policyRow is a policy as stored, with what the joins bring.
type policyRow struct {
	Policy
	dob     string
	nominee string
	terms   terms
}

const policyColumns = `p.id, p.agent_id, p.policy_number, p.provider_id, pr.name, p.plan_id, pl.plan_number, pl.name, p.customer_id, c.name, c.date_of_birth,
	p.sum_assured, p.premium, p.premium_mode, p.term_years, p.premium_term_years, p.commencement_date, p.premiums_paid, p.nominee,
	p.status, p.status_reason, p.status_changed_at, p.created_at, p.updated_at`

const policyFrom = ` FROM policies p JOIN providers pr ON pr.id = p.provider_id JOIN provider_plans pl ON pl.id = p.plan_id JOIN customers c ON c.id = p.customer_id`

func scanPolicy(r interface{ Scan(...any) error }, extra ...any) (*policyRow, error) {
	var p policyRow
	dest := []any{&p.ID, &p.AgentID, &p.PolicyNumber, &p.ProviderID, &p.ProviderName, &p.PlanID, &p.PlanNumber, &p.PlanName, &p.CustomerID, &p.CustomerName, &p.dob,
		&p.SumAssured, &p.Premium, &p.PremiumMode, &p.Term, &p.PremiumTerm, &p.CommencementDate, &p.PremiumsPaid, &p.nominee,
		&p.Status, &p.StatusReason, &p.StatusChangedAt, &p.CreatedAt, &p.UpdatedAt}
	if err := r.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	start, err := time.Parse(DateLayout, p.CommencementDate)
	if err != nil {
		return nil, fmt.Errorf("insurance: policy %s commencement: %w", p.ID, err)
	}
	p.terms = terms{commencement: start, mode: p.PremiumMode, term: p.Term, premiumTerm: p.PremiumTerm}
	if err := json.Unmarshal([]byte(p.nominee), &p.Nominee); err != nil {
		return nil, fmt.Errorf("insurance: policy %s nominee: %w", p.ID, err)
	}
	p.Currency = "INR"
	if dob, err := time.Parse(DateLayout, p.dob); err == nil {
		p.EntryAge = ageOn(dob, start)
	}
	p.derive()
	return &p, nil
}

// derive fills the computed fields from the terms, premiums and status.
func (p *policyRow) derive() {
	sch := p.terms.schedule(p.PremiumsPaid, p.Status)
	p.MaturityDate = formatDate(sch.maturity)
	p.PremiumsTotal = p.terms.instalments()
	p.NextDueDate, p.GracePeriodEnd, p.RevivalDeadline = datePtr(sch.nextDue), datePtr(sch.graceEnd), nil
	if p.Status == StatusLapsed {
		p.RevivalDeadline = datePtr(p.terms.revivalDeadline(sch))
	}
}

func datePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatDate(t)
	return &s
}

// policyGetQuery is the statement reading policy id in scope sc.
func policyGetQuery(sc Scope, id string) (string, []any) {
	query, args := `SELECT `+policyColumns+policyFrom+` WHERE p.id = ?`, []any{id}
	if cond, a := policyVisibility(sc); cond != "" {
		query, args = query+" AND "+cond, append(args, a...)
	}
	return query, args
}

// policyVisibility is the condition restricting policies p to the scope.
func policyVisibility(sc Scope) (string, []any) {
	switch {
	case sc.All:
		return "", nil
	case sc.AgentID != "":
		return "p.agent_id = ?", []any{sc.AgentID}
	default:
		return "p.provider_id = ?", []any{sc.ProviderID}
	}
}

// Policy returns one policy the caller may see, in one query. Errors:
// policy_not_found (also another agent's or provider's policy), forbidden.
func (s *Service) Policy(ctx context.Context, id string) (*Policy, error) {
	sc, err := s.scope(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.policy(ctx, s.DB, sc, id, false)
	if err != nil {
		return nil, err
	}
	return &p.Policy, nil
}

// policy reads a policy visible in sc; lock takes the row for an update
// (PostgreSQL; SQLite's writer already holds the database).
func (s *Service) policy(ctx context.Context, q database.Querier, sc Scope, id string, lock bool) (*policyRow, error) {
	if !ids.Valid(id) {
		return nil, errPolicyNotFound
	}
	query, args := policyGetQuery(sc, id)
	if tx, ok := q.(*database.Tx); ok && lock && tx.Dialect() == database.Postgres {
		query += " FOR UPDATE OF p"
	}
	p, err := scanPolicy(q.QueryRow(ctx, query, args...))
	if errors.Is(err, database.ErrNoRows) {
		return nil, errPolicyNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("insurance: policy: %w", err)
	}
	return p, nil
}

// checkedPolicy is a policy input validated against the book, the plan
// master and the law.
type checkedPolicy struct {
	number  string
	terms   terms
	paid    int
	nominee string
}

// checkPolicy validates in for agent agentID as of today; curProvider is
// the provider of the policy being corrected ("" for a new one), which
// may have become inactive since. Errors: invalid (field errors),
// customer_not_found, provider_not_found, provider_inactive,
// plan_not_found, provider_not_linked (422 each, with the field), and the
// rules of checkPolicyRules.
func (s *Service) checkPolicy(ctx context.Context, q database.Querier, agentID string, in PolicyInput, today time.Time, curProvider string) (checkedPolicy, error) {
	var c checkedPolicy
	var fe formErrors
	c.number = strings.ToUpper(strings.TrimSpace(in.PolicyNumber))
	if !policyNumberShape.MatchString(c.number) {
		fe.addf("body.policy_number", "must be 3 to 40 letters, digits, / or -, starting with a letter or digit")
	}
	start, err := parseDate("body.commencement_date", in.CommencementDate)
	if err != nil {
		fe.add(err)
	}
	if _, ok := modeMonths[in.PremiumMode]; !ok {
		fe.addf("body.premium_mode", "must be yearly, half_yearly, quarterly or monthly")
	}
	if in.Term < 1 || in.PremiumTerm < 1 {
		fe.addf("body.term", "terms are whole years, at least 1")
	}
	if n := in.Nominee; n != nil {
		n.Name = strings.Join(strings.Fields(n.Name), " ")
		n.AppointeeName = strings.Join(strings.Fields(n.AppointeeName), " ")
		if n.Name == "" {
			fe.addf("body.nominee.name", "must not be blank")
		}
		if n.DateOfBirth != "" {
			if dob, err := parseDate("body.nominee.date_of_birth", n.DateOfBirth); err != nil {
				fe.add(err)
			} else if dob.After(today) {
				fe.addf("body.nominee.date_of_birth", "must not be in the future")
			} else if ageOn(dob, today) < 18 && n.AppointeeName == "" {
				fe.addf("body.nominee.appointee_name", "a nominee under 18 needs an appointee")
			}
		}
	}
	if err := fe.err(); err != nil {
		return c, err
	}
	nj, _ := json.Marshal(in.Nominee)
	c.nominee = string(nj)
	c.terms = terms{commencement: start, mode: in.PremiumMode, term: in.Term, premiumTerm: in.PremiumTerm}
	c.paid = in.PremiumsPaid
	if c.paid == 0 {
		c.paid = 1
	}

	var dobText string
	err = database.ErrNoRows
	if ids.Valid(in.CustomerID) {
		err = q.QueryRow(ctx, `SELECT date_of_birth FROM customers WHERE id = ? AND agent_id = ?`, in.CustomerID, agentID).Scan(&dobText)
	}
	if errors.Is(err, database.ErrNoRows) {
		return c, refusal("customer_not_found", 422, "body.customer_id", "no customer with this id in the agent's book")
	} else if err != nil {
		return c, err
	}
	var active bool
	err = database.ErrNoRows
	if ids.Valid(in.ProviderID) {
		err = q.QueryRow(ctx, `SELECT active FROM providers WHERE id = ?`, in.ProviderID).Scan(&active)
	}
	if errors.Is(err, database.ErrNoRows) {
		return c, refusal("provider_not_found", 422, "body.provider_id", "no provider with this id")
	} else if err != nil {
		return c, err
	}
	if !active && in.ProviderID != curProvider {
		return c, refusal("provider_inactive", 422, "body.provider_id", "this provider is inactive: no new policies are entered with it")
	}
	var n int
	if err := q.QueryRow(ctx, `SELECT (SELECT count(*) FROM agents WHERE user_id = ? AND provider_id = ?) + (SELECT count(*) FROM agent_providers WHERE agent_id = ? AND provider_id = ?)`,
		agentID, in.ProviderID, agentID, in.ProviderID).Scan(&n); err != nil {
		return c, err
	}
	if n == 0 {
		return c, refusal("provider_not_linked", 422, "body.provider_id", "the agent does not work with this provider")
	}
	plan, err := s.PlanOf(ctx, q, in.ProviderID, in.PlanID)
	if err != nil {
		return c, err
	}
	dob, err := time.Parse(DateLayout, dobText)
	if err != nil {
		return c, fmt.Errorf("insurance: customer date of birth: %w", err)
	}
	return c, checkPolicyRules(*plan, c.terms, in.SumAssured, c.paid, dob, today)
}

// CreatePolicy enters a policy in the caller's book (an administrator names
// the agent), in force, with the first premium paid at commencement unless
// premiums_paid says more. Audited. Errors: those of checkPolicy and
// ownerFor (agent_not_found, agent_not_approved), policy_number_taken
// (409), forbidden.
func (s *Service) CreatePolicy(ctx context.Context, in PolicyInput) (*Policy, error) {
	sc, err := s.scope(ctx)
	if err != nil {
		return nil, err
	}
	if !sc.mayWrite() {
		return nil, errBookReadOnly
	}
	now := touch(s.Now(), time.Time{})
	today := todayIn(now)
	id := ids.New()
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		agentID, err := s.ownerFor(ctx, tx, sc, in.AgentID)
		if err != nil {
			return err
		}
		c, err := s.checkPolicy(ctx, tx, agentID, in, today, "")
		if err != nil {
			return err
		}
		sch := c.terms.schedule(c.paid, StatusInForce)
		_, err = tx.Exec(ctx, `INSERT INTO policies (id, agent_id, provider_id, plan_id, customer_id, policy_number, sum_assured, premium, premium_mode,
			term_years, premium_term_years, commencement_date, maturity_date, premiums_paid, next_due_date, grace_end_date, nominee,
			status, status_reason, status_changed_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?)`,
			id, agentID, in.ProviderID, in.PlanID, in.CustomerID, c.number, in.SumAssured, in.Premium, in.PremiumMode,
			in.Term, in.PremiumTerm, formatDate(c.terms.commencement), dateColumn(sch.maturity), c.paid, dateColumn(sch.nextDue), dateColumn(sch.graceEnd), c.nominee,
			StatusInForce, now, now, now)
		if database.IsUniqueViolation(err) {
			return refusal("policy_number_taken", 409, "body.policy_number", "this provider already has a policy with this number")
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "policy.created", TargetType: "policy", TargetID: id,
			After: map[string]any{"agent_id": agentID, "policy_number": c.number, "provider_id": in.ProviderID, "plan_id": in.PlanID,
				"customer_id": in.CustomerID, "status": StatusInForce, "premiums_paid": c.paid}})
	})
	if err != nil {
		return nil, err
	}
	return s.Policy(ctx, id)
}

// UpdatePolicy replaces a policy's terms (corrections: the status moves
// only through UpdatePolicyStatus), checked like a new one; the computed
// dates follow. An absent or unchanged premiums_paid keeps the count
// (payments move it, through RecordPremium). The premium schedule
// (commencement date, premium mode, terms, premiums paid) is corrected by
// the policy's agent only within deleteWindow of entering it, by
// administrators at any time: otherwise an agent could move a due date,
// or escape a lapse, without a payment. Audited. Errors:
// policy_not_found, policy_closed (409) for a matured, surrendered or
// claimed policy, those of checkPolicy, policy_schedule_locked (409, with
// the fields), policy_number_taken (409), policy_changed (409),
// forbidden (provider admins).
func (s *Service) UpdatePolicy(ctx context.Context, id string, in PolicyInput) (*Policy, error) {
	sc, err := s.scope(ctx)
	if err != nil {
		return nil, err
	}
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		cur, err := s.policy(ctx, tx, sc, id, true)
		if err != nil {
			return err
		}
		if !sc.mayWrite() {
			return errBookReadOnly
		}
		if in.AgentID != "" && in.AgentID != cur.AgentID {
			return apperr.Field(fieldAgentID, "a policy stays with its agent")
		}
		if len(transitions[cur.Status]) == 0 {
			return &apperr.Error{Code: "policy_closed", Status: 409, Message: fmt.Sprintf("a %s policy is closed and cannot be changed", cur.Status)}
		}
		if in.PremiumsPaid == 0 {
			in.PremiumsPaid = cur.PremiumsPaid // payments move it; a correction need not know it
		}
		now := s.Now()
		c, err := s.checkPolicy(ctx, tx, cur.AgentID, in, todayIn(now), cur.ProviderID)
		if err != nil {
			return err
		}
		if !sc.All && now.Sub(cur.CreatedAt) > deleteWindow {
			if err := scheduleLocked(cur, c); err != nil {
				return err
			}
		}
		sch := c.terms.schedule(c.paid, cur.Status)
		at := touch(now, cur.UpdatedAt)
		res, err := tx.Exec(ctx, `UPDATE policies SET provider_id = ?, plan_id = ?, customer_id = ?, policy_number = ?, sum_assured = ?, premium = ?, premium_mode = ?,
			term_years = ?, premium_term_years = ?, commencement_date = ?, maturity_date = ?, premiums_paid = ?, next_due_date = ?, grace_end_date = ?, nominee = ?,
			updated_at = ? WHERE id = ? AND updated_at = ?`,
			in.ProviderID, in.PlanID, in.CustomerID, c.number, in.SumAssured, in.Premium, in.PremiumMode,
			in.Term, in.PremiumTerm, formatDate(c.terms.commencement), dateColumn(sch.maturity), c.paid, dateColumn(sch.nextDue), dateColumn(sch.graceEnd), c.nominee,
			at, id, cur.UpdatedAt)
		if database.IsUniqueViolation(err) {
			return refusal("policy_number_taken", 409, "body.policy_number", "this provider already has a policy with this number")
		}
		if err != nil {
			return err
		}
		if res.RowsAffected() == 0 {
			return errStatusChanged
		}
		before, after := map[string]any{}, map[string]any{}
		for _, f := range []struct {
			name     string
			old, new any
		}{
			{"policy_number", cur.PolicyNumber, c.number}, {"provider_id", cur.ProviderID, in.ProviderID}, {"plan_id", cur.PlanID, in.PlanID},
			{"customer_id", cur.CustomerID, in.CustomerID}, {"sum_assured", cur.SumAssured, in.SumAssured}, {"premium", cur.Premium, in.Premium},
			{"premium_mode", cur.PremiumMode, in.PremiumMode}, {"term", cur.Term, in.Term}, {"premium_term", cur.PremiumTerm, in.PremiumTerm},
			{"commencement_date", cur.CommencementDate, formatDate(c.terms.commencement)}, {"premiums_paid", cur.PremiumsPaid, c.paid},
		} {
			if f.old != f.new {
				before[f.name], after[f.name] = f.old, f.new
			}
		}
		if cur.nominee != c.nominee {
			before["nominee"], after["nominee"] = "changed", "changed"
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "policy.updated", TargetType: "policy", TargetID: id, Before: before, After: after})
	})
	if err != nil {
		return nil, err
	}
	return s.Policy(ctx, id)
}

// scheduleLocked refuses a correction c of policy cur that changes its
// premium schedule: policy_schedule_locked (409) with each changed field.
func scheduleLocked(cur *policyRow, c checkedPolicy) error {
	var fields []apperr.FieldError
	for _, f := range []struct {
		field   string
		changed bool
	}{
		{"body.commencement_date", !c.terms.commencement.Equal(cur.terms.commencement)},
		{"body.premium_mode", c.terms.mode != cur.terms.mode},
		{"body.term", c.terms.term != cur.terms.term},
		{"body.premium_term", c.terms.premiumTerm != cur.terms.premiumTerm},
		{"body.premiums_paid", c.paid != cur.PremiumsPaid},
	} {
		if f.changed {
			fields = append(fields, apperr.FieldError{Location: f.field, Message: "only an administrator changes this a day after the policy was entered"})
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return &apperr.Error{Code: "policy_schedule_locked", Status: 409, Fields: fields,
		Message: "the premium schedule (commencement date, premium mode, terms, premiums paid) is corrected by the agent only within a day of entering the policy; premiums paid move with payments; ask an administrator"}
}

// DeletePolicy removes a policy entered by mistake: its agent within a day
// of entering it, an administrator at any time. Audited with what it was.
// Errors: policy_not_found, policy_delete_window_over (409), forbidden.
func (s *Service) DeletePolicy(ctx context.Context, id string) error {
	sc, err := s.scope(ctx)
	if err != nil {
		return err
	}
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		cur, err := s.policy(ctx, tx, sc, id, true)
		if err != nil {
			return err
		}
		if !sc.mayWrite() {
			return errBookReadOnly
		}
		if !sc.All && s.Now().Sub(cur.CreatedAt) > deleteWindow {
			return &apperr.Error{Code: "policy_delete_window_over", Status: 409,
				Message: "a policy can be deleted by its agent only within a day of entering it (a mistake); ask an administrator"}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM policies WHERE id = ?`, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "policy.deleted", TargetType: "policy", TargetID: id,
			Before: map[string]any{"agent_id": cur.AgentID, "policy_number": cur.PolicyNumber, "provider_id": cur.ProviderID, "customer_id": cur.CustomerID, "status": cur.Status}})
	})
}

// PolicyQuery filters and pages the policy list.
type PolicyQuery struct {
	Status     []string `query:"status" enum:"in_force,lapsed,paid_up,matured,surrendered,claimed" doc:"One or several, comma-separated"`
	CustomerID string   `query:"customer_id" maxLength:"36"`
	ProviderID string   `query:"provider_id" maxLength:"36"`
	AgentID    string   `query:"agent_id" maxLength:"36" doc:"One agent's policies (administrators, provider admins)"`
	DueFrom    string   `query:"due_from" format:"date" doc:"Next due date on or after"`
	DueTo      string   `query:"due_to" format:"date" doc:"Next due date on or before"`
	Q          string   `query:"q" maxLength:"40" doc:"Policy number prefix"`
	Sort       string   `query:"sort" enum:"next_due_date,-next_due_date,created_at,-created_at" default:"next_due_date" doc:"Policies without a due date come last in next_due_date order"`
	Limit      int      `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Cursor     string   `query:"cursor" maxLength:"500"`
}

// PolicyPage is a page of policies.
type PolicyPage struct {
	Policies   []*Policy `json:"policies"`
	NextCursor string    `json:"next_cursor,omitempty" doc:"Pass as cursor for the next page; absent on the last"`
}

// Policies lists the policies the caller may see, filtered, in one indexed
// query per page. Errors: invalid (query.*), forbidden.
func (s *Service) Policies(ctx context.Context, in PolicyQuery) (*PolicyPage, error) {
	sc, err := s.scope(ctx)
	if err != nil {
		return nil, err
	}
	cur, err := page.Decode(in.Cursor)
	if err != nil {
		return nil, err
	}
	l, err := policyListQuery(sc, in, cur)
	if err != nil {
		return nil, err
	}
	list, next, err := listPage(ctx, s.DB, l, func(rows *database.Rows, due *string) (*Policy, error) {
		p, err := scanPolicy(rows, due)
		if err != nil {
			return nil, err
		}
		return &p.Policy, nil
	}, func(p *Policy) (string, time.Time) { return p.ID, p.CreatedAt })
	if err != nil {
		return nil, fmt.Errorf("insurance: policies: %w", err)
	}
	return &PolicyPage{Policies: list, NextCursor: next}, nil
}

var statusNames = map[string]bool{StatusInForce: true, StatusLapsed: true, StatusPaidUp: true, StatusMatured: true, StatusSurrendered: true, StatusClaimed: true}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// listQuery is the SQL of one page of a list.
type listQuery struct {
	sql   string
	args  []any
	col   string
	limit int
}

// listPage runs the query of one page of a list: scan reads a row and its
// sort key; the rows beyond the page's limit are cut, and the cursor of the
// next page is made from the last item kept (ident gives its id and
// creation time, the sort key of created_at order).
func listPage[T any](ctx context.Context, db *database.DB, l listQuery, scan func(rows *database.Rows, key *string) (T, error), ident func(T) (string, time.Time)) ([]T, string, error) {
	rows, err := db.Query(ctx, l.sql, l.args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	out := []T{}
	var keys []string
	for rows.Next() {
		var key string
		item, err := scan(rows, &key)
		if err != nil {
			return nil, "", err
		}
		out, keys = append(out, item), append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	if len(out) <= l.limit {
		return out, "", nil
	}
	out = out[:l.limit]
	id, created := ident(out[l.limit-1])
	c := page.Cursor{ID: id, Sort: keys[l.limit-1]}
	if l.col == "created_at" {
		c.Sort = created.Format(time.RFC3339Nano)
	}
	return out, c.Encode(), nil
}

// policyListQuery builds the query of a page of policies in scope sc: one
// statement, joins included, on the indexes of the filters given.
func policyListQuery(sc Scope, in PolicyQuery, cur page.Cursor) (listQuery, error) {
	var l listQuery
	limit := page.Limit(in.Limit)
	col, desc := "next_due_date", false
	switch in.Sort {
	case "-next_due_date":
		desc = true
	case "created_at":
		col = "created_at"
	case "-created_at":
		col, desc = "created_at", true
	}
	var where []string
	var args []any
	add := func(cond string, a ...any) { where, args = append(where, cond), append(args, a...) }
	if cond, a := policyVisibility(sc); cond != "" {
		add(cond, a...)
	}
	if in.AgentID != "" {
		add("p.agent_id = ?", in.AgentID)
	}
	if len(in.Status) > 0 {
		for _, st := range in.Status {
			if _, known := statusNames[st]; !known {
				return l, apperr.Field("query.status", "must be in_force, lapsed, paid_up, matured, surrendered or claimed")
			}
		}
		add("p.status IN (?"+strings.Repeat(", ?", len(in.Status)-1)+")", anySlice(in.Status)...)
	}
	if in.CustomerID != "" {
		add("p.customer_id = ?", in.CustomerID)
	}
	if in.ProviderID != "" {
		add("p.provider_id = ?", in.ProviderID)
	}
	if in.DueFrom != "" {
		d, err := parseDate("query.due_from", in.DueFrom)
		if err != nil {
			return l, err
		}
		add("p.next_due_date >= ?", formatDate(d))
	}
	if in.DueTo != "" {
		d, err := parseDate("query.due_to", in.DueTo)
		if err != nil {
			return l, err
		}
		add("p.next_due_date <= ?", formatDate(d))
	}
	if q := strings.ToUpper(strings.TrimSpace(in.Q)); q != "" {
		add("substr(p.policy_number, 1, ?) = ?", len(q), q)
	}
	if cur.ID != "" {
		op := ">"
		if desc {
			op = "<"
		}
		var v any = cur.Sort
		if col == "created_at" {
			t, err := time.Parse(time.RFC3339Nano, cur.Sort)
			if err != nil {
				return l, apperr.Field("query.cursor", "malformed cursor")
			}
			v = t
		}
		add(fmt.Sprintf("(p.%s, p.id) %s (?, ?)", col, op), v, cur.ID)
	}
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	query := `SELECT ` + policyColumns + `, p.next_due_date` + policyFrom
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += fmt.Sprintf(" ORDER BY p.%s %s, p.id %s LIMIT %d", col, dir, dir, limit+1)
	l.sql, l.args, l.col, l.limit = query, args, col, limit
	return l, nil
}

// BenchQuery is one SQL statement the API runs, for benchmarks to
// explain.
type BenchQuery struct {
	Name string
	SQL  string
	Args []any
}

// BenchQueries returns the statements of GET /api/v1/policies/{policy_id}
// and of the due list (in force, next due between from and to, 20) as
// agent agentID runs them, in the database's '?' form.
func BenchQueries(agentID, policyID, from, to string) []BenchQuery {
	sc := Scope{AgentID: agentID}
	one, oneArgs := policyGetQuery(sc, policyID)
	l, _ := policyListQuery(sc, PolicyQuery{Status: []string{StatusInForce}, DueFrom: from, DueTo: to, Limit: 20}, page.Cursor{})
	return []BenchQuery{{Name: "GET /api/v1/policies/{policy_id}", SQL: one, Args: oneArgs}, {Name: "GET /api/v1/policies?status=in_force&due_from&due_to", SQL: l.sql, Args: l.args}}
}
