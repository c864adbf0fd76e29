package access

import "testing"

func TestPermissionTable(t *testing.T) {
	for _, r := range Roles {
		if !r.Can(Public) || !r.Can(Authenticated) {
			t.Errorf("%s lacks public/authenticated", r)
		}
	}
	if Role("").Can(Authenticated) || Role("root").Can(Authenticated) {
		t.Error("unknown role authenticated")
	}
	// Admin permissions belong to admins only.
	for _, p := range []Permission{UsersReadAny, UsersSearch, AuditRead, FlagsManage, UsersAssign} {
		for _, r := range Roles {
			if got, want := r.Can(p), r.IsAdmin(); got != want {
				t.Errorf("%s.Can(%s) = %v, want %v", r, p, got, want)
			}
		}
	}
}

func TestMayAssign(t *testing.T) {
	cases := []struct {
		actor, target Role
		want          bool
	}{
		{SuperAdmin, Admin, true},
		{SuperAdmin, SuperAdmin, true},
		{Admin, Counselor, true},
		{Admin, Agent, true},
		{Admin, Admin, false},
		{Admin, SuperAdmin, false},
		{Counselor, Member, false},
		{Member, Member, false},
		{Admin, Role("god"), false},
	}
	for _, c := range cases {
		if got := c.actor.MayAssign(c.target); got != c.want {
			t.Errorf("%s.MayAssign(%s) = %v, want %v", c.actor, c.target, got, c.want)
		}
	}
}
