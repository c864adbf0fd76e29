package insurance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/ids"
)

// Modes lists the premium modes, least frequent first.
var Modes = []string{ModeYearly, ModeHalfYearly, ModeQuarterly, ModeMonthly}

// PlanTypes are the kinds of life-insurance plan; commission rates are set
// per plan type.
var PlanTypes = []string{"term", "endowment", "whole_life", "money_back", "ulip", "pension", "child"}

// Provider is an insurer with its plan master.
type Provider struct {
	ID           string    `json:"id"`
	Code         string    `json:"code" example:"LIC"`
	Name         string    `json:"name" example:"Life Insurance Corporation of India"`
	IRDAIRegNo   string    `json:"irdai_reg_no,omitempty" example:"512"`
	Website      string    `json:"website,omitempty" example:"https://licindia.in"`
	ContactEmail string    `json:"contact_email,omitempty"`
	ContactPhone string    `json:"contact_phone,omitempty"`
	LogoURL      string    `json:"logo_url,omitempty"`
	Active       bool      `json:"active"`
	Plans        []Plan    `json:"plans"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Plan is one product in a provider's plan master: what a policy on it may
// be (terms, premium-paying terms, entry ages, minimum sum assured, modes).
type Plan struct {
	ID            string   `json:"id"`
	PlanNumber    string   `json:"plan_number" example:"914"`
	Name          string   `json:"name" example:"New Endowment Plan"`
	PlanType      string   `json:"plan_type" enum:"term,endowment,whole_life,money_back,ulip,pension,child"`
	Terms         []int    `json:"terms" doc:"Allowed policy terms, years" example:"[12,15,20,25,30,35]"`
	PremiumTerms  []int    `json:"premium_terms" doc:"Allowed premium-paying terms, years" example:"[12,15,20,25,30,35]"`
	MinEntryAge   int      `json:"min_entry_age" example:"8"`
	MaxEntryAge   int      `json:"max_entry_age" example:"50"`
	MinSumAssured int64    `json:"min_sum_assured" doc:"Paise" example:"10000000"`
	Modes         []string `json:"modes" example:"[\"yearly\",\"half_yearly\",\"quarterly\",\"monthly\"]"`
}

// ProviderInput creates or replaces a provider. Plans are matched by plan
// number: new numbers are added, known ones changed, missing ones removed
// (refused while a policy uses them).
type ProviderInput struct {
	Code         string      `json:"code" minLength:"2" maxLength:"20" pattern:"^[A-Za-z0-9_-]+$" example:"LIC"`
	Name         string      `json:"name" minLength:"1" maxLength:"200"`
	IRDAIRegNo   string      `json:"irdai_reg_no,omitempty" maxLength:"20"`
	Website      string      `json:"website,omitempty" maxLength:"300" format:"uri"`
	ContactEmail string      `json:"contact_email,omitempty" maxLength:"254" format:"email"`
	ContactPhone string      `json:"contact_phone,omitempty" maxLength:"20"`
	LogoURL      string      `json:"logo_url,omitempty" maxLength:"500" format:"uri"`
	Active       *bool       `json:"active,omitempty" doc:"Default true"`
	Plans        []PlanInput `json:"plans" maxItems:"200"`
}

// PlanInput is one plan of a ProviderInput.
type PlanInput struct {
	PlanNumber    string   `json:"plan_number" minLength:"1" maxLength:"20"`
	Name          string   `json:"name" minLength:"1" maxLength:"200"`
	PlanType      string   `json:"plan_type" enum:"term,endowment,whole_life,money_back,ulip,pension,child"`
	Terms         []int    `json:"terms" minItems:"1" maxItems:"100"`
	PremiumTerms  []int    `json:"premium_terms" minItems:"1" maxItems:"100"`
	MinEntryAge   int      `json:"min_entry_age" minimum:"0" maximum:"100"`
	MaxEntryAge   int      `json:"max_entry_age" minimum:"0" maximum:"100"`
	MinSumAssured int64    `json:"min_sum_assured" minimum:"0" doc:"Paise"`
	Modes         []string `json:"modes" minItems:"1" maxItems:"4"`
}

var providerCode = regexp.MustCompile(`^[A-Z0-9_-]{2,20}$`)

// validate checks what the schema cannot: shapes across fields and plans.
func (in *ProviderInput) validate() error {
	var fields []apperr.FieldError
	add := func(loc, msg string) { fields = append(fields, apperr.FieldError{Location: loc, Message: msg}) }
	in.Code = strings.ToUpper(strings.TrimSpace(in.Code))
	in.Name = strings.TrimSpace(in.Name)
	if !providerCode.MatchString(in.Code) {
		add("body.code", "2-20 letters, digits, '-' or '_'")
	}
	if in.Name == "" {
		add("body.name", "must not be blank")
	}
	seen := map[string]bool{}
	for i := range in.Plans {
		p := &in.Plans[i]
		loc := fmt.Sprintf("body.plans[%d]", i)
		p.PlanNumber, p.Name = strings.TrimSpace(p.PlanNumber), strings.TrimSpace(p.Name)
		if p.PlanNumber == "" {
			add(loc+".plan_number", "must not be blank")
		} else if seen[p.PlanNumber] {
			add(loc+".plan_number", "appears twice")
		}
		seen[p.PlanNumber] = true
		if !slices.Contains(PlanTypes, p.PlanType) {
			add(loc+".plan_type", "must be one of "+strings.Join(PlanTypes, ", "))
		}
		for _, t := range p.Terms {
			if t < 1 || t > 100 {
				add(loc+".terms", "each term is 1 to 100 years")
				break
			}
		}
		maxTerm := slices.Max(append([]int{0}, p.Terms...))
		for _, t := range p.PremiumTerms {
			if t < 1 || t > maxTerm {
				add(loc+".premium_terms", "each premium-paying term is at least 1 year and no longer than the longest term")
				break
			}
		}
		if p.MinEntryAge > p.MaxEntryAge {
			add(loc+".max_entry_age", "must not be below min_entry_age")
		}
		if len(p.Modes) == 0 {
			add(loc+".modes", "give at least one premium mode")
		}
		for _, m := range p.Modes {
			if !slices.Contains(Modes, m) {
				add(loc+".modes", "each mode is one of "+strings.Join(Modes, ", "))
				break
			}
		}
		slices.Sort(p.Terms)
		p.Terms = slices.Compact(p.Terms)
		slices.Sort(p.PremiumTerms)
		p.PremiumTerms = slices.Compact(p.PremiumTerms)
		p.Modes = orderModes(p.Modes)
	}
	if len(fields) > 0 {
		return &apperr.Error{Code: apperr.Invalid, Message: "validation failed", Fields: fields}
	}
	return nil
}

// orderModes returns the distinct modes of ms in the canonical order.
func orderModes(ms []string) []string {
	out := make([]string, 0, len(ms))
	for _, m := range Modes {
		if slices.Contains(ms, m) {
			out = append(out, m)
		}
	}
	return out
}

var errProviderNotFound = &apperr.Error{Code: "provider_not_found", Status: 404, Message: "no such provider"}

// Providers lists providers with their plans: active ones for everybody,
// inactive ones too for administrators.
func (s *Service) Providers(ctx context.Context) ([]Provider, error) {
	all := false
	if p, ok := access.From(ctx); ok && p.Can(access.ProvidersManage) {
		all = true
	}
	rows, err := s.DB.Query(ctx, `SELECT id, code, name, irdai_reg_no, website, contact_email, contact_phone, logo_url, active, created_at, updated_at
		FROM providers WHERE active = ? OR ? ORDER BY name, id`, true, all)
	if err != nil {
		return nil, err
	}
	var out []Provider
	for rows.Next() {
		var p Provider
		if err := rows.Scan(&p.ID, &p.Code, &p.Name, &p.IRDAIRegNo, &p.Website, &p.ContactEmail, &p.ContactPhone, &p.LogoURL, &p.Active, &p.CreatedAt, &p.UpdatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		p.Plans = []Plan{}
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	plans, err := s.plans(ctx, s.DB, "")
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Plans = append(out[i].Plans, plans[out[i].ID]...)
	}
	return out, nil
}

// Provider returns one provider with its plans (an inactive one only to
// administrators).
func (s *Service) Provider(ctx context.Context, id string) (*Provider, error) {
	p, err := s.provider(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	if pr, ok := access.From(ctx); !p.Active && (!ok || !pr.Can(access.ProvidersManage)) {
		return nil, errProviderNotFound
	}
	return p, nil
}

func (s *Service) provider(ctx context.Context, q database.Querier, id string) (*Provider, error) {
	var p Provider
	err := q.QueryRow(ctx, `SELECT id, code, name, irdai_reg_no, website, contact_email, contact_phone, logo_url, active, created_at, updated_at
		FROM providers WHERE id = ?`, id).
		Scan(&p.ID, &p.Code, &p.Name, &p.IRDAIRegNo, &p.Website, &p.ContactEmail, &p.ContactPhone, &p.LogoURL, &p.Active, &p.CreatedAt, &p.UpdatedAt)
	if errors.Is(err, database.ErrNoRows) {
		return nil, errProviderNotFound
	} else if err != nil {
		return nil, err
	}
	plans, err := s.plans(ctx, q, id)
	if err != nil {
		return nil, err
	}
	p.Plans = append([]Plan{}, plans[id]...)
	return &p, nil
}

// plans reads the plan master of one provider ("" for all), by provider.
func (s *Service) plans(ctx context.Context, q database.Querier, providerID string) (map[string][]Plan, error) {
	rows, err := q.Query(ctx, `SELECT provider_id, id, plan_number, name, plan_type, terms, premium_terms, min_entry_age, max_entry_age, min_sum_assured, modes
		FROM provider_plans WHERE provider_id = ? OR ? = '' ORDER BY provider_id, plan_number`, providerID, providerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]Plan{}
	for rows.Next() {
		var prov, terms, pterms, modes string
		var p Plan
		if err := rows.Scan(&prov, &p.ID, &p.PlanNumber, &p.Name, &p.PlanType, &terms, &pterms, &p.MinEntryAge, &p.MaxEntryAge, &p.MinSumAssured, &modes); err != nil {
			return nil, err
		}
		if err := errors.Join(json.Unmarshal([]byte(terms), &p.Terms), json.Unmarshal([]byte(pterms), &p.PremiumTerms), json.Unmarshal([]byte(modes), &p.Modes)); err != nil {
			return nil, fmt.Errorf("insurance: plan %s: %w", p.ID, err)
		}
		out[prov] = append(out[prov], p)
	}
	return out, rows.Err()
}

// PlanOf returns one plan of a provider (for policy rules), or 422
// plan_not_found on body.plan_id.
func (s *Service) PlanOf(ctx context.Context, q database.Querier, providerID, planID string) (*Plan, error) {
	plans, err := s.plans(ctx, q, providerID)
	if err != nil {
		return nil, err
	}
	for _, p := range plans[providerID] {
		if p.ID == planID {
			return &p, nil
		}
	}
	return nil, &apperr.Error{Code: "plan_not_found", Status: 422, Message: "no plan with this id at this provider",
		Fields: []apperr.FieldError{{Location: "body.plan_id", Message: "not a plan of this provider"}}}
}

// PutProvider creates (id "") or replaces a provider and its plan master.
func (s *Service) PutProvider(ctx context.Context, id string, in ProviderInput) (*Provider, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	active := in.Active == nil || *in.Active
	var out *Provider
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		now := s.Now()
		var before *Provider
		if id == "" {
			id = ids.New()
			_, err := tx.Exec(ctx, `INSERT INTO providers (id, code, name, irdai_reg_no, website, contact_email, contact_phone, logo_url, active, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, in.Code, in.Name, in.IRDAIRegNo, in.Website, in.ContactEmail, in.ContactPhone, in.LogoURL, active, now, now)
			if database.IsUniqueViolation(err) {
				return &apperr.Error{Code: "provider_code_taken", Status: 409, Message: "another provider has this code",
					Fields: []apperr.FieldError{{Location: "body.code", Message: "already in use"}}}
			} else if err != nil {
				return err
			}
		} else {
			var err error
			if before, err = s.provider(ctx, tx, id); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE providers SET code = ?, name = ?, irdai_reg_no = ?, website = ?, contact_email = ?, contact_phone = ?, logo_url = ?, active = ?, updated_at = ?
				WHERE id = ?`, in.Code, in.Name, in.IRDAIRegNo, in.Website, in.ContactEmail, in.ContactPhone, in.LogoURL, active, now, id)
			if database.IsUniqueViolation(err) {
				return &apperr.Error{Code: "provider_code_taken", Status: 409, Message: "another provider has this code",
					Fields: []apperr.FieldError{{Location: "body.code", Message: "already in use"}}}
			} else if err != nil {
				return err
			}
		}
		if err := s.putPlans(ctx, tx, id, before, in.Plans, now); err != nil {
			return err
		}
		var err error
		if out, err = s.provider(ctx, tx, id); err != nil {
			return err
		}
		action := "provider.created"
		if before != nil {
			action = "provider.updated"
		}
		return audit.Record(ctx, tx, audit.Entry{Action: action, TargetType: "provider", TargetID: id, Before: before, After: out})
	})
	return out, err
}

// putPlans makes the provider's plan master equal to in.
func (s *Service) putPlans(ctx context.Context, tx *database.Tx, providerID string, before *Provider, in []PlanInput, now time.Time) error {
	existing := map[string]Plan{}
	if before != nil {
		for _, p := range before.Plans {
			existing[p.PlanNumber] = p
		}
	}
	for i, p := range in {
		terms, _ := json.Marshal(p.Terms)
		pterms, _ := json.Marshal(p.PremiumTerms)
		modes, _ := json.Marshal(p.Modes)
		if old, ok := existing[p.PlanNumber]; ok {
			delete(existing, p.PlanNumber)
			if _, err := tx.Exec(ctx, `UPDATE provider_plans SET name = ?, plan_type = ?, terms = ?, premium_terms = ?, min_entry_age = ?, max_entry_age = ?, min_sum_assured = ?, modes = ?, updated_at = ?
				WHERE id = ?`, p.Name, p.PlanType, string(terms), string(pterms), p.MinEntryAge, p.MaxEntryAge, p.MinSumAssured, string(modes), now, old.ID); err != nil {
				return err
			}
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO provider_plans (id, provider_id, plan_number, name, plan_type, terms, premium_terms, min_entry_age, max_entry_age, min_sum_assured, modes, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ids.New(), providerID, p.PlanNumber, p.Name, p.PlanType, string(terms), string(pterms), p.MinEntryAge, p.MaxEntryAge, p.MinSumAssured, string(modes), now, now); err != nil {
			return fmt.Errorf("insurance: plan %d: %w", i, err)
		}
	}
	for number, p := range existing {
		_, err := tx.Exec(ctx, `DELETE FROM provider_plans WHERE id = ?`, p.ID)
		if database.IsForeignKeyViolation(err) {
			return &apperr.Error{Code: "plan_in_use", Status: 409, Message: "plan " + number + " has policies: it cannot be removed (keep it, or deactivate the provider)",
				Fields: []apperr.FieldError{{Location: "body.plans", Message: "plan " + number + " is missing but in use"}}}
		} else if err != nil {
			return err
		}
	}
	return nil
}

// SetProviderStaff links a provider admin to the provider they work for.
func (s *Service) SetProviderStaff(ctx context.Context, providerID, userID string) error {
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		if _, err := s.provider(ctx, tx, providerID); err != nil {
			return err
		}
		var role string
		err := tx.QueryRow(ctx, `SELECT role FROM users WHERE id = ?`, userID).Scan(&role)
		if errors.Is(err, database.ErrNoRows) {
			return &apperr.Error{Code: "user_not_found", Status: 404, Message: "no such user"}
		} else if err != nil {
			return err
		}
		if access.Role(role) != access.ProviderAdmin {
			return &apperr.Error{Code: "not_provider_admin", Status: 422, Message: "only a user with role provider_admin can work for a provider",
				Fields: []apperr.FieldError{{Location: "path.user_id", Message: "role is " + role}}}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM provider_staff WHERE user_id = ?`, userID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO provider_staff (user_id, provider_id, created_at) VALUES (?, ?, ?)`, userID, providerID, s.Now()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "provider.staff_linked", TargetType: "user", TargetID: userID, After: map[string]any{"provider_id": providerID}})
	})
}
