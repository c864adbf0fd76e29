package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/ids"
	"mitra/internal/platform/page"
)

// visibleUser returns the user if the caller may see it: themselves, or
// anyone with UsersReadAny. Otherwise it answers not_found, as for an id
// that does not exist (no object-level oracle).
func (s *Service) visibleUser(ctx context.Context, q database.Querier, p access.Principal, id string, anyPerm access.Permission) (*User, error) {
	if !ids.Valid(id) || (!p.Owns(id) && !p.Can(anyPerm)) {
		return nil, errNotFound
	}
	return getUserByID(ctx, q, id)
}

// GetUser returns a user: the caller, or anyone for administrators. It
// may answer from a cache up to two seconds old (see userCache).
func (s *Service) GetUser(ctx context.Context, p access.Principal, id string) (*User, error) {
	if !ids.Valid(id) || (!p.Owns(id) && !p.Can(access.UsersReadAny)) {
		return nil, errNotFound
	}
	now := s.Now()
	if u, ok := s.users.get(id, now); ok {
		return u, nil
	}
	u, err := getUserByID(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	s.users.put(u, now)
	return u, nil
}

// UpdateUserInput changes a user. Absent fields are left alone. Role and
// status may only be changed by administrators, and only below their own
// rank.
type UpdateUserInput struct {
	Name   *string      `json:"name,omitempty" minLength:"1" maxLength:"100"`
	Email  *string      `json:"email,omitempty" maxLength:"254" doc:"Empty string removes it (a phone must remain)"`
	Phone  *string      `json:"phone,omitempty" maxLength:"32" doc:"Empty string removes it (an email must remain)"`
	Role   *access.Role `json:"role,omitempty" enum:"super_admin,admin,counselor,provider_admin,agent,customer,member" doc:"Administrators only"`
	Status *string      `json:"status,omitempty" enum:"active,deactivated" doc:"Administrators only"`
}

// mayManage reports whether the actor may change another user's role or
// status: administrators, over users below them (a super_admin over anyone).
func mayManage(actor access.Principal, target *User) bool {
	return actor.Can(access.UsersUpdateAny) && actor.UserID != target.ID &&
		(actor.Role == access.SuperAdmin || actor.Role.Outranks(target.Role))
}

// UpdateUser applies in to the user id.
func (s *Service) UpdateUser(ctx context.Context, p access.Principal, id string, in UpdateUserInput) (*User, error) {
	var out *User
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		u, err := s.visibleUser(ctx, tx, p, id, access.UsersUpdateAny)
		if err != nil {
			return err
		}
		if u.Status == StatusErased {
			return apperr.New(apperr.Conflict, "this account has been erased")
		}
		// Changing anything of someone else's (an email or phone is enough to
		// take an account over through a reset code) needs rank above them.
		if !p.Owns(u.ID) && !mayManage(p, u) {
			return apperr.New(apperr.Forbidden, "only an administrator above this user may change them")
		}
		if (in.Role != nil && *in.Role != u.Role) || (in.Status != nil && *in.Status != u.Status) {
			if !mayManage(p, u) {
				return apperr.New(apperr.Forbidden, "only an administrator above this user may change their role or status")
			}
			if in.Role != nil && !p.Role.MayAssign(*in.Role) {
				return apperr.New(apperr.Forbidden, "you may not give this role")
			}
			// Agents are made by application and approval and are
			// suspended and reinstated through /api/v1/agents, which keeps
			// the agent record and the account in step.
			if u.Role == access.Agent || (in.Role != nil && *in.Role == access.Agent) {
				return &apperr.Error{Code: "agent_managed", Status: 409,
					Message: "an agent's role and status change through the agent workflow (/api/v1/agents/{agent_id}/suspend, reinstate)"}
			}
		}
		sets := []string{}
		args := []any{}
		changed := []string{}
		before, after := map[string]any{}, map[string]any{}
		set := func(col string, v any, field string) {
			sets = append(sets, col+" = ?")
			args = append(args, v)
			changed = append(changed, field)
		}
		if in.Name != nil {
			name := strings.TrimSpace(*in.Name)
			if name == "" {
				return apperr.Field("body.name", "must not be blank")
			}
			if name != u.Name {
				set("name", name, "name")
			}
		}
		email, phone := u.Email, u.Phone
		if in.Email != nil {
			email = nil
			if *in.Email != "" {
				e, err := NormalizeEmail("body.email", *in.Email)
				if err != nil {
					return err
				}
				email = &e
			}
			if deref(email) != deref(u.Email) {
				set("email", email, "email")
				set("email_verified_at", nil, "email_verified")
			}
		}
		if in.Phone != nil {
			phone = nil
			if *in.Phone != "" {
				ph, err := NormalizePhone("body.phone", *in.Phone)
				if err != nil {
					return err
				}
				phone = &ph
			}
			if deref(phone) != deref(u.Phone) {
				set("phone", phone, "phone")
				set("phone_verified_at", nil, "phone_verified")
			}
		}
		if email == nil && phone == nil {
			return apperr.Field("body", "an account needs an email or a phone")
		}
		if in.Role != nil && *in.Role != u.Role {
			set("role", string(*in.Role), "role")
			before["role"], after["role"] = u.Role, *in.Role
		}
		statusChanged := in.Status != nil && *in.Status != u.Status
		if statusChanged {
			set("status", *in.Status, "status")
			before["status"], after["status"] = u.Status, *in.Status
		}
		if len(sets) == 0 {
			out = u
			return nil
		}
		now := s.Now()
		sets = append(sets, "updated_at = ?")
		args = append(args, now, u.ID)
		s.users.forget(u.ID)
		if _, err := tx.Exec(ctx, `UPDATE users SET `+strings.Join(sets, ", ")+` WHERE id = ?`, args...); err != nil {
			if database.IsUniqueViolation(err) {
				return conflictFor(err)
			}
			return err
		}
		// A role change or deactivation takes effect at once: existing tokens
		// carry the old role, so the user's sessions end.
		if (in.Role != nil && *in.Role != u.Role) || (statusChanged && *in.Status != StatusActive) {
			if _, err := s.revokeUserSessions(ctx, tx, u.ID, "", "account_changed"); err != nil {
				return err
			}
		}
		action := "user.updated"
		if _, ok := after["role"]; ok {
			action = "user.role_changed"
		}
		after["changed"] = changed
		if err := audit.Record(ctx, tx, audit.Entry{Action: action, TargetType: "user", TargetID: u.ID, Before: nonEmpty(before), After: after}); err != nil {
			return err
		}
		out, err = getUserByID(ctx, tx, u.ID)
		return err
	})
	if out != nil {
		s.users.forget(out.ID) // after commit: no concurrent read can re-cache the old row
	}
	return out, err
}

func nonEmpty(m map[string]any) any {
	if len(m) == 0 {
		return nil
	}
	return m
}

// DeactivateUser deactivates an account and ends all its sessions. Data is
// kept (erasure is separate).
func (s *Service) DeactivateUser(ctx context.Context, p access.Principal, id string) error {
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		u, err := s.visibleUser(ctx, tx, p, id, access.UsersUpdateAny)
		if err != nil {
			return err
		}
		if !p.Owns(u.ID) && !mayManage(p, u) {
			return apperr.New(apperr.Forbidden, "only an administrator above this user may deactivate them")
		}
		if u.Status != StatusActive {
			return nil
		}
		now := s.Now()
		s.users.forget(u.ID)
		if _, err := tx.Exec(ctx, `UPDATE users SET status = ?, updated_at = ? WHERE id = ?`, StatusDeactivated, now, u.ID); err != nil {
			return err
		}
		if _, err := s.revokeUserSessions(ctx, tx, u.ID, "", "deactivated"); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "user.deactivated", TargetType: "user", TargetID: u.ID,
			Before: map[string]any{"status": u.Status}, After: map[string]any{"status": StatusDeactivated}})
	})
	s.users.forget(id)
	return err
}

// SearchInput filters the user list.
type SearchInput struct {
	Role   string `query:"role" enum:"super_admin,admin,counselor,provider_admin,agent,customer,member"`
	Status string `query:"status" enum:"active,deactivated,erased"`
	Q      string `query:"q" maxLength:"100" doc:"Text in the name, email or phone"`
	Sort   string `query:"sort" enum:"created_at,-created_at,name,-name" default:"-created_at"`
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Cursor string `query:"cursor" maxLength:"500"`
}

// UserPage is one page of users.
type UserPage struct {
	Users      []*User `json:"users"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// SearchUsers lists users for administrators, with keyset pagination.
func (s *Service) SearchUsers(ctx context.Context, in SearchInput) (*UserPage, error) {
	cur, err := page.Decode(in.Cursor)
	if err != nil {
		return nil, err
	}
	limit := page.Limit(in.Limit)
	col, desc := "created_at", true
	switch in.Sort {
	case "created_at":
		desc = false
	case "name":
		col, desc = "name", false
	case "-name":
		col = "name"
	}
	var where []string
	var args []any
	if in.Role != "" {
		where, args = append(where, "role = ?"), append(args, in.Role)
	}
	if in.Status != "" {
		where, args = append(where, "status = ?"), append(args, in.Status)
	}
	if q := strings.TrimSpace(in.Q); q != "" {
		pat := "%" + database.EscapeLike(strings.ToLower(q)) + "%"
		where = append(where, `(lower(name) LIKE ? ESCAPE '\' OR email LIKE ? ESCAPE '\' OR phone LIKE ? ESCAPE '\')`)
		args = append(args, pat, pat, pat)
	}
	if cur.ID != "" {
		op := ">"
		if desc {
			op = "<"
		}
		var sortVal any = cur.Sort
		if col == "created_at" {
			t, err := time.Parse(time.RFC3339Nano, cur.Sort)
			if err != nil {
				return nil, apperr.Field("query.cursor", "malformed cursor")
			}
			sortVal = t
		}
		where = append(where, fmt.Sprintf("(%s %s ? OR (%s = ? AND id %s ?))", col, op, col, op))
		args = append(args, sortVal, sortVal, cur.ID)
	}
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	query := `SELECT ` + userColumns + ` FROM users`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += fmt.Sprintf(" ORDER BY %s %s, id %s LIMIT %d", col, dir, dir, limit+1)
	rows, err := s.DB.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("auth: search users: %w", err)
	}
	defer rows.Close()
	out := &UserPage{Users: []*User{}}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("auth: search users: %w", err)
		}
		out.Users = append(out.Users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out.Users) > limit {
		out.Users = out.Users[:limit]
		last := out.Users[limit-1]
		c := page.Cursor{ID: last.ID, Sort: last.Name}
		if col == "created_at" {
			c.Sort = last.CreatedAt.Format(time.RFC3339Nano)
		}
		out.NextCursor = c.Encode()
	}
	return out, nil
}

// CreateAdmin creates an administrator from the command line.
func (s *Service) CreateAdmin(ctx context.Context, email, password, name string, role access.Role) (*User, error) {
	if role != access.Admin && role != access.SuperAdmin {
		return nil, apperr.Field("role", "must be admin or super_admin")
	}
	e, err := NormalizeEmail("email", email)
	if err != nil {
		return nil, err
	}
	if err := ValidatePassword("password", password, e, name); err != nil {
		return nil, err
	}
	if name == "" {
		name = "Administrator"
	}
	nu := newUser{ID: ids.New(), Name: name, Role: string(role), Email: &e, Hash: ptr(HashPassword(password, s.opts.Password)), EmailVerified: true}
	var u *User
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		if err := insertUser(ctx, tx, nu, s.Now()); err != nil {
			return err
		}
		var err error
		if u, err = getUserByID(ctx, tx, nu.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "user.admin_created", ActorID: "", TargetType: "user", TargetID: u.ID,
			After: map[string]any{"role": role, "via": "cli"}})
	})
	if errors.Is(err, errNotFound) {
		return nil, err
	}
	return u, err
}

// NameOf returns a user's name, "" when the user does not exist or was
// erased (the Persona service names the user in messages to their
// emergency contacts).
func (s *Service) NameOf(ctx context.Context, userID string) string {
	u, err := getUserByID(ctx, s.DB, userID)
	if err != nil || u.Status == StatusErased {
		return ""
	}
	return u.Name
}

// CountryOf returns the ISO country of a user's phone number, "" when the
// user has none (or does not exist).
func (s *Service) CountryOf(ctx context.Context, userID string) string {
	u, err := getUserByID(ctx, s.DB, userID)
	if err != nil || u.Phone == nil {
		return ""
	}
	num, err := phonenumbers.Parse(*u.Phone, "")
	if err != nil {
		return ""
	}
	return phonenumbers.GetRegionCodeForNumber(num)
}
