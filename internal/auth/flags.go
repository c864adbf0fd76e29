package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"sort"
	"time"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
)

// Flag is a feature flag: a default from the environment, overridden by a
// row in the database; when enabled it may target roles and a stable
// percentage of users.
type Flag struct {
	Key            string        `json:"key" example:"persona_voice_notes"`
	Description    string        `json:"description"`
	Enabled        bool          `json:"enabled"`
	RolloutPercent int           `json:"rollout_percent" minimum:"0" maximum:"100" doc:"Share of users (stable per user) who get it"`
	Roles          []access.Role `json:"roles" doc:"Only these roles get it; empty for everyone"`
	Source         string        `json:"source" enum:"environment,database"`
	UpdatedAt      *time.Time    `json:"updated_at,omitempty"`
	UpdatedBy      *string       `json:"updated_by,omitempty"`
}

var flagKey = regexp.MustCompile(`^[a-z][a-z0-9_]{1,62}$`)

// ValidFlagKey reports whether key is a flag name.
func ValidFlagKey(key string) bool { return flagKey.MatchString(key) }

// bucket places a user in 0..99 for a flag, the same on every call and
// node, and independently per flag.
func bucket(key, userID string) int {
	h := fnv.New32a()
	h.Write([]byte(key + ":" + userID))
	return int(h.Sum32() % 100)
}

// on evaluates the flag for a caller (userID "" for anonymous callers, who
// get only flags on for everyone).
func (f Flag) on(userID string, role access.Role) bool {
	if !f.Enabled {
		return false
	}
	if len(f.Roles) > 0 && !slices.Contains(f.Roles, role) {
		return false
	}
	if f.RolloutPercent >= 100 {
		return true
	}
	if userID == "" {
		return false
	}
	return bucket(f.Key, userID) < f.RolloutPercent
}

// Flags lists every flag: environment defaults overlaid by database rows.
func (s *Service) Flags(ctx context.Context) ([]Flag, error) {
	byKey := map[string]Flag{}
	for k, on := range s.flagDefaults {
		byKey[k] = Flag{Key: k, Enabled: on, RolloutPercent: 100, Roles: []access.Role{}, Source: "environment"}
	}
	rows, err := s.DB.Query(ctx, `SELECT key, description, enabled, rollout_percent, roles, updated_at, updated_by FROM feature_flags`)
	if err != nil {
		return nil, fmt.Errorf("auth: flags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f Flag
		var roles string
		var at time.Time
		if err := rows.Scan(&f.Key, &f.Description, &f.Enabled, &f.RolloutPercent, &roles, &at, &f.UpdatedBy); err != nil {
			return nil, fmt.Errorf("auth: flags: %w", err)
		}
		if err := json.Unmarshal([]byte(roles), &f.Roles); err != nil {
			return nil, fmt.Errorf("auth: flags: %w", err)
		}
		f.UpdatedAt, f.Source = &at, "database"
		byKey[f.Key] = f
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Flag, 0, len(byKey))
	for _, f := range byKey {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// EvaluateFlags returns the caller's flags and their entity tag.
func (s *Service) EvaluateFlags(ctx context.Context) (map[string]bool, string, error) {
	all, err := s.Flags(ctx)
	if err != nil {
		return nil, "", err
	}
	p, _ := access.From(ctx)
	out := make(map[string]bool, len(all))
	for _, f := range all {
		out[f.Key] = f.on(p.UserID, p.Role)
	}
	b, _ := json.Marshal(out) // map keys marshal sorted: the tag is stable
	sum := sha256.Sum256(b)
	return out, `"` + hex.EncodeToString(sum[:12]) + `"`, nil
}

// FlagInput sets a flag in the database.
type FlagInput struct {
	Description    string        `json:"description,omitempty" maxLength:"500"`
	Enabled        bool          `json:"enabled"`
	RolloutPercent *int          `json:"rollout_percent,omitempty" minimum:"0" maximum:"100" doc:"Default 100"`
	Roles          []access.Role `json:"roles,omitempty" maxItems:"7"`
}

// PutFlag creates or replaces a flag (administrators; audited).
func (s *Service) PutFlag(ctx context.Context, key string, in FlagInput) (*Flag, error) {
	if !ValidFlagKey(key) {
		return nil, apperr.Field("path.key", "must be lower-case letters, digits and _ (2-63)")
	}
	pct := 100
	if in.RolloutPercent != nil {
		pct = *in.RolloutPercent
	}
	roles := in.Roles
	if roles == nil {
		roles = []access.Role{}
	}
	for i, r := range roles {
		if !r.Valid() {
			return nil, apperr.Field(fmt.Sprintf("body.roles[%d]", i), "unknown role")
		}
	}
	rj, _ := json.Marshal(roles)
	p, _ := access.From(ctx)
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		before, err := flagRow(ctx, tx, key)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO feature_flags (key, description, enabled, rollout_percent, roles, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET description = excluded.description, enabled = excluded.enabled, rollout_percent = excluded.rollout_percent,
				roles = excluded.roles, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			key, in.Description, in.Enabled, pct, string(rj), s.Now(), strOrNil(p.UserID)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "flag.updated", TargetType: "flag", TargetID: key, Before: before,
			After: map[string]any{"enabled": in.Enabled, "rollout_percent": pct, "roles": roles}})
	})
	if err != nil {
		return nil, err
	}
	all, err := s.Flags(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range all {
		if f.Key == key {
			return &f, nil
		}
	}
	return nil, errors.New("auth: flag vanished")
}

// DeleteFlag removes a flag's database row; its environment default, if
// any, applies again.
func (s *Service) DeleteFlag(ctx context.Context, key string) error {
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		before, err := flagRow(ctx, tx, key)
		if err != nil {
			return err
		}
		if before == nil {
			return apperr.New(apperr.NotFound, "flag not found in the database")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM feature_flags WHERE key = ?`, key); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "flag.deleted", TargetType: "flag", TargetID: key, Before: before})
	})
}

func flagRow(ctx context.Context, q database.Querier, key string) (map[string]any, error) {
	var enabled bool
	var pct int
	var roles string
	err := q.QueryRow(ctx, `SELECT enabled, rollout_percent, roles FROM feature_flags WHERE key = ?`, key).Scan(&enabled, &pct, &roles)
	if errors.Is(err, database.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"enabled": enabled, "rollout_percent": pct, "roles": json.RawMessage(roles)}, nil
}

// SetFlagDefaults sets the environment defaults (MITRA_FEATURE_FLAGS).
func (s *Service) SetFlagDefaults(d map[string]bool) { s.flagDefaults = d }
