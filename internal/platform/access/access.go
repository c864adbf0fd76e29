// Package access is the vocabulary of authorization shared by every
// domain: roles, named permissions, the table that grants permissions to
// roles (the one place where that is decided), and the authenticated
// principal carried in a request's context.
package access

import (
	"context"
	"slices"
)

// Role is a user's role. Roles are hierarchical (PRODUCT.md P6):
// super_admin > admin > staff (counselor, provider_admin) > agent >
// customer, member.
type Role string

// The roles.
const (
	SuperAdmin    Role = "super_admin"
	Admin         Role = "admin"
	Counselor     Role = "counselor"
	ProviderAdmin Role = "provider_admin"
	Agent         Role = "agent"
	Customer      Role = "customer"
	Member        Role = "member"
)

// Roles lists every role, highest first.
var Roles = []Role{SuperAdmin, Admin, Counselor, ProviderAdmin, Agent, Customer, Member}

var rank = map[Role]int{SuperAdmin: 100, Admin: 90, Counselor: 50, ProviderAdmin: 50, Agent: 30, Customer: 10, Member: 10}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { _, ok := rank[r]; return ok }

// Rank orders roles: a higher rank is more privileged.
func (r Role) Rank() int { return rank[r] }

// Outranks reports whether r is strictly above o.
func (r Role) Outranks(o Role) bool { return rank[r] > rank[o] }

// IsAdmin reports whether r is admin or super_admin.
func (r Role) IsAdmin() bool { return rank[r] >= rank[Admin] }

// Permission names one thing a caller may do.
type Permission string

// The permissions. Public and Authenticated are pseudo-permissions: no
// caller needed, and any signed-in caller.
const (
	Public        Permission = "public"
	Authenticated Permission = "authenticated"

	UsersReadAny   Permission = "users:read_any"   // read any user's account
	UsersUpdateAny Permission = "users:update_any" // change any user's profile, status
	UsersAssign    Permission = "users:assign_role"
	UsersSearch    Permission = "users:search"
	UsersExportAny Permission = "users:export_any"
	UsersEraseAny  Permission = "users:erase_any"

	AuditRead   Permission = "audit:read"
	FlagsManage Permission = "flags:manage"
	HealthAdmin Permission = "health:admin"
	AIUsageRead Permission = "ai:usage_read" // everyone's AI usage

	CrisisResourcesManage Permission = "crisis:resources_manage"
	PersonasManage        Permission = "personas:manage"
	CrisisQueue           Permission = "crisis:queue"        // work crisis events; read the crisis report
	CrisisRulesManage     Permission = "crisis:rules_manage" // change the crisis intervention rules

	// Agent (insurance). An agent works only their own book; ownership
	// (agent, provider admin, administrator) is checked by the domain.
	ProvidersManage Permission = "providers:manage" // create and change providers and plans
	AgentsManage    Permission = "agents:manage"    // review agent applications: verify, approve, reject, suspend
	AgentsRead      Permission = "agents:read"      // list agents (provider admins: their provider's)
	BookWork        Permission = "book:work"        // customers, policies, presentations (an agent's own; admins all)
)

// grants is the whole permission table. Authenticated callers also hold
// Authenticated; ownership (a user acting on their own objects) is checked
// by the domain on top of these.
var grants = map[Role][]Permission{
	SuperAdmin:    {UsersReadAny, UsersUpdateAny, UsersAssign, UsersSearch, UsersExportAny, UsersEraseAny, AuditRead, FlagsManage, HealthAdmin, AIUsageRead, CrisisResourcesManage, PersonasManage, CrisisQueue, CrisisRulesManage, ProvidersManage, AgentsManage, AgentsRead, BookWork},
	Admin:         {UsersReadAny, UsersUpdateAny, UsersAssign, UsersSearch, UsersExportAny, UsersEraseAny, AuditRead, FlagsManage, HealthAdmin, AIUsageRead, CrisisResourcesManage, PersonasManage, CrisisQueue, CrisisRulesManage, ProvidersManage, AgentsManage, AgentsRead, BookWork},
	Counselor:     {CrisisQueue},
	ProviderAdmin: {AgentsRead, BookWork},
	Agent:         {BookWork},
}

// Can reports whether role r holds permission p.
func (r Role) Can(p Permission) bool {
	switch p {
	case Public:
		return true
	case Authenticated:
		return r.Valid()
	}
	return slices.Contains(grants[r], p)
}

// MayAssign reports whether an actor of role r may give role target to
// someone: only roles strictly below their own, and only with UsersAssign.
// (A super_admin may create another super_admin.)
func (r Role) MayAssign(target Role) bool {
	if !r.Can(UsersAssign) || !target.Valid() {
		return false
	}
	return r == SuperAdmin || r.Outranks(target)
}

// Principal is the authenticated caller.
type Principal struct {
	UserID    string
	SessionID string
	Role      Role
}

// Can reports whether the principal holds p.
func (p Principal) Can(perm Permission) bool { return p.Role.Can(perm) }

// Owns reports whether the principal is the user userID.
func (p Principal) Owns(userID string) bool { return p.UserID != "" && p.UserID == userID }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// From returns the caller, if authenticated.
func From(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok && p.UserID != ""
}
