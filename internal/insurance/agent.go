package insurance

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/page"
)

// Agent statuses. An application starts pending; an administrator verifies
// the licence, then approves (the agent gets an agent code and may sign in)
// or rejects; an approved agent can be suspended and reinstated.
const (
	AgentPending   = "pending"
	AgentVerified  = "verified"
	AgentApproved  = "approved"
	AgentRejected  = "rejected"
	AgentSuspended = "suspended"
)

// agentMoves is the approval workflow: for each action, the statuses it
// may start from and the status it leads to.
var agentMoves = map[string]struct {
	from []string
	to   string
}{
	"verify":    {[]string{AgentPending}, AgentVerified},
	"approve":   {[]string{AgentVerified}, AgentApproved},
	"reject":    {[]string{AgentPending, AgentVerified}, AgentRejected},
	"suspend":   {[]string{AgentApproved}, AgentSuspended},
	"reinstate": {[]string{AgentSuspended}, AgentApproved},
}

// Agent is an agent's profile.
type Agent struct {
	ID            string     `json:"id" doc:"The agent's user id"`
	Name          string     `json:"name"`
	Email         *string    `json:"email,omitempty"`
	Phone         *string    `json:"phone,omitempty"`
	AgentCode     *string    `json:"agent_code,omitempty" example:"AG-482913"`
	ProviderID    string     `json:"provider_id"`
	LicenceNumber string     `json:"licence_number" example:"IRDA/IND/12345"`
	LicenceExpiry string     `json:"licence_expiry" format:"date" example:"2028-03-31"`
	Status        string     `json:"status" enum:"pending,verified,approved,rejected,suspended"`
	StatusReason  string     `json:"status_reason,omitempty"`
	City          string     `json:"city,omitempty"`
	Bio           string     `json:"bio,omitempty"`
	PhotoURL      string     `json:"photo_url,omitempty"`
	DecidedAt     *time.Time `json:"decided_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// AgentApplication is the public application form.
type AgentApplication struct {
	Name          string `json:"name" minLength:"1" maxLength:"100"`
	Phone         string `json:"phone" minLength:"6" maxLength:"20" example:"+919812345678"`
	Email         string `json:"email,omitempty" maxLength:"254" format:"email"`
	Password      string `json:"password" minLength:"8" maxLength:"128"`
	LicenceNumber string `json:"licence_number" minLength:"5" maxLength:"30" example:"IRDA/IND/12345"`
	LicenceExpiry string `json:"licence_expiry" format:"date" example:"2028-03-31"`
	ProviderID    string `json:"provider_id" maxLength:"36"`
	City          string `json:"city,omitempty" maxLength:"100"`
}

var licencePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9/-]{4,29}$`)

// checkLicence validates a licence number and expiry against today.
func checkLicence(number, expiry string, today time.Time) (string, []apperr.FieldError) {
	var fields []apperr.FieldError
	number = strings.ToUpper(strings.TrimSpace(number))
	if !licencePattern.MatchString(number) {
		fields = append(fields, apperr.FieldError{Location: "body.licence_number", Message: "5-30 letters, digits, '/' or '-'"})
	}
	if d, err := time.Parse(DateLayout, expiry); err != nil {
		fields = append(fields, apperr.FieldError{Location: "body.licence_expiry", Message: "a date, YYYY-MM-DD"})
	} else if !d.After(today) {
		fields = append(fields, apperr.FieldError{Location: "body.licence_expiry", Message: "the licence has expired"})
	}
	return number, fields
}

// Apply records an agent application: an account that cannot sign in
// until approved, and a pending agent linked to the chosen provider.
func (s *Service) Apply(ctx context.Context, in AgentApplication) (*Agent, error) {
	number, fields := checkLicence(in.LicenceNumber, in.LicenceExpiry, todayIn(s.Now()))
	create, err := s.Accounts.NewAgentAccount(in.Name, in.Email, in.Phone, in.Password)
	if e, ok := apperr.As(err); ok && e.Code == apperr.Invalid {
		fields = append(fields, e.Fields...)
	} else if err != nil {
		return nil, err
	}
	var out *Agent
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		p, err := s.provider(ctx, tx, in.ProviderID)
		if err != nil || !p.Active {
			if err != nil && !errors.Is(err, errProviderNotFound) {
				return err
			}
			fields = append(fields, apperr.FieldError{Location: "body.provider_id", Message: "no such provider"})
		}
		if len(fields) > 0 {
			return &apperr.Error{Code: apperr.Invalid, Message: "validation failed", Fields: fields}
		}
		id, err := create(ctx, tx)
		if err != nil {
			return err
		}
		now := s.Now()
		_, err = tx.Exec(ctx, `INSERT INTO agents (user_id, provider_id, licence_number, licence_expiry, status, city, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, p.ID, number, in.LicenceExpiry, AgentPending, strings.TrimSpace(in.City), now, now)
		if database.IsUniqueViolation(err) {
			return &apperr.Error{Code: "licence_taken", Status: 409, Message: "an application with this licence number exists",
				Fields: []apperr.FieldError{{Location: "body.licence_number", Message: "already registered"}}}
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO agent_providers (agent_id, provider_id, commission, created_at, updated_at) VALUES (?, ?, '{}', ?, ?)`, id, p.ID, now, now); err != nil {
			return err
		}
		if out, err = s.agent(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "agent.applied", ActorID: id, ActorRole: string(access.Agent), TargetType: "agent", TargetID: id,
			After: map[string]any{"status": AgentPending, "provider_id": p.ID}})
	})
	return out, err
}

const agentColumns = `a.user_id, u.name, u.email, u.phone, u.agent_code, a.provider_id, a.licence_number, a.licence_expiry, a.status, a.status_reason,
	a.city, a.bio, a.photo_url, a.decided_at, a.created_at, a.updated_at`

func scanAgent(sc interface{ Scan(...any) error }) (*Agent, error) {
	var a Agent
	err := sc.Scan(&a.ID, &a.Name, &a.Email, &a.Phone, &a.AgentCode, &a.ProviderID, &a.LicenceNumber, &a.LicenceExpiry, &a.Status, &a.StatusReason,
		&a.City, &a.Bio, &a.PhotoURL, &a.DecidedAt, &a.CreatedAt, &a.UpdatedAt)
	return &a, err
}

var errAgentNotFound = &apperr.Error{Code: "agent_not_found", Status: 404, Message: "no such agent"}

func (s *Service) agent(ctx context.Context, q database.Querier, id string) (*Agent, error) {
	a, err := scanAgent(q.QueryRow(ctx, `SELECT `+agentColumns+` FROM agents a JOIN users u ON u.id = a.user_id WHERE a.user_id = ?`, id))
	if errors.Is(err, database.ErrNoRows) {
		return nil, errAgentNotFound
	}
	return a, err
}

// visibleAgent returns agent id if the caller may see it: the agent
// themself, an administrator, or a provider admin of the agent's provider.
// Anyone else gets 404, as for a missing agent.
func (s *Service) visibleAgent(ctx context.Context, q database.Querier, id string) (*Agent, Scope, error) {
	p, ok := access.From(ctx)
	if !ok {
		return nil, Scope{}, apperr.New(apperr.Unauthorized, "missing or invalid access token")
	}
	if p.Owns(id) && p.Role == access.Agent {
		a, err := s.agent(ctx, q, id)
		return a, Scope{Principal: p, AgentID: id}, err
	}
	sc, err := s.scope(ctx)
	if err != nil {
		if apperr.CodeOf(err) == apperr.Forbidden {
			return nil, sc, errAgentNotFound
		}
		return nil, sc, err
	}
	a, err := s.agent(ctx, q, id)
	if err != nil {
		return nil, sc, err
	}
	if !sc.All && (sc.ProviderID == "" || sc.ProviderID != a.ProviderID) {
		return nil, sc, errAgentNotFound
	}
	return a, sc, nil
}

// GetAgent returns an agent's profile (see visibleAgent for who may).
func (s *Service) GetAgent(ctx context.Context, id string) (*Agent, error) {
	a, _, err := s.visibleAgent(ctx, s.DB, id)
	return a, err
}

// AgentProfileInput changes an agent's profile. Licence fields are for
// administrators (a changed licence is checked again).
type AgentProfileInput struct {
	Name          *string `json:"name,omitempty" minLength:"1" maxLength:"100"`
	City          *string `json:"city,omitempty" maxLength:"100"`
	Bio           *string `json:"bio,omitempty" maxLength:"1000"`
	PhotoURL      *string `json:"photo_url,omitempty" maxLength:"500" format:"uri"`
	LicenceNumber *string `json:"licence_number,omitempty" minLength:"5" maxLength:"30" doc:"Administrators only"`
	LicenceExpiry *string `json:"licence_expiry,omitempty" format:"date" doc:"Administrators only"`
}

// UpdateAgent changes the profile of the agent themself or, for
// administrators, of any agent.
func (s *Service) UpdateAgent(ctx context.Context, id string, in AgentProfileInput) (*Agent, error) {
	var out *Agent
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		a, sc, err := s.visibleAgent(ctx, tx, id)
		if err != nil {
			return err
		}
		if !sc.All && sc.AgentID != id {
			return apperr.New(apperr.Forbidden, "only the agent or an administrator may change this profile")
		}
		if (in.LicenceNumber != nil || in.LicenceExpiry != nil) && !sc.All {
			return &apperr.Error{Code: apperr.Forbidden, Message: "licence details are changed by an administrator",
				Fields: []apperr.FieldError{{Location: "body.licence_number", Message: "administrators only"}}}
		}
		next := *a
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = strings.TrimSpace(*v)
			}
		}
		set(&next.City, in.City)
		set(&next.Bio, in.Bio)
		set(&next.PhotoURL, in.PhotoURL)
		set(&next.Name, in.Name)
		set(&next.LicenceNumber, in.LicenceNumber)
		set(&next.LicenceExpiry, in.LicenceExpiry)
		if next.Name == "" {
			return apperr.Field("body.name", "must not be blank")
		}
		if in.LicenceNumber != nil || in.LicenceExpiry != nil {
			number, fields := checkLicence(next.LicenceNumber, next.LicenceExpiry, todayIn(s.Now()))
			if len(fields) > 0 {
				return &apperr.Error{Code: apperr.Invalid, Message: "validation failed", Fields: fields}
			}
			next.LicenceNumber = number
		}
		now := s.Now()
		_, err = tx.Exec(ctx, `UPDATE agents SET city = ?, bio = ?, photo_url = ?, licence_number = ?, licence_expiry = ?, updated_at = ? WHERE user_id = ?`,
			next.City, next.Bio, next.PhotoURL, next.LicenceNumber, next.LicenceExpiry, now, id)
		if database.IsUniqueViolation(err) {
			return &apperr.Error{Code: "licence_taken", Status: 409, Message: "another agent has this licence number",
				Fields: []apperr.FieldError{{Location: "body.licence_number", Message: "already registered"}}}
		} else if err != nil {
			return err
		}
		if next.Name != a.Name {
			if _, err := tx.Exec(ctx, `UPDATE users SET name = ?, updated_at = ? WHERE id = ?`, next.Name, now, id); err != nil {
				return err
			}
		}
		if out, err = s.agent(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "agent.updated", TargetType: "agent", TargetID: id, Before: a, After: out})
	})
	return out, err
}

// AgentFilter selects agents for the review list.
type AgentFilter struct {
	Status     string `query:"status" enum:"pending,verified,approved,rejected,suspended"`
	ProviderID string `query:"provider_id" maxLength:"36"`
	Q          string `query:"q" maxLength:"100" doc:"Text in the name, agent code or licence number"`
	Limit      int    `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Cursor     string `query:"cursor" maxLength:"500"`
}

// AgentPage is a page of agents, oldest application first (the review
// queue's order).
type AgentPage struct {
	Agents     []*Agent `json:"agents"`
	NextCursor string   `json:"next_cursor,omitempty"`
}

// Agents lists agents: every agent for administrators, the agents of
// their provider for provider admins.
func (s *Service) Agents(ctx context.Context, f AgentFilter) (*AgentPage, error) {
	sc, err := s.scope(ctx)
	if err != nil {
		return nil, err
	}
	if sc.AgentID != "" {
		return nil, apperr.New(apperr.Forbidden, "agents see only their own profile")
	}
	cur, err := page.Decode(f.Cursor)
	if err != nil {
		return nil, err
	}
	limit := page.Limit(f.Limit)
	q := `SELECT ` + agentColumns + ` FROM agents a JOIN users u ON u.id = a.user_id WHERE 1 = 1`
	var args []any
	if sc.ProviderID != "" {
		q += ` AND a.provider_id = ?`
		args = append(args, sc.ProviderID)
	}
	if f.ProviderID != "" {
		q += ` AND a.provider_id = ?`
		args = append(args, f.ProviderID)
	}
	if f.Status != "" {
		q += ` AND a.status = ?`
		args = append(args, f.Status)
	}
	if t := strings.TrimSpace(f.Q); t != "" {
		like := "%" + database.EscapeLike(strings.ToLower(t)) + "%"
		q += ` AND (LOWER(u.name) LIKE ? ESCAPE '\' OR LOWER(COALESCE(u.agent_code, '')) LIKE ? ESCAPE '\' OR LOWER(a.licence_number) LIKE ? ESCAPE '\')`
		args = append(args, like, like, like)
	}
	if cur.ID != "" {
		q += ` AND a.user_id > ?`
		args = append(args, cur.ID)
	}
	q += ` ORDER BY a.user_id LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &AgentPage{Agents: []*Agent{}}
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, err
		}
		out.Agents = append(out.Agents, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out.Agents) > limit {
		out.Agents = out.Agents[:limit]
		out.NextCursor = page.Cursor{ID: out.Agents[limit-1].ID}.Encode()
	}
	return out, nil
}

// DecisionInput carries the reason for a review decision (required to
// reject and suspend) and, on approval, an optional agent code.
type DecisionInput struct {
	Reason    string `json:"reason,omitempty" maxLength:"500"`
	AgentCode string `json:"agent_code,omitempty" maxLength:"20" doc:"approve only: the code to give; generated when absent"`
}

// Decide moves an agent along the approval workflow: verify, approve,
// reject, suspend or reinstate. Any other move answers invalid_transition.
func (s *Service) Decide(ctx context.Context, id, action string, in DecisionInput) (*Agent, error) {
	move, ok := agentMoves[action]
	if !ok {
		return nil, apperr.Newf(apperr.NotFound, "no such action %q", action)
	}
	reason := strings.TrimSpace(in.Reason)
	if reason == "" && (action == "reject" || action == "suspend") {
		return nil, &apperr.Error{Code: "reason_required", Status: 422, Message: "say why: the agent is told the reason",
			Fields: []apperr.FieldError{{Location: "body.reason", Message: "required to " + action}}}
	}
	var out *Agent
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		a, err := s.agent(ctx, tx, id)
		if err != nil {
			return err
		}
		if !slices.Contains(move.from, a.Status) {
			return &apperr.Error{Code: "invalid_transition", Status: 409,
				Message: fmt.Sprintf("an agent who is %s cannot be %s (from %s only)", a.Status, pastTense(action), strings.Join(move.from, " or "))}
		}
		now := s.Now()
		// The move is claimed first, on the status it was read with: of two
		// administrators deciding at once, the second finds nothing to move.
		res, err := tx.Exec(ctx, `UPDATE agents SET status = ?, status_reason = ?, decided_by = ?, decided_at = ?, updated_at = ? WHERE user_id = ? AND status = ?`,
			move.to, reason, actorID(ctx), now, now, id, a.Status)
		if err != nil {
			return err
		}
		if res.RowsAffected() == 0 {
			return &apperr.Error{Code: "agent_changed", Status: 409, Message: "the agent's status changed meanwhile; read it again"}
		}
		code := a.AgentCode
		switch action {
		case "approve":
			if _, fields := checkLicence(a.LicenceNumber, a.LicenceExpiry, todayIn(now)); len(fields) > 0 {
				return &apperr.Error{Code: "licence_expired", Status: 409, Message: "the agent's licence has expired: update it before approval"}
			}
			if code == nil {
				c, err := s.assignCode(ctx, tx, id, in.AgentCode)
				if err != nil {
					return err
				}
				code = &c
			}
		case "suspend":
			if err := s.Accounts.SetActive(ctx, tx, id, false); err != nil {
				return err
			}
		case "reinstate":
			if err := s.Accounts.SetActive(ctx, tx, id, true); err != nil {
				return err
			}
		}
		if out, err = s.agent(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "agent." + pastTense(action), TargetType: "agent", TargetID: id,
			Before: map[string]any{"status": a.Status}, After: map[string]any{"status": move.to, "reason": reason, "agent_code": code}})
	})
	return out, err
}

// assignCode gives the agent code want (checked) or a new random one.
func (s *Service) assignCode(ctx context.Context, tx *database.Tx, id, want string) (string, error) {
	if want != "" {
		c := strings.ToUpper(strings.TrimSpace(want))
		if !agentCodePattern.MatchString(c) {
			return "", apperr.Field("body.agent_code", "4-20 letters, digits or '-', starting with a letter or digit")
		}
		if err := s.setCode(ctx, tx, id, c); err != nil {
			return "", err
		}
		return c, nil
	}
	for range 10 {
		n, err := rand.Int(rand.Reader, big.NewInt(900000))
		if err != nil {
			return "", err
		}
		c := fmt.Sprintf("AG-%06d", 100000+n.Int64())
		err = s.setCode(ctx, tx, id, c)
		if apperr.CodeOf(err) == "agent_code_taken" {
			continue
		}
		return c, err
	}
	return "", errors.New("insurance: no free agent code after 10 tries")
}

func (s *Service) setCode(ctx context.Context, tx *database.Tx, id, code string) error {
	// Checked first: a unique violation would abort a PostgreSQL
	// transaction, and the caller may want to try another code.
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM users WHERE agent_code = ?`, code).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return &apperr.Error{Code: "agent_code_taken", Status: 409, Message: "this agent code is already in use",
			Fields: []apperr.FieldError{{Location: "body.agent_code", Message: "already in use"}}}
	}
	return s.Accounts.SetAgentCode(ctx, tx, id, code)
}

// agentCodePattern matches auth's rule for agent codes.
var agentCodePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{3,19}$`)

func pastTense(action string) string {
	return map[string]string{"verify": "verified", "approve": "approved", "reject": "rejected", "suspend": "suspended", "reinstate": "reinstated"}[action]
}

func actorID(ctx context.Context) *string {
	if p, ok := access.From(ctx); ok {
		return &p.UserID
	}
	return nil
}

// Commission is an agent's rate for one plan type, in basis points
// (2500 = 25%) of the premium: first year and renewal.
type Commission struct {
	FirstYearBps int `json:"first_year_bps" minimum:"0" maximum:"10000" example:"2500"`
	RenewalBps   int `json:"renewal_bps" minimum:"0" maximum:"10000" example:"500"`
}

// AgentProvider is an agent's link to a provider with its commission
// structure by plan type.
type AgentProvider struct {
	ProviderID   string                `json:"provider_id"`
	ProviderName string                `json:"provider_name"`
	Commission   map[string]Commission `json:"commission"`
	UpdatedAt    time.Time             `json:"updated_at"`
}

// AgentProviders lists an agent's provider links (visible as the agent).
func (s *Service) AgentProviders(ctx context.Context, id string) ([]AgentProvider, error) {
	_, sc, err := s.visibleAgent(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	// A provider admin sees only their own provider's terms with the agent.
	rows, err := s.DB.Query(ctx, `SELECT l.provider_id, p.name, l.commission, l.updated_at FROM agent_providers l JOIN providers p ON p.id = l.provider_id
		WHERE l.agent_id = ? AND (l.provider_id = ? OR ? = '') ORDER BY p.name`, id, sc.ProviderID, sc.ProviderID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []AgentProvider{}
	for rows.Next() {
		var l AgentProvider
		var c string
		if err := rows.Scan(&l.ProviderID, &l.ProviderName, &c, &l.UpdatedAt); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(c), &l.Commission); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// LinkInput sets the commission structure of an agent-provider link.
type LinkInput struct {
	Commission map[string]Commission `json:"commission" doc:"By plan type: term, endowment, whole_life, money_back, ulip, pension, child"`
}

// LinkProvider creates or replaces an agent's link to a provider.
func (s *Service) LinkProvider(ctx context.Context, agentID, providerID string, in LinkInput) ([]AgentProvider, error) {
	var fields []apperr.FieldError
	for t, c := range in.Commission {
		if !slices.Contains(PlanTypes, t) {
			fields = append(fields, apperr.FieldError{Location: "body.commission." + t, Message: "not a plan type"})
		}
		if c.FirstYearBps < 0 || c.FirstYearBps > 10000 || c.RenewalBps < 0 || c.RenewalBps > 10000 {
			fields = append(fields, apperr.FieldError{Location: "body.commission." + t, Message: "rates are 0 to 10000 basis points"})
		}
	}
	if len(fields) > 0 {
		return nil, &apperr.Error{Code: apperr.Invalid, Message: "validation failed", Fields: fields}
	}
	if in.Commission == nil {
		in.Commission = map[string]Commission{}
	}
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		if _, err := s.agent(ctx, tx, agentID); err != nil {
			return err
		}
		if _, err := s.provider(ctx, tx, providerID); err != nil {
			return err
		}
		c, _ := json.Marshal(in.Commission)
		now := s.Now()
		res, err := tx.Exec(ctx, `UPDATE agent_providers SET commission = ?, updated_at = ? WHERE agent_id = ? AND provider_id = ?`, string(c), now, agentID, providerID)
		if err != nil {
			return err
		}
		if res.RowsAffected() == 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO agent_providers (agent_id, provider_id, commission, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
				agentID, providerID, string(c), now, now); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "agent.provider_linked", TargetType: "agent", TargetID: agentID,
			After: map[string]any{"provider_id": providerID, "commission": in.Commission}})
	})
	if err != nil {
		return nil, err
	}
	return s.AgentProviders(ctx, agentID)
}

// UnlinkProvider removes an agent's link to a provider (not their primary
// provider).
func (s *Service) UnlinkProvider(ctx context.Context, agentID, providerID string) error {
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		a, err := s.agent(ctx, tx, agentID)
		if err != nil {
			return err
		}
		if a.ProviderID == providerID {
			return &apperr.Error{Code: "primary_provider", Status: 409, Message: "this is the agent's primary provider: it cannot be unlinked"}
		}
		res, err := tx.Exec(ctx, `DELETE FROM agent_providers WHERE agent_id = ? AND provider_id = ?`, agentID, providerID)
		if err != nil {
			return err
		}
		if res.RowsAffected() == 0 {
			return &apperr.Error{Code: "link_not_found", Status: 404, Message: "the agent is not linked to this provider"}
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "agent.provider_unlinked", TargetType: "agent", TargetID: agentID,
			Before: map[string]any{"provider_id": providerID}})
	})
}
