package auth_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"mitra/internal/auth"
	"mitra/internal/auth/authtest"
	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database/dbtest"
)

var ctx = context.Background()

const goodPassword = "correct horse battery"

func client(ip string) auth.Client { return auth.Client{IP: ip, UserAgent: "test/1.0"} }

func register(t *testing.T, e *authtest.Env, email, phone string) *auth.Tokens {
	t.Helper()
	tok, err := e.Svc.Register(ctx, auth.RegisterInput{Email: email, Phone: phone, Password: goodPassword, Name: "Test User"}, client("198.51.100.1"))
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return tok
}

func principal(t *testing.T, e *authtest.Env, tok *auth.Tokens) access.Principal {
	t.Helper()
	p, err := e.Svc.Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return p
}

func code(err error) string {
	if e, ok := apperr.As(err); ok {
		return string(e.Code)
	}
	if err == nil {
		return ""
	}
	return "non-apperr: " + err.Error()
}

func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := code(err); got != want {
		t.Fatalf("error code %q (%v), want %q", got, err, want)
	}
}

// makeAdmin promotes a user directly in the database (as `mitra admin create` would create one).
func makeAdmin(t *testing.T, e *authtest.Env, email string, role access.Role) (*auth.Tokens, access.Principal) {
	t.Helper()
	if _, err := e.Svc.CreateAdmin(ctx, email, goodPassword, "Admin", role); err != nil {
		t.Fatal(err)
	}
	tok, err := e.Svc.Login(ctx, auth.LoginInput{Identifier: email, Password: goodPassword}, client("198.51.100.9"))
	if err != nil {
		t.Fatal(err)
	}
	return tok, principal(t, e, tok)
}

func TestRegisterAndLoginByEveryIdentifier(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		tok := register(t, e, "Rina@Example.com", "0812 3456 7890")
		if tok.User.Role != access.Member || *tok.User.Email != "rina@example.com" || *tok.User.Phone != "+6281234567890" || tok.TokenType != "Bearer" || tok.ExpiresIn != 900 {
			t.Fatalf("tokens %+v user %+v", tok, tok.User)
		}
		for _, in := range []auth.LoginInput{
			{Identifier: "RINA@example.com", Password: goodPassword},
			{Identifier: "+62 812-3456-7890", Password: goodPassword},
			{Email: "rina@example.com", Password: goodPassword},
			{Phone: "081234567890", Password: goodPassword},
		} {
			if _, err := e.Svc.Login(ctx, in, client("198.51.100.1")); err != nil {
				t.Fatalf("login %+v: %v", in, err)
			}
		}
		_, err := e.Svc.Register(ctx, auth.RegisterInput{Email: "rina@example.com", Password: goodPassword, Name: "Again"}, client(""))
		wantCode(t, err, "email_taken")
		_, err = e.Svc.Register(ctx, auth.RegisterInput{Password: goodPassword, Name: "Nobody"}, client(""))
		wantCode(t, err, "invalid")
		_, err = e.Svc.Register(ctx, auth.RegisterInput{Email: "weak@example.com", Password: "password123", Name: "Weak"}, client(""))
		wantCode(t, err, "invalid")
	})
}

// OWASP API2:2023 Broken Authentication: every kind of bad access token is refused.
func TestAPI2BrokenAuthenticationAccessTokens(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		tok := register(t, e, "a@example.com", "")
		if _, err := e.Svc.Verify(ctx, tok.AccessToken); err != nil {
			t.Fatalf("fresh token refused: %v", err)
		}
		parts := strings.Split(tok.AccessToken, ".")
		var header map[string]any
		b, _ := base64.RawURLEncoding.DecodeString(parts[0])
		_ = json.Unmarshal(b, &header)
		if header["alg"] != "ES256" || header["kid"] == "" {
			t.Fatalf("header %v", header)
		}
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var claims map[string]any
		_ = json.Unmarshal(payload, &claims)
		for _, k := range []string{"sub", "sid", "role", "iat", "exp", "iss", "aud"} {
			if _, ok := claims[k]; !ok {
				t.Fatalf("claim %s missing: %v", k, claims)
			}
		}
		enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }

		// Tampered payload: role raised to admin, signature kept.
		claims["role"] = "admin"
		tampered := parts[0] + "." + enc(claims) + "." + parts[2]
		// alg none.
		none := enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." + enc(claims) + "."
		// HS256 keyed with the public key (algorithm confusion).
		jwks := e.Svc.Keys.JWKS()
		hsHead := enc(map[string]any{"alg": "HS256", "typ": "JWT", "kid": header["kid"]})
		mac := hmac.New(sha256.New, jwks)
		mac.Write([]byte(hsHead + "." + parts[1]))
		hs256 := hsHead + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
		// Unknown key id.
		header["kid"] = "no-such-key"
		unknownKid := enc(header) + "." + parts[1] + "." + parts[2]

		for name, bad := range map[string]string{"tampered": tampered, "alg none": none, "HS256 with public key": hs256,
			"unknown kid": unknownKid, "garbage": "not.a.jwt", "empty": ""} {
			if _, err := e.Svc.Verify(ctx, bad); !errors.Is(err, auth.ErrTokenInvalid) {
				t.Errorf("%s: got %v, want ErrTokenInvalid", name, err)
			}
		}

		// Wrong audience and wrong issuer: a service with other settings on the same keys.
		for name, o := range map[string]auth.Options{"audience": {Audience: "other-api"}, "issuer": {Issuer: "someone-else"}} {
			other := auth.NewService(e.Svc.Deps, o)
			if _, err := other.Verify(ctx, tok.AccessToken); !errors.Is(err, auth.ErrTokenInvalid) {
				t.Errorf("wrong %s accepted: %v", name, err)
			}
		}

		// Not yet valid: the clock stands before the token's issue time.
		e.Clock.Add(-2 * time.Minute)
		if _, err := e.Svc.Verify(ctx, tok.AccessToken); !errors.Is(err, auth.ErrTokenInvalid) {
			t.Errorf("token from the future accepted: %v", err)
		}
		// Expired.
		e.Clock.Add(2*time.Minute + 16*time.Minute)
		if _, err := e.Svc.Verify(ctx, tok.AccessToken); !errors.Is(err, auth.ErrTokenExpired) {
			t.Errorf("expired token: got %v, want ErrTokenExpired", err)
		}
	})
}

// A revoked session's access tokens fail at once.
func TestLogoutRevokesAccessTokensAtOnce(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		tok := register(t, e, "b@example.com", "")
		p := principal(t, e, tok)
		if err := e.Svc.Logout(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.Verify(ctx, tok.AccessToken); !errors.Is(err, auth.ErrTokenInvalid) {
			t.Fatalf("token of a logged-out session: %v", err)
		}
		if _, err := e.Svc.Refresh(ctx, tok.RefreshToken, client("")); code(err) != "invalid_refresh_token" {
			t.Fatalf("refresh after logout: %v", err)
		}
	})
}

// OWASP API2:2023: refresh tokens rotate; a reused one ends the session.
func TestAPI2RefreshRotationGraceAndReuse(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		tok := register(t, e, "c@example.com", "")
		r1, err := e.Svc.Refresh(ctx, tok.RefreshToken, client("198.51.100.1"))
		if err != nil {
			t.Fatal(err)
		}
		if r1.RefreshToken == tok.RefreshToken || r1.SessionID != tok.SessionID {
			t.Fatal("refresh token not rotated")
		}
		// A concurrent retry within the grace window gets the same current token.
		e.Clock.Add(3 * time.Second)
		retry, err := e.Svc.Refresh(ctx, tok.RefreshToken, client("198.51.100.1"))
		if err != nil || retry.RefreshToken != r1.RefreshToken {
			t.Fatalf("grace retry: %v (same token: %v)", err, err == nil && retry.RefreshToken == r1.RefreshToken)
		}
		r2, err := e.Svc.Refresh(ctx, r1.RefreshToken, client("198.51.100.1"))
		if err != nil {
			t.Fatal(err)
		}
		// After the grace window, presenting an old token is theft: the session ends.
		e.Clock.Add(time.Minute)
		_, err = e.Svc.Refresh(ctx, tok.RefreshToken, client("203.0.113.66"))
		wantCode(t, err, "refresh_token_reused")
		if _, err := e.Svc.Refresh(ctx, r2.RefreshToken, client("")); code(err) != "invalid_refresh_token" {
			t.Fatalf("current token after reuse: %v", err)
		}
		if _, err := e.Svc.Verify(ctx, r2.AccessToken); !errors.Is(err, auth.ErrTokenInvalid) {
			t.Fatal("access token survived refresh-token reuse")
		}
		entries, _, err := audit.List(ctx, e.DB, audit.Filter{Action: "auth.refresh_token_reused"})
		if err != nil || len(entries) != 1 || entries[0].TargetID != tok.SessionID {
			t.Fatalf("reuse not audited: %v %v", entries, err)
		}
		// Garbage tokens.
		for _, bad := range []string{"", "mrt_short", "mrt_" + strings.Repeat("A", 43), strings.Repeat("x", 500)} {
			if _, err := e.Svc.Refresh(ctx, bad, client("")); code(err) != "invalid_refresh_token" {
				t.Fatalf("refresh %q: %v", bad, err)
			}
		}
		// Idle sessions end.
		fresh := register(t, e, "idle@example.com", "")
		e.Clock.Add(31 * 24 * time.Hour)
		if _, err := e.Svc.Refresh(ctx, fresh.RefreshToken, client("")); code(err) != "invalid_refresh_token" {
			t.Fatalf("refresh of an idle session: %v", err)
		}
	})
}

// OWASP API2:2023: unknown accounts and wrong passwords look the same.
func TestAPI2LoginSameAnswerForUnknownAndWrong(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		register(t, e, "d@example.com", "")
		_, wrong := e.Svc.Login(ctx, auth.LoginInput{Identifier: "d@example.com", Password: "not the password"}, client("198.51.100.2"))
		_, unknown := e.Svc.Login(ctx, auth.LoginInput{Identifier: "nobody@example.com", Password: "not the password"}, client("198.51.100.3"))
		_, malformed := e.Svc.Login(ctx, auth.LoginInput{Identifier: "??", Password: "x"}, client("198.51.100.4"))
		if wrong == nil || wrong.Error() != unknown.Error() || unknown.Error() != malformed.Error() {
			t.Fatalf("answers differ:\n%v\n%v\n%v", wrong, unknown, malformed)
		}
	})
}

// OWASP API2:2023 / API6:2023: failed sign-ins slow an attacker down, but
// the owner keeps access from their own devices.
func TestAPI2LoginThrottleWithoutVictimLockout(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		register(t, e, "victim@example.com", "")
		victim := client("198.51.100.1") // the IP the victim registered (signed in) from
		bad := auth.LoginInput{Identifier: "victim@example.com", Password: "guess guess guess"}
		// Three failures from one IP are free, then that IP waits.
		for i := 0; i < 3; i++ {
			_, err := e.Svc.Login(ctx, bad, client("203.0.113.1"))
			wantCode(t, err, "invalid_credentials")
		}
		_, err := e.Svc.Login(ctx, bad, client("203.0.113.1"))
		wantCode(t, err, "login_throttled")
		if ae, _ := apperr.As(err); ae.RetryAfter <= 0 || ae.RetryAfter > time.Second {
			t.Fatalf("retry after %v, want (0, 1s]", ae.RetryAfter)
		}
		// A distributed attack: one failure from each of many IPs.
		for i := 2; i <= 10; i++ {
			_, err := e.Svc.Login(ctx, bad, client("203.0.113."+string(rune('0'+i/10))+string(rune('0'+i%10))))
			if c := code(err); c != "invalid_credentials" && c != "login_throttled" {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		_, err = e.Svc.Login(ctx, bad, client("203.0.113.99"))
		wantCode(t, err, "login_throttled")
		// The owner, from a device they used before, still gets in.
		if _, err := e.Svc.Login(ctx, auth.LoginInput{Identifier: "victim@example.com", Password: goodPassword}, victim); err != nil {
			t.Fatalf("victim locked out: %v", err)
		}
		// Unknown accounts are throttled the same way (no oracle).
		ghost := auth.LoginInput{Identifier: "ghost@example.com", Password: "guess guess guess"}
		for i := 0; i < 3; i++ {
			_, _ = e.Svc.Login(ctx, ghost, client("203.0.113.2"))
		}
		_, err = e.Svc.Login(ctx, ghost, client("203.0.113.2"))
		wantCode(t, err, "login_throttled")
	})
}

// OWASP API6:2023 Unrestricted Access to Sensitive Business Flows: OTP.
func TestAPI6OneTimeCodes(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		const phone = "+919812345678"
		register(t, e, "", "98123 45678")
		sent, err := e.Svc.SendOTP(ctx, auth.SendOTPInput{Phone: "9812345678", Purpose: auth.PurposeLogin}, client("198.51.100.5"))
		if err != nil || sent.ExpiresIn != 300 || sent.ResendAfter != 60 {
			t.Fatalf("send: %+v %v", sent, err)
		}
		// Resend cooldown.
		_, err = e.Svc.SendOTP(ctx, auth.SendOTPInput{Phone: phone, Purpose: auth.PurposeLogin}, client("198.51.100.5"))
		wantCode(t, err, "otp_cooldown")
		// Stored hashed: the code is nowhere in the table.
		c := e.LastOTP(t, phone)
		var stored string
		if err := e.DB.QueryRow(ctx, `SELECT code_hash FROM otp_codes WHERE phone = ?`, phone).Scan(&stored); err != nil || strings.Contains(stored, c) {
			t.Fatalf("code stored in clear? %q %v", stored, err)
		}
		// Five wrong tries kill the code, even for the right one after.
		wrong := "000000"
		if c == wrong {
			wrong = "111111"
		}
		for i := 0; i < 5; i++ {
			_, err := e.Svc.VerifyOTP(ctx, auth.VerifyOTPInput{Phone: phone, Code: wrong, Purpose: auth.PurposeLogin}, client(""))
			wantCode(t, err, "invalid_otp")
		}
		_, err = e.Svc.VerifyOTP(ctx, auth.VerifyOTPInput{Phone: phone, Code: c, Purpose: auth.PurposeLogin}, client(""))
		wantCode(t, err, "invalid_otp")

		// verify_phone: the right code works once.
		if _, err := e.Svc.SendOTP(ctx, auth.SendOTPInput{Phone: phone, Purpose: auth.PurposeVerifyPhone}, client("198.51.100.5")); err != nil {
			t.Fatal(err)
		}
		c = e.LastOTP(t, phone)
		v, err := e.Svc.VerifyOTP(ctx, auth.VerifyOTPInput{Phone: phone, Code: c, Purpose: auth.PurposeVerifyPhone}, client(""))
		if err != nil || !v.Verified {
			t.Fatalf("verify phone: %+v %v", v, err)
		}
		_, err = e.Svc.VerifyOTP(ctx, auth.VerifyOTPInput{Phone: phone, Code: c, Purpose: auth.PurposeVerifyPhone}, client(""))
		wantCode(t, err, "invalid_otp")

		// reset_password: a reset token, then a new password; old sessions end.
		old, err := e.Svc.Login(ctx, auth.LoginInput{Phone: phone, Password: goodPassword}, client("198.51.100.5"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.SendOTP(ctx, auth.SendOTPInput{Phone: phone, Purpose: auth.PurposeResetPassword}, client("198.51.100.5")); err != nil {
			t.Fatal(err)
		}
		r, err := e.Svc.VerifyOTP(ctx, auth.VerifyOTPInput{Phone: phone, Code: e.LastOTP(t, phone), Purpose: auth.PurposeResetPassword}, client(""))
		if err != nil || r.ResetToken == "" {
			t.Fatalf("reset: %+v %v", r, err)
		}
		wantCode(t, e.Svc.ResetPassword(ctx, r.ResetToken, "short"), "invalid")
		if err := e.Svc.ResetPassword(ctx, r.ResetToken, "a brand new passphrase"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, e.Svc.ResetPassword(ctx, r.ResetToken, "another new passphrase"), "invalid_reset_token")
		if _, err := e.Svc.Verify(ctx, old.AccessToken); err == nil {
			t.Fatal("session survived a password reset")
		}
		if _, err := e.Svc.Login(ctx, auth.LoginInput{Phone: phone, Password: "a brand new passphrase"}, client("198.51.100.5")); err != nil {
			t.Fatalf("login with the new password: %v", err)
		}
		// A phone without an account gets the same answer and nothing is sent.
		before := countJobs(t, e)
		if _, err := e.Svc.SendOTP(ctx, auth.SendOTPInput{Phone: "+6281299998888", Purpose: auth.PurposeLogin}, client("198.51.100.5")); err != nil {
			t.Fatalf("unknown phone: %v", err)
		}
		if countJobs(t, e) != before {
			t.Fatal("a code was queued for a phone without an account")
		}
		// Codes expire after five minutes.
		const phone2 = "+919822223333"
		register(t, e, "", phone2)
		if _, err := e.Svc.SendOTP(ctx, auth.SendOTPInput{Phone: phone2, Purpose: auth.PurposeLogin}, client("198.51.100.6")); err != nil {
			t.Fatal(err)
		}
		c = e.LastOTP(t, phone2)
		e.Clock.Add(5*time.Minute + time.Second)
		_, err = e.Svc.VerifyOTP(ctx, auth.VerifyOTPInput{Phone: phone2, Code: c, Purpose: auth.PurposeLogin}, client(""))
		wantCode(t, err, "invalid_otp")
	})
}

func countJobs(t *testing.T, e *authtest.Env) int {
	t.Helper()
	var n int
	if err := e.DB.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'otp_delivery'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// OTP sign-in gives tokens and verifies the phone.
func TestOTPLogin(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		register(t, e, "", "+6281311112222")
		if _, err := e.Svc.SendOTP(ctx, auth.SendOTPInput{Phone: "081311112222", Purpose: auth.PurposeLogin}, client("198.51.100.7")); err != nil {
			t.Fatal(err)
		}
		v, err := e.Svc.VerifyOTP(ctx, auth.VerifyOTPInput{Phone: "+6281311112222", Code: e.LastOTP(t, "+6281311112222"), Purpose: auth.PurposeLogin}, client(""))
		if err != nil || v.Tokens == nil || v.AccessToken == "" || !v.User.PhoneVerified {
			t.Fatalf("otp login: %+v %v", v, err)
		}
	})
}

// OWASP API1:2023 Broken Object Level Authorization.
func TestAPI1ObjectLevelAuthorization(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		a := principal(t, e, register(t, e, "alice@example.com", ""))
		bTok := register(t, e, "bob@example.com", "")
		b := principal(t, e, bTok)
		if _, err := e.Svc.GetUser(ctx, a, b.UserID); code(err) != "not_found" {
			t.Fatalf("alice read bob: %v", err)
		}
		name := "Hacked"
		if _, err := e.Svc.UpdateUser(ctx, a, b.UserID, auth.UpdateUserInput{Name: &name}); code(err) != "not_found" {
			t.Fatalf("alice changed bob: %v", err)
		}
		if err := e.Svc.DeactivateUser(ctx, a, b.UserID); code(err) != "not_found" {
			t.Fatalf("alice deactivated bob: %v", err)
		}
		if _, err := e.Svc.ExportUser(ctx, a, b.UserID); code(err) != "not_found" {
			t.Fatalf("alice exported bob: %v", err)
		}
		if err := e.Svc.EraseUser(ctx, a, b.UserID); code(err) != "not_found" {
			t.Fatalf("alice erased bob: %v", err)
		}
		if _, err := e.Svc.GetPreferences(ctx, a, b.UserID); code(err) != "not_found" {
			t.Fatalf("alice read bob's preferences: %v", err)
		}
		if err := e.Svc.RevokeSession(ctx, a, bTok.SessionID); code(err) != "not_found" {
			t.Fatalf("alice ended bob's session: %v", err)
		}
		if _, err := e.Svc.Verify(ctx, bTok.AccessToken); err != nil {
			t.Fatal("bob's session was touched")
		}
		// Administrators may.
		_, admin := makeAdmin(t, e, "root@example.com", access.Admin)
		if u, err := e.Svc.GetUser(ctx, admin, b.UserID); err != nil || u.ID != b.UserID {
			t.Fatalf("admin read bob: %v", err)
		}
	})
}

// OWASP API3:2023 Broken Object Property Level Authorization: role and
// status cannot be set by their owner.
func TestAPI3PropertyLevelAuthorization(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		mTok := register(t, e, "m@example.com", "")
		m := principal(t, e, mTok)
		admin := access.Admin
		if _, err := e.Svc.UpdateUser(ctx, m, m.UserID, auth.UpdateUserInput{Role: &admin}); code(err) != "forbidden" {
			t.Fatalf("member made themselves admin: %v", err)
		}
		active := "deactivated"
		if _, err := e.Svc.UpdateUser(ctx, m, m.UserID, auth.UpdateUserInput{Status: &active}); code(err) != "forbidden" {
			t.Fatalf("member set their own status: %v", err)
		}
		name := "Mira"
		if _, err := e.Svc.GetUser(ctx, m, m.UserID); err != nil { // now cached
			t.Fatal(err)
		}
		if u, err := e.Svc.UpdateUser(ctx, m, m.UserID, auth.UpdateUserInput{Name: &name}); err != nil || u.Name != "Mira" {
			t.Fatalf("own name: %v", err)
		}
		if u, err := e.Svc.GetUser(ctx, m, m.UserID); err != nil || u.Name != "Mira" {
			t.Fatalf("a change on this node must show at once, got %q (%v)", u.Name, err)
		}
		// An admin gives a lower role; the user's sessions end so the new role applies.
		_, a := makeAdmin(t, e, "admin@example.com", access.Admin)
		counselor := access.Counselor
		u, err := e.Svc.UpdateUser(ctx, a, m.UserID, auth.UpdateUserInput{Role: &counselor})
		if err != nil || u.Role != access.Counselor {
			t.Fatalf("admin set role: %v", err)
		}
		if _, err := e.Svc.Verify(ctx, mTok.AccessToken); err == nil {
			t.Fatal("token with the old role still valid")
		}
		entries, _, _ := audit.List(ctx, e.DB, audit.Filter{Action: "user.role_changed", TargetID: m.UserID})
		if len(entries) != 1 || !strings.Contains(string(entries[0].Before), "member") || !strings.Contains(string(entries[0].After), "counselor") {
			t.Fatalf("role change audit: %+v", entries)
		}
		// An admin may not create super admins nor touch other admins.
		super := access.SuperAdmin
		if _, err := e.Svc.UpdateUser(ctx, a, m.UserID, auth.UpdateUserInput{Role: &super}); code(err) != "forbidden" {
			t.Fatalf("admin made a super admin: %v", err)
		}
		_, other := makeAdmin(t, e, "admin2@example.com", access.Admin)
		member := access.Member
		if _, err := e.Svc.UpdateUser(ctx, a, other.UserID, auth.UpdateUserInput{Role: &member}); code(err) != "forbidden" {
			t.Fatalf("admin demoted another admin: %v", err)
		}
		_, root := makeAdmin(t, e, "super@example.com", access.SuperAdmin)
		if _, err := e.Svc.UpdateUser(ctx, root, other.UserID, auth.UpdateUserInput{Role: &member}); err != nil {
			t.Fatalf("super admin demoting an admin: %v", err)
		}
	})
}

func TestSessionsListAndRevoke(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		t1 := register(t, e, "s@example.com", "")
		t2, err := e.Svc.Login(ctx, auth.LoginInput{Identifier: "s@example.com", Password: goodPassword}, auth.Client{IP: "198.51.100.77", UserAgent: "PersonaApp/2"})
		if err != nil {
			t.Fatal(err)
		}
		t3, _ := e.Svc.Login(ctx, auth.LoginInput{Identifier: "s@example.com", Password: goodPassword}, client("198.51.100.78"))
		p := principal(t, e, t2)
		list, err := e.Svc.Sessions(ctx, p)
		if err != nil || len(list) != 3 {
			t.Fatalf("sessions: %d %v", len(list), err)
		}
		current := 0
		for _, s := range list {
			if s.Current {
				current++
				if s.UserAgent != "PersonaApp/2" || s.IP != "198.51.100.77" {
					t.Fatalf("current session %+v", s)
				}
			}
		}
		if current != 1 {
			t.Fatalf("%d current sessions", current)
		}
		if err := e.Svc.RevokeSession(ctx, p, t1.SessionID); err != nil {
			t.Fatal(err)
		}
		if n, err := e.Svc.RevokeOtherSessions(ctx, p, false); err != nil || n != 1 {
			t.Fatalf("revoke others: %d %v", n, err)
		}
		if _, err := e.Svc.Verify(ctx, t3.AccessToken); err == nil {
			t.Fatal("other session survived")
		}
		if _, err := e.Svc.Verify(ctx, t2.AccessToken); err != nil {
			t.Fatal("current session ended")
		}
		if n, _ := e.Svc.RevokeOtherSessions(ctx, p, true); n != 1 {
			t.Fatalf("include_current ended %d", n)
		}
		if _, err := e.Svc.Verify(ctx, t2.AccessToken); err == nil {
			t.Fatal("current session survived include_current")
		}
	})
}

func TestChangePasswordAndDeactivate(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		t1 := register(t, e, "p@example.com", "")
		t2, _ := e.Svc.Login(ctx, auth.LoginInput{Identifier: "p@example.com", Password: goodPassword}, client("198.51.100.8"))
		p := principal(t, e, t1)
		wantCode(t, e.Svc.ChangePassword(ctx, p, "wrong one", "new passphrase here"), "invalid_credentials")
		wantCode(t, e.Svc.ChangePassword(ctx, p, goodPassword, goodPassword), "invalid")
		if err := e.Svc.ChangePassword(ctx, p, goodPassword, "new passphrase here"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.Verify(ctx, t2.AccessToken); err == nil {
			t.Fatal("other session survived a password change")
		}
		if err := e.Svc.DeactivateUser(ctx, p, p.UserID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.Verify(ctx, t1.AccessToken); err == nil {
			t.Fatal("session survived deactivation")
		}
		_, err := e.Svc.Login(ctx, auth.LoginInput{Identifier: "p@example.com", Password: "new passphrase here"}, client("198.51.100.8"))
		wantCode(t, err, "invalid_credentials")
	})
}

func TestExportAndErasure(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		tok := register(t, e, "x@example.com", "+6281355556666")
		p := principal(t, e, tok)
		ex, err := e.Svc.ExportUser(ctx, p, p.UserID)
		if err != nil || *ex.User.Email != "x@example.com" || len(ex.Sessions) != 1 || len(ex.Audit) == 0 || ex.Preferences.TimeZone != "Asia/Jakarta" {
			t.Fatalf("export %+v %v", ex, err)
		}
		if err := e.Svc.EraseUser(ctx, p, p.UserID); err != nil {
			t.Fatal(err)
		}
		_, admin := makeAdmin(t, e, "dpo@example.com", access.Admin)
		u, err := e.Svc.GetUser(ctx, admin, p.UserID)
		if err != nil || u.Email != nil || u.Phone != nil || u.Name != "Deleted user" || u.Status != "erased" || u.HasPassword {
			t.Fatalf("after erasure: %+v %v", u, err)
		}
		if _, err := e.Svc.Verify(ctx, tok.AccessToken); err == nil {
			t.Fatal("session survived erasure")
		}
		// The address is free again.
		register(t, e, "x@example.com", "+6281355556666")
	})
}

func TestSearchUsers(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		for _, n := range []string{"ana", "budi", "citra", "dewi", "eka"} {
			register(t, e, n+"@example.com", "")
		}
		page1, err := e.Svc.SearchUsers(ctx, auth.SearchInput{Sort: "name", Limit: 2})
		if err != nil || len(page1.Users) != 2 || page1.NextCursor == "" {
			t.Fatalf("page 1: %+v %v", page1, err)
		}
		var names []string
		cursor := ""
		for {
			pg, err := e.Svc.SearchUsers(ctx, auth.SearchInput{Sort: "-created_at", Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range pg.Users {
				names = append(names, *u.Email)
			}
			if cursor = pg.NextCursor; cursor == "" {
				break
			}
		}
		if len(names) != 5 || names[0] != "eka@example.com" || names[4] != "ana@example.com" {
			t.Fatalf("newest first over pages: %v", names)
		}
		hit, _ := e.Svc.SearchUsers(ctx, auth.SearchInput{Q: "CITRA"})
		if len(hit.Users) != 1 {
			t.Fatalf("text search: %d", len(hit.Users))
		}
		none, _ := e.Svc.SearchUsers(ctx, auth.SearchInput{Q: "%"})
		if len(none.Users) != 0 {
			t.Fatalf("LIKE wildcard not escaped: %d", len(none.Users))
		}
		members, _ := e.Svc.SearchUsers(ctx, auth.SearchInput{Role: "member", Status: "active"})
		if len(members.Users) != 5 {
			t.Fatalf("filters: %d", len(members.Users))
		}
		if _, err := e.Svc.SearchUsers(ctx, auth.SearchInput{Cursor: "garbage!"}); code(err) != "invalid" {
			t.Fatalf("bad cursor: %v", err)
		}
	})
}

func TestPreferences(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		p := principal(t, e, register(t, e, "", "+919811112222"))
		got, err := e.Svc.GetPreferences(ctx, p, p.UserID)
		if err != nil || got.TimeZone != "Asia/Kolkata" || !got.Channels.Push {
			t.Fatalf("defaults %+v %v", got, err)
		}
		in := auth.Preferences{Channels: auth.Channels{WhatsApp: true}, Language: "hi", TimeZone: "Asia/Kolkata", QuietHours: &auth.QuietHours{Start: "22:00", End: "07:00"}}
		if _, err := e.Svc.PutPreferences(ctx, p, p.UserID, in); err != nil {
			t.Fatal(err)
		}
		got, _ = e.Svc.GetPreferences(ctx, p, p.UserID)
		if got.Language != "hi" || got.Channels.Push || !got.Channels.WhatsApp || got.QuietHours == nil || got.QuietHours.End != "07:00" {
			t.Fatalf("round trip %+v", got)
		}
		in.TimeZone = "Mars/Olympus"
		if _, err := e.Svc.PutPreferences(ctx, p, p.UserID, in); code(err) != "invalid" {
			t.Fatalf("bad zone: %v", err)
		}
	})
}

func TestFeatureFlags(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		e.Svc.SetFlagDefaults(map[string]bool{"dark_mode": true, "voice_notes": false})
		m := principal(t, e, register(t, e, "f@example.com", ""))
		mctx := access.WithPrincipal(ctx, m)
		flags, tag1, err := e.Svc.EvaluateFlags(mctx)
		if err != nil || !flags["dark_mode"] || flags["voice_notes"] {
			t.Fatalf("defaults %v %v", flags, err)
		}
		_, tag2, _ := e.Svc.EvaluateFlags(mctx)
		if tag1 != tag2 {
			t.Fatal("ETag not stable")
		}
		_, admin := makeAdmin(t, e, "flags@example.com", access.Admin)
		actx := access.WithPrincipal(ctx, admin)
		if _, err := e.Svc.PutFlag(actx, "voice_notes", auth.FlagInput{Enabled: true, Roles: []access.Role{access.Agent}}); err != nil {
			t.Fatal(err)
		}
		flags, tag3, _ := e.Svc.EvaluateFlags(mctx)
		if flags["voice_notes"] || tag3 != tag1 {
			t.Fatalf("role targeting: %v (tag changed: %v)", flags, tag3 != tag1)
		}
		if _, err := e.Svc.PutFlag(actx, "voice_notes", auth.FlagInput{Enabled: true}); err != nil {
			t.Fatal(err)
		}
		flags, tag4, _ := e.Svc.EvaluateFlags(mctx)
		if !flags["voice_notes"] || tag4 == tag1 {
			t.Fatalf("override: %v", flags)
		}
		// Percentage rollout: about the share asked for, and stable per user.
		half := 50
		if _, err := e.Svc.PutFlag(actx, "new_home", auth.FlagInput{Enabled: true, RolloutPercent: &half}); err != nil {
			t.Fatal(err)
		}
		on := 0
		for i := 0; i < 400; i++ {
			p := access.Principal{UserID: "user-" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Role: access.Member}
			f1, _, _ := e.Svc.EvaluateFlags(access.WithPrincipal(ctx, p))
			f2, _, _ := e.Svc.EvaluateFlags(access.WithPrincipal(ctx, p))
			if f1["new_home"] != f2["new_home"] {
				t.Fatal("rollout not stable per user")
			}
			if f1["new_home"] {
				on++
			}
		}
		if on < 140 || on > 260 {
			t.Fatalf("50%% rollout gave %d of 400", on)
		}
		anon, _, _ := e.Svc.EvaluateFlags(ctx)
		if anon["new_home"] || !anon["dark_mode"] {
			t.Fatalf("anonymous: %v", anon)
		}
		if err := e.Svc.DeleteFlag(actx, "voice_notes"); err != nil {
			t.Fatal(err)
		}
		flags, _, _ = e.Svc.EvaluateFlags(mctx)
		if flags["voice_notes"] {
			t.Fatal("environment default not restored after delete")
		}
		entries, _, _ := audit.List(ctx, e.DB, audit.Filter{Action: "flag."})
		if len(entries) != 4 {
			t.Fatalf("flag changes audited: %d, want 4", len(entries))
		}
		if _, err := e.Svc.PutFlag(actx, "Bad Key", auth.FlagInput{}); code(err) != "invalid" {
			t.Fatalf("bad key: %v", err)
		}
	})
}

func TestKeyRotation(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		old := register(t, e, "k@example.com", "")
		kid, err := e.Svc.Keys.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.Verify(ctx, old.AccessToken); err != nil {
			t.Fatalf("token of the previous key refused after rotation: %v", err)
		}
		fresh, err := e.Svc.Login(ctx, auth.LoginInput{Identifier: "k@example.com", Password: goodPassword}, client("198.51.100.1"))
		if err != nil {
			t.Fatal(err)
		}
		head, _ := base64.RawURLEncoding.DecodeString(strings.Split(fresh.AccessToken, ".")[0])
		if !strings.Contains(string(head), kid) {
			t.Fatalf("new tokens not signed with the new key: %s", head)
		}
		var set struct {
			Keys []map[string]any `json:"keys"`
		}
		if err := json.Unmarshal(e.Svc.Keys.JWKS(), &set); err != nil || len(set.Keys) != 2 {
			t.Fatalf("JWKS has %d keys (%v), want both", len(set.Keys), err)
		}
		for _, k := range set.Keys {
			if _, private := k["d"]; private {
				t.Fatal("private key material in the JWKS")
			}
		}
		// The private key is stored sealed.
		var stored string
		if err := e.DB.QueryRow(ctx, `SELECT private_key FROM signing_keys WHERE kid = ?`, kid).Scan(&stored); err != nil || strings.Contains(stored, "BEGIN") || !strings.HasPrefix(stored, "t1.") {
			t.Fatalf("private key stored as %q", stored[:min(20, len(stored))])
		}
	})
}

// Unknown accounts cost the same password hash as wrong passwords, so
// timing does not tell them apart. Measured with the production hash cost;
// medians of several tries, compared with a wide margin.
func TestAPI2LoginTimingUnknownVersusWrong(t *testing.T) {
	e := authtest.New(t, dbtest.SQLite(t), authtest.Memory)
	prod := auth.NewService(e.Svc.Deps, auth.Options{}) // default argon2id cost
	if _, err := prod.Register(ctx, auth.RegisterInput{Email: "timing@example.com", Password: goodPassword, Name: "T"}, client("198.51.100.1")); err != nil {
		t.Fatal(err)
	}
	median := func(identifier string) time.Duration {
		var ds []time.Duration
		for i := 0; i < 5; i++ {
			start := time.Now()
			_, err := prod.Login(ctx, auth.LoginInput{Identifier: identifier, Password: "wrong wrong wrong"}, client(fmt.Sprintf("203.0.113.%d", 100+i)))
			ds = append(ds, time.Since(start))
			wantCode(t, err, "invalid_credentials")
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[2]
	}
	known, unknown := median("timing@example.com"), median("nobody-here@example.com")
	t.Logf("median wrong password %v, unknown account %v", known, unknown)
	if unknown < known/2 || unknown > known*2 {
		t.Fatalf("timings differ: wrong password %v, unknown account %v", known, unknown)
	}
}

// OWASP API5/API3: an administrator cannot change the email or phone (the
// way to a reset code) of someone at or above their rank.
func TestAdminCannotTakeOverHigherAccounts(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		_, a := makeAdmin(t, e, "a1@example.com", access.Admin)
		_, root := makeAdmin(t, e, "root@example.com", access.SuperAdmin)
		_, peer := makeAdmin(t, e, "a2@example.com", access.Admin)
		phone := "+6281200001111"
		for _, target := range []access.Principal{root, peer} {
			if _, err := e.Svc.UpdateUser(ctx, a, target.UserID, auth.UpdateUserInput{Phone: &phone}); code(err) != "forbidden" {
				t.Fatalf("admin changed %s's phone: %v", target.Role, err)
			}
			if _, err := e.Svc.PutPreferences(ctx, a, target.UserID, auth.Preferences{Language: "en", TimeZone: "UTC"}); code(err) != "forbidden" {
				t.Fatalf("admin changed %s's preferences: %v", target.Role, err)
			}
		}
		m := principal(t, e, register(t, e, "member@example.com", ""))
		if _, err := e.Svc.UpdateUser(ctx, a, m.UserID, auth.UpdateUserInput{Phone: &phone}); err != nil {
			t.Fatalf("admin fixing a member's phone: %v", err)
		}
	})
}

// Concurrent tries cannot share the attempt budget or use a code twice.
func TestOTPUnderConcurrency(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		const phone = "+6281377778888"
		register(t, e, "", phone)
		if _, err := e.Svc.SendOTP(ctx, auth.SendOTPInput{Phone: phone, Purpose: auth.PurposeLogin}, client("198.51.100.60")); err != nil {
			t.Fatal(err)
		}
		good := e.LastOTP(t, phone)
		var wg sync.WaitGroup
		var mu sync.Mutex
		successes := 0
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.Svc.VerifyOTP(ctx, auth.VerifyOTPInput{Phone: phone, Code: good, Purpose: auth.PurposeLogin}, client("")); err == nil {
					mu.Lock()
					successes++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if successes != 1 {
			t.Fatalf("one code signed in %d times", successes)
		}
		var attempts int
		if err := e.DB.QueryRow(ctx, `SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.phone = ?`, phone).Scan(&attempts); err != nil || attempts != 2 {
			t.Fatalf("%d sessions (register + one OTP sign-in expected): %v", attempts, err)
		}
	})
}

// A successful sign-in clears the failures of that device.
func TestSuccessClearsFailures(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		register(t, e, "typo@example.com", "")
		c := client("198.51.100.61")
		bad := auth.LoginInput{Identifier: "typo@example.com", Password: "almost right pw"}
		good := auth.LoginInput{Identifier: "typo@example.com", Password: goodPassword}
		_, _ = e.Svc.Login(ctx, bad, c)
		_, _ = e.Svc.Login(ctx, bad, c)
		if _, err := e.Svc.Login(ctx, good, c); err != nil {
			t.Fatal(err)
		}
		_, _ = e.Svc.Login(ctx, bad, c)
		if _, err := e.Svc.Login(ctx, good, c); err != nil {
			t.Fatalf("after 2 typos, a success and 1 typo: %v", err)
		}
	})
}

func TestCleanupJob(t *testing.T) {
	authtest.Each(t, func(t *testing.T, e *authtest.Env) {
		tok := register(t, e, "clean@example.com", "")
		r1, _ := e.Svc.Refresh(ctx, tok.RefreshToken, client(""))
		if _, err := e.Svc.Refresh(ctx, r1.RefreshToken, client("")); err != nil {
			t.Fatal(err)
		}
		e.Clock.Add(25 * time.Hour)
		if err := (&auth.CleanupWorker{Service: e.Svc}).Work(ctx, nil); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := e.DB.QueryRow(ctx, `SELECT count(*) FROM refresh_tokens WHERE session_id = ?`, tok.SessionID).Scan(&n); err != nil || n != 2 {
			t.Fatalf("%d refresh tokens kept (%v), want the current and the previous", n, err)
		}
	})
}
