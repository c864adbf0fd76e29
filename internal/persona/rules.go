package persona

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"mitra/internal/persona/crisis"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
)

// The actions a crisis rule may take.
const (
	// ActionShowResources: the person sees the safety reply and the crisis
	// resources of their country (the notice in the chat answer, the
	// resources of a questionnaire). Every rule has it.
	ActionShowResources = "show_resources"
	// ActionNotifyCounselor: the on-call counselor is told (the queue
	// always, the webhook when configured), and the event is escalated when
	// nobody acknowledges it in time.
	ActionNotifyCounselor = "notify_counselor"
	// ActionAlertContacts: the person's confirmed emergency contacts get a
	// message asking them to reach out (never what the person wrote).
	ActionAlertContacts = "alert_contacts"
	// ActionScheduleCheckin: a follow-up check-in is put to the person
	// after the rule's delay.
	ActionScheduleCheckin = "schedule_checkin"
)

var allActions = []string{ActionShowResources, ActionNotifyCounselor, ActionAlertContacts, ActionScheduleCheckin}

// ruleLevels are the levels rules exist for, least serious first. Low risk
// carries no notice and no workflow.
var ruleLevels = []crisis.Level{crisis.LevelModerate, crisis.LevelHigh, crisis.LevelImminent}

// Bounds of the rules' delays, in minutes.
const (
	minCheckinMinutes  = 15
	maxCheckinMinutes  = 14 * 24 * 60
	minEscalateMinutes = 1
	maxEscalateMinutes = 24 * 60
)

// Rule is what happens at one level of risk.
type Rule struct {
	Level                string     `json:"level" enum:"moderate,high,imminent"`
	Actions              []string   `json:"actions" doc:"show_resources, notify_counselor, alert_contacts, schedule_checkin"`
	CheckinAfterMinutes  *int       `json:"checkin_after_minutes" doc:"Delay of the follow-up check-in (with schedule_checkin)"`
	EscalateAfterMinutes *int       `json:"escalate_after_minutes" doc:"Escalate when no counselor acknowledged within this time (with notify_counselor); null: MITRA_CRISIS_ESCALATE_AFTER"`
	UpdatedBy            *string    `json:"updated_by,omitempty"`
	UpdatedAt            *time.Time `json:"updated_at,omitempty"`
}

// RuleInput is one rule as an administrator writes it.
type RuleInput struct {
	Level                string   `json:"level" enum:"moderate,high,imminent"`
	Actions              []string `json:"actions" minItems:"1" maxItems:"4" enum:"show_resources,notify_counselor,alert_contacts,schedule_checkin"`
	CheckinAfterMinutes  *int     `json:"checkin_after_minutes,omitempty" minimum:"15" maximum:"20160"`
	EscalateAfterMinutes *int     `json:"escalate_after_minutes,omitempty" minimum:"1" maximum:"1440"`
}

// Has reports whether the rule takes action a.
func (r Rule) Has(a string) bool { return slices.Contains(r.Actions, a) }

func ptr[T any](v T) *T { return &v }

// DefaultRules are the rules a new installation starts with (the migration
// writes the same; a test keeps them equal). See
// docs/decisions/0011-crisis-intervention-rules-and-contacts.md for why.
func DefaultRules() []Rule {
	return []Rule{
		{Level: "moderate", Actions: []string{ActionShowResources, ActionScheduleCheckin}, CheckinAfterMinutes: ptr(72 * 60)},
		{Level: "high", Actions: []string{ActionShowResources, ActionNotifyCounselor, ActionScheduleCheckin}, CheckinAfterMinutes: ptr(24 * 60)},
		{Level: "imminent", Actions: []string{ActionShowResources, ActionNotifyCounselor, ActionAlertContacts, ActionScheduleCheckin},
			CheckinAfterMinutes: ptr(4 * 60), EscalateAfterMinutes: ptr(5)},
	}
}

// ruleSet holds the rule of each level.
type ruleSet map[crisis.Level]Rule

// For returns the rule of a level; levels below moderate have none.
func (rs ruleSet) For(l crisis.Level) (Rule, bool) {
	r, ok := rs[l]
	return r, ok
}

// escalateAfter is how long an event of level l waits for a counselor
// before escalation: the level's own setting (or def), and never longer
// than any less serious level that notifies a counselor.
func (rs ruleSet) escalateAfter(l crisis.Level, def time.Duration) time.Duration {
	best := time.Duration(0)
	for _, lv := range ruleLevels {
		if lv > l {
			break
		}
		r, ok := rs[lv]
		if !ok || !r.Has(ActionNotifyCounselor) {
			continue
		}
		d := def
		if r.EscalateAfterMinutes != nil {
			d = time.Duration(*r.EscalateAfterMinutes) * time.Minute
		}
		if best == 0 || d < best {
			best = d
		}
	}
	if best == 0 {
		best = def
	}
	return best
}

// loadRules reads the rules; a level missing from the table gets its
// default (the table is seeded, so this only guards against a bad edit by
// hand).
func loadRules(ctx context.Context, q database.Querier) (ruleSet, error) {
	rs := ruleSet{}
	for _, r := range DefaultRules() {
		l, _ := crisis.ParseLevel(r.Level)
		rs[l] = r
	}
	rows, err := q.Query(ctx, `SELECT level, actions, checkin_after_minutes, escalate_after_minutes, updated_by, updated_at FROM crisis_rules`)
	if err != nil {
		return nil, fmt.Errorf("persona: rules: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Rule
		var actions string
		var at time.Time
		if err := rows.Scan(&r.Level, &actions, &r.CheckinAfterMinutes, &r.EscalateAfterMinutes, &r.UpdatedBy, &at); err != nil {
			return nil, fmt.Errorf("persona: rules: %w", err)
		}
		if err := json.Unmarshal([]byte(actions), &r.Actions); err != nil {
			return nil, fmt.Errorf("persona: rule %s: %w", r.Level, err)
		}
		at = at.UTC()
		r.UpdatedAt = &at
		l, err := crisis.ParseLevel(r.Level)
		if err != nil {
			continue
		}
		rs[l] = r
	}
	return rs, rows.Err()
}

// Rules returns the intervention rule of each level, least serious first.
func (s *Service) Rules(ctx context.Context) ([]Rule, error) {
	rs, err := loadRules(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	out := make([]Rule, 0, len(ruleLevels))
	for _, l := range ruleLevels {
		out = append(out, rs[l])
	}
	return out, nil
}

// EscalateAfterDefault is the escalation delay of rules that set none.
func (s *Service) EscalateAfterDefault() time.Duration { return s.workflow.EscalateAfter }

// validateRules checks a whole set of rules (422 invalid with field errors):
// one rule per level; known actions, each once; showing resources at every
// level; a counselor at high and imminent; a delay exactly when its action
// is there; and a more serious level doing at least what a less serious one
// does, no later.
func validateRules(in []RuleInput, defEscalate time.Duration) (ruleSet, error) {
	var fields []apperr.FieldError
	bad := func(loc, msg string) { fields = append(fields, apperr.FieldError{Location: loc, Message: msg}) }
	rs := ruleSet{}
	for i, r := range in {
		loc := fmt.Sprintf("body.rules[%d]", i)
		l, err := crisis.ParseLevel(r.Level)
		if err != nil || l < crisis.LevelModerate {
			bad(loc+".level", "must be moderate, high or imminent")
			continue
		}
		if _, dup := rs[l]; dup {
			bad(loc+".level", "each level has one rule")
			continue
		}
		seen := map[string]bool{}
		for j, a := range r.Actions {
			if !slices.Contains(allActions, a) {
				bad(fmt.Sprintf("%s.actions[%d]", loc, j), "unknown action")
			}
			if seen[a] {
				bad(fmt.Sprintf("%s.actions[%d]", loc, j), "an action is listed once")
			}
			seen[a] = true
		}
		if !seen[ActionShowResources] {
			bad(loc+".actions", "show_resources cannot be removed: at moderate risk and above the person always sees where to get help")
		}
		if l >= crisis.LevelHigh && !seen[ActionNotifyCounselor] {
			bad(loc+".actions", "notify_counselor cannot be removed at high and imminent risk: a person at that risk is never left with only the app")
		}
		switch {
		case seen[ActionScheduleCheckin] && r.CheckinAfterMinutes == nil:
			bad(loc+".checkin_after_minutes", "schedule_checkin needs its delay")
		case !seen[ActionScheduleCheckin] && r.CheckinAfterMinutes != nil:
			bad(loc+".checkin_after_minutes", "only with schedule_checkin")
		case r.CheckinAfterMinutes != nil && (*r.CheckinAfterMinutes < minCheckinMinutes || *r.CheckinAfterMinutes > maxCheckinMinutes):
			bad(loc+".checkin_after_minutes", fmt.Sprintf("must be between %d and %d", minCheckinMinutes, maxCheckinMinutes))
		}
		switch {
		case !seen[ActionNotifyCounselor] && r.EscalateAfterMinutes != nil:
			bad(loc+".escalate_after_minutes", "only with notify_counselor")
		case r.EscalateAfterMinutes != nil && (*r.EscalateAfterMinutes < minEscalateMinutes || *r.EscalateAfterMinutes > maxEscalateMinutes):
			bad(loc+".escalate_after_minutes", fmt.Sprintf("must be between %d and %d", minEscalateMinutes, maxEscalateMinutes))
		}
		rs[l] = Rule{Level: l.String(), Actions: r.Actions, CheckinAfterMinutes: r.CheckinAfterMinutes, EscalateAfterMinutes: r.EscalateAfterMinutes}
	}
	if len(fields) == 0 && len(rs) != len(ruleLevels) {
		bad("body.rules", "give one rule for each of moderate, high and imminent")
	}
	if len(fields) == 0 {
		for i := 1; i < len(ruleLevels); i++ {
			lower, higher := rs[ruleLevels[i-1]], rs[ruleLevels[i]]
			loc := "body.rules." + higher.Level
			for _, a := range lower.Actions {
				if !higher.Has(a) {
					bad(loc+".actions", fmt.Sprintf("%s does at least what %s does: add %s", higher.Level, lower.Level, a))
				}
			}
			if lower.CheckinAfterMinutes != nil && higher.CheckinAfterMinutes != nil && *higher.CheckinAfterMinutes > *lower.CheckinAfterMinutes {
				bad(loc+".checkin_after_minutes", fmt.Sprintf("a %s check-in comes no later than a %s one", higher.Level, lower.Level))
			}
			if lower.Has(ActionNotifyCounselor) {
				le, he := defEscalate, defEscalate
				if lower.EscalateAfterMinutes != nil {
					le = time.Duration(*lower.EscalateAfterMinutes) * time.Minute
				}
				if higher.EscalateAfterMinutes != nil {
					he = time.Duration(*higher.EscalateAfterMinutes) * time.Minute
				}
				if he > le {
					bad(loc+".escalate_after_minutes", fmt.Sprintf("%s escalates no later than %s", higher.Level, lower.Level))
				}
			}
		}
	}
	if len(fields) > 0 {
		return nil, &apperr.Error{Code: apperr.Invalid, Message: "validation failed", Fields: fields}
	}
	return rs, nil
}

// PutRules replaces the rules (all three levels at once), audited with the
// rules before and after. It returns 422 invalid when a rule breaks the
// floor described at validateRules.
func (s *Service) PutRules(ctx context.Context, in []RuleInput) ([]Rule, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := validateRules(in, s.workflow.EscalateAfter)
	if err != nil {
		return nil, err
	}
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		before, err := loadRules(ctx, tx)
		if err != nil {
			return err
		}
		now := s.Now()
		for _, l := range ruleLevels {
			r := rs[l]
			actions, _ := json.Marshal(r.Actions)
			if _, err := tx.Exec(ctx, `INSERT INTO crisis_rules (level, actions, checkin_after_minutes, escalate_after_minutes, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (level) DO UPDATE SET actions = excluded.actions, checkin_after_minutes = excluded.checkin_after_minutes,
				escalate_after_minutes = excluded.escalate_after_minutes, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
				r.Level, string(actions), r.CheckinAfterMinutes, r.EscalateAfterMinutes, p.UserID, now); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "crisis.rules_updated", TargetType: "crisis_rules", TargetID: "all",
			Before: rulesForAudit(before), After: rulesForAudit(rs)})
	})
	if err != nil {
		return nil, err
	}
	return s.Rules(ctx)
}

func rulesForAudit(rs ruleSet) map[string]any {
	out := map[string]any{}
	for _, l := range ruleLevels {
		r := rs[l]
		out[r.Level] = map[string]any{"actions": r.Actions, "checkin_after_minutes": r.CheckinAfterMinutes, "escalate_after_minutes": r.EscalateAfterMinutes}
	}
	return out
}
