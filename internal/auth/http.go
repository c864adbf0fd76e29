package auth

import (
	"context"
	"net/http"
	"strings"

	"mitra/internal/platform/access"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/httpx"
)

// Handlers are the HTTP operations of identity and access, in huma's
// typed form. server/routes.go registers them with their permissions.
type Handlers struct{ S *Service }

// clientOf describes the caller for the session list.
func clientOf(ctx context.Context, userAgent string) Client {
	c := Client{UserAgent: userAgent}
	if ip := httpx.ClientIP(ctx); ip.IsValid() {
		c.IP = ip.String()
	}
	return c
}

// caller returns the authenticated principal; routes that need one are
// guarded before the handler runs, so a missing one is a wiring bug.
func caller(ctx context.Context) (access.Principal, error) {
	p, ok := access.From(ctx)
	if !ok {
		return p, ErrTokenInvalid
	}
	return p, nil
}

// TokensOutput answers with tokens.
type TokensOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         *Tokens
}

func tokensOut(t *Tokens) *TokensOutput { return &TokensOutput{CacheControl: "no-store", Body: t} }

// RegisterRequest is POST /api/v1/auth/register.
type RegisterRequest struct {
	UserAgent string `header:"User-Agent"`
	Body      RegisterInput
}

// RegisterOutput is the 201 answer.
type RegisterOutput struct {
	Status       int
	CacheControl string `header:"Cache-Control"`
	Body         *Tokens
}

// Register creates an account.
func (h Handlers) Register(ctx context.Context, in *RegisterRequest) (*RegisterOutput, error) {
	t, err := h.S.Register(ctx, in.Body, clientOf(ctx, in.UserAgent))
	if err != nil {
		return nil, err
	}
	httpx.SetUser(ctx, t.User.ID)
	return &RegisterOutput{Status: http.StatusCreated, CacheControl: "no-store", Body: t}, nil
}

// LoginRequest is POST /api/v1/auth/login.
type LoginRequest struct {
	UserAgent string `header:"User-Agent"`
	Body      LoginInput
}

// Login signs in with a password.
func (h Handlers) Login(ctx context.Context, in *LoginRequest) (*TokensOutput, error) {
	t, err := h.S.Login(ctx, in.Body, clientOf(ctx, in.UserAgent))
	if err != nil {
		return nil, err
	}
	httpx.SetUser(ctx, t.User.ID)
	return tokensOut(t), nil
}

// SendOTPRequest is POST /api/v1/auth/send-otp.
type SendOTPRequest struct{ Body SendOTPInput }

// SendOTPOutput is the 202 answer.
type SendOTPOutput struct {
	Status int
	Body   *OTPSent
}

// SendOTP asks for a one-time code.
func (h Handlers) SendOTP(ctx context.Context, in *SendOTPRequest) (*SendOTPOutput, error) {
	out, err := h.S.SendOTP(ctx, in.Body, clientOf(ctx, ""))
	if err != nil {
		return nil, err
	}
	return &SendOTPOutput{Status: http.StatusAccepted, Body: out}, nil
}

// VerifyOTPRequest is POST /api/v1/auth/verify-otp.
type VerifyOTPRequest struct {
	UserAgent string `header:"User-Agent"`
	Body      VerifyOTPInput
}

// VerifyOTPOutput answers a correct code.
type VerifyOTPOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         *OTPVerified
}

// VerifyOTP checks a one-time code.
func (h Handlers) VerifyOTP(ctx context.Context, in *VerifyOTPRequest) (*VerifyOTPOutput, error) {
	out, err := h.S.VerifyOTP(ctx, in.Body, clientOf(ctx, in.UserAgent))
	if err != nil {
		return nil, err
	}
	return &VerifyOTPOutput{CacheControl: "no-store", Body: out}, nil
}

// RefreshRequest is POST /api/v1/auth/refresh.
type RefreshRequest struct {
	UserAgent string `header:"User-Agent"`
	Body      struct {
		RefreshToken string `json:"refresh_token" minLength:"1" maxLength:"200"`
	}
}

// Refresh rotates a refresh token.
func (h Handlers) Refresh(ctx context.Context, in *RefreshRequest) (*TokensOutput, error) {
	t, err := h.S.Refresh(ctx, in.Body.RefreshToken, clientOf(ctx, in.UserAgent))
	if err != nil {
		return nil, err
	}
	httpx.SetUser(ctx, t.User.ID)
	return tokensOut(t), nil
}

// NoContent is an empty 204 answer.
type NoContent struct{}

// Logout ends the caller's session.
func (h Handlers) Logout(ctx context.Context, _ *struct{}) (*NoContent, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return nil, h.S.Logout(ctx, p)
}

// UserOutput answers with a user.
type UserOutput struct{ Body *User }

// Me returns the caller's account.
func (h Handlers) Me(ctx context.Context, _ *struct{}) (*UserOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	u, err := h.S.GetUser(ctx, p, p.UserID)
	if err != nil {
		return nil, err
	}
	return &UserOutput{Body: u}, nil
}

// ChangePasswordRequest is POST /api/v1/auth/password.
type ChangePasswordRequest struct {
	Body struct {
		CurrentPassword string `json:"current_password" maxLength:"1024" doc:"May be empty for accounts created by one-time code without a password"`
		NewPassword     string `json:"new_password" minLength:"1" maxLength:"1024"`
	}
}

// ChangePassword changes the caller's password.
func (h Handlers) ChangePassword(ctx context.Context, in *ChangePasswordRequest) (*NoContent, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return nil, h.S.ChangePassword(ctx, p, in.Body.CurrentPassword, in.Body.NewPassword)
}

// ResetPasswordRequest is POST /api/v1/auth/password/reset.
type ResetPasswordRequest struct {
	Body struct {
		ResetToken  string `json:"reset_token" minLength:"1" maxLength:"200"`
		NewPassword string `json:"new_password" minLength:"1" maxLength:"1024"`
	}
}

// ResetPassword sets a new password with a reset token.
func (h Handlers) ResetPassword(ctx context.Context, in *ResetPasswordRequest) (*NoContent, error) {
	return nil, h.S.ResetPassword(ctx, in.Body.ResetToken, in.Body.NewPassword)
}

// SessionsOutput lists sessions.
type SessionsOutput struct {
	Body struct {
		Sessions []SessionInfo `json:"sessions"`
	}
}

// Sessions lists the caller's sessions.
func (h Handlers) Sessions(ctx context.Context, _ *struct{}) (*SessionsOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	list, err := h.S.Sessions(ctx, p)
	if err != nil {
		return nil, err
	}
	out := &SessionsOutput{}
	out.Body.Sessions = list
	return out, nil
}

// SessionPath names a session.
type SessionPath struct {
	SessionID string `path:"session_id" maxLength:"36"`
}

// RevokeSession ends one of the caller's sessions.
func (h Handlers) RevokeSession(ctx context.Context, in *SessionPath) (*NoContent, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return nil, h.S.RevokeSession(ctx, p, in.SessionID)
}

// RevokeSessionsRequest is DELETE /api/v1/auth/sessions.
type RevokeSessionsRequest struct {
	IncludeCurrent bool `query:"include_current" doc:"Also end the session making this call"`
}

// RevokedOutput says how many sessions ended.
type RevokedOutput struct {
	Body struct {
		Revoked int `json:"revoked"`
	}
}

// RevokeSessions ends the caller's other sessions.
func (h Handlers) RevokeSessions(ctx context.Context, in *RevokeSessionsRequest) (*RevokedOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	n, err := h.S.RevokeOtherSessions(ctx, p, in.IncludeCurrent)
	if err != nil {
		return nil, err
	}
	out := &RevokedOutput{}
	out.Body.Revoked = n
	return out, nil
}

// JWKSOutput is the public key set.
type JWKSOutput struct {
	ContentType  string `header:"Content-Type"`
	CacheControl string `header:"Cache-Control"`
	Body         []byte
}

// JWKS serves the public keys that verify access tokens.
func (h Handlers) JWKS(ctx context.Context, _ *struct{}) (*JWKSOutput, error) {
	return &JWKSOutput{ContentType: "application/jwk-set+json", CacheControl: "public, max-age=300", Body: h.S.Keys.JWKS()}, nil
}

// UserPath names a user.
type UserPath struct {
	UserID string `path:"user_id" maxLength:"36" example:"0193a0c4-6f1e-7c5e-9d2a-3b8f1f0e9a11"`
}

// GetUser returns a user.
func (h Handlers) GetUser(ctx context.Context, in *UserPath) (*UserOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	u, err := h.S.GetUser(ctx, p, in.UserID)
	if err != nil {
		return nil, err
	}
	return &UserOutput{Body: u}, nil
}

// UpdateUserRequest is PUT /api/v1/users/{user_id}.
type UpdateUserRequest struct {
	UserPath
	Body UpdateUserInput
}

// UpdateUser changes a user.
func (h Handlers) UpdateUser(ctx context.Context, in *UpdateUserRequest) (*UserOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	u, err := h.S.UpdateUser(ctx, p, in.UserID, in.Body)
	if err != nil {
		return nil, err
	}
	return &UserOutput{Body: u}, nil
}

// DeleteUser deactivates a user.
func (h Handlers) DeleteUser(ctx context.Context, in *UserPath) (*NoContent, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return nil, h.S.DeactivateUser(ctx, p, in.UserID)
}

// SearchUsersOutput is a page of users.
type SearchUsersOutput struct{ Body *UserPage }

// SearchUsers lists users (administrators).
func (h Handlers) SearchUsers(ctx context.Context, in *SearchInput) (*SearchUsersOutput, error) {
	page, err := h.S.SearchUsers(ctx, *in)
	if err != nil {
		return nil, err
	}
	return &SearchUsersOutput{Body: page}, nil
}

// PreferencesOutput answers with preferences.
type PreferencesOutput struct{ Body *Preferences }

// GetPreferences returns a user's preferences.
func (h Handlers) GetPreferences(ctx context.Context, in *UserPath) (*PreferencesOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	prefs, err := h.S.GetPreferences(ctx, p, in.UserID)
	if err != nil {
		return nil, err
	}
	return &PreferencesOutput{Body: prefs}, nil
}

// PutPreferencesRequest is PUT /api/v1/users/{user_id}/preferences.
type PutPreferencesRequest struct {
	UserPath
	Body Preferences
}

// PutPreferences replaces a user's preferences.
func (h Handlers) PutPreferences(ctx context.Context, in *PutPreferencesRequest) (*PreferencesOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	prefs, err := h.S.PutPreferences(ctx, p, in.UserID, in.Body)
	if err != nil {
		return nil, err
	}
	return &PreferencesOutput{Body: prefs}, nil
}

// ExportOutput is a user's data.
type ExportOutput struct {
	CacheControl       string `header:"Cache-Control"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               *Export
}

// Export returns all of a user's data as JSON.
func (h Handlers) Export(ctx context.Context, in *UserPath) (*ExportOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	e, err := h.S.ExportUser(ctx, p, in.UserID)
	if err != nil {
		return nil, err
	}
	return &ExportOutput{CacheControl: "no-store", ContentDisposition: `attachment; filename="mitra-export-` + in.UserID + `.json"`, Body: e}, nil
}

// Erase anonymises a user on request.
func (h Handlers) Erase(ctx context.Context, in *UserPath) (*NoContent, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return nil, h.S.EraseUser(ctx, p, in.UserID)
}

// AuditRequest filters the audit log.
type AuditRequest struct {
	ActorID  string `query:"actor_id" maxLength:"36"`
	TargetID string `query:"target_id" maxLength:"100"`
	Action   string `query:"action" maxLength:"100" doc:"Exact action, or a prefix ending in '.' (auth.)"`
	From     string `query:"from" format:"date-time"`
	To       string `query:"to" format:"date-time"`
	Limit    int    `query:"limit" minimum:"1" maximum:"100" default:"50"`
	Cursor   string `query:"cursor" maxLength:"500"`
}

// AuditOutput is a page of the audit log.
type AuditOutput struct {
	Body struct {
		Entries    []audit.Stored `json:"entries"`
		NextCursor string         `json:"next_cursor,omitempty"`
	}
}

// Audit lists the audit log (administrators).
func (h Handlers) Audit(ctx context.Context, in *AuditRequest) (*AuditOutput, error) {
	f := audit.Filter{ActorID: in.ActorID, TargetID: in.TargetID, Action: in.Action, Limit: in.Limit, Cursor: in.Cursor}
	var err error
	if f.From, err = httpx.ParseTime("query.from", in.From); err != nil {
		return nil, err
	}
	if f.To, err = httpx.ParseTime("query.to", in.To); err != nil {
		return nil, err
	}
	entries, next, err := audit.List(ctx, h.S.DB, f)
	if err != nil {
		return nil, err
	}
	out := &AuditOutput{}
	out.Body.Entries, out.Body.NextCursor = entries, next
	if out.Body.Entries == nil {
		out.Body.Entries = []audit.Stored{}
	}
	return out, nil
}

// FlagsRequest may carry the tag of the flags the app already has.
type FlagsRequest struct {
	IfNoneMatch string `header:"If-None-Match"`
}

// FlagsOutput is the caller's flags, or 304 when unchanged.
type FlagsOutput struct {
	Status       int
	ETag         string `header:"ETag"`
	CacheControl string `header:"Cache-Control"`
	Body         *struct {
		Flags map[string]bool `json:"flags" example:"{\"persona_voice_notes\":true}"`
	}
}

// EvaluateFlags returns the caller's feature flags with an ETag.
func (h Handlers) EvaluateFlags(ctx context.Context, in *FlagsRequest) (*FlagsOutput, error) {
	flags, tag, err := h.S.EvaluateFlags(ctx)
	if err != nil {
		return nil, err
	}
	out := &FlagsOutput{Status: http.StatusOK, ETag: tag, CacheControl: "private, no-cache"}
	if etagMatches(in.IfNoneMatch, tag) {
		out.Status = http.StatusNotModified
		return out, nil
	}
	out.Body = &struct {
		Flags map[string]bool `json:"flags" example:"{\"persona_voice_notes\":true}"`
	}{Flags: flags}
	return out, nil
}

func etagMatches(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == tag || t == "*" {
			return true
		}
	}
	return false
}

// FlagListOutput lists every flag definition.
type FlagListOutput struct {
	Body struct {
		Flags []Flag `json:"flags"`
	}
}

// ListFlags lists flag definitions (administrators).
func (h Handlers) ListFlags(ctx context.Context, _ *struct{}) (*FlagListOutput, error) {
	flags, err := h.S.Flags(ctx)
	if err != nil {
		return nil, err
	}
	out := &FlagListOutput{}
	out.Body.Flags = flags
	return out, nil
}

// FlagPath names a flag.
type FlagPath struct {
	Key string `path:"key" maxLength:"63" example:"persona_voice_notes"`
}

// PutFlagRequest is PUT /api/v1/feature-flags/definitions/{key}.
type PutFlagRequest struct {
	FlagPath
	Body FlagInput
}

// FlagOutput answers with one flag.
type FlagOutput struct{ Body *Flag }

// PutFlag creates or replaces a flag (administrators).
func (h Handlers) PutFlag(ctx context.Context, in *PutFlagRequest) (*FlagOutput, error) {
	f, err := h.S.PutFlag(ctx, in.Key, in.Body)
	if err != nil {
		return nil, err
	}
	return &FlagOutput{Body: f}, nil
}

// DeleteFlag removes a flag's database definition (administrators).
func (h Handlers) DeleteFlag(ctx context.Context, in *FlagPath) (*NoContent, error) {
	return nil, h.S.DeleteFlag(ctx, in.Key)
}
