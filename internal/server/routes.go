package server

import (
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"mitra/internal/ai"
	"mitra/internal/auth"
	"mitra/internal/insurance"
	"mitra/internal/persona"
	"mitra/internal/platform/access"
)

// routes lists the whole API surface. Each line names the method, path and
// handler; later groups add the permission each route requires.
func (s *Server) routes() {
	// Health (PRODUCT.md P2). Public: they reveal no personal data.
	huma.Register(s.api, op(http.MethodGet, "/health", "liveness-root", "Liveness", tagHealth), s.liveness)
	huma.Register(s.api, op(http.MethodGet, "/api/v1/health", "liveness", "Liveness", tagHealth), s.liveness)
	huma.Register(s.api, op(http.MethodGet, "/api/v1/health/ready", "readiness", "Readiness: database and Redis reachable", tagHealth, http.StatusServiceUnavailable), s.readiness)
	huma.Register(s.api, op(http.MethodGet, "/api/v1/health/database", "health-database", "Database ping time and pool statistics", tagHealth, http.StatusServiceUnavailable), s.healthDatabase)
	huma.Register(s.api, op(http.MethodGet, "/api/v1/health/system", "health-system", "CPU, memory, disk, goroutines and uptime", tagHealth), s.healthSystem)
	huma.Register(s.api, op(http.MethodGet, "/api/v1/health/comprehensive", "health-comprehensive", "Every component: database, Redis, job queue, AI upstream, system", tagHealth), s.healthComprehensive)

	// Service description.
	huma.Register(s.api, op(http.MethodGet, "/api/v1/meta", "meta", "Service name, version and enabled products", tagMeta), s.meta)

	// Identity (PRODUCT.md P4): method, path, operation, permission, rate class.
	a := auth.Handlers{S: s.deps.Auth}
	route(s, op(post, "/api/v1/auth/register", "auth-register", "Create an account", tagAuth, 409, 422), access.Public, RateAuth, a.Register)
	route(s, op(post, "/api/v1/auth/login", "auth-login", "Sign in with email, phone or agent code and password", tagAuth, 401, 403, 422), access.Public, RateAuth, a.Login)
	route(s, op(post, "/api/v1/auth/send-otp", "auth-send-otp", "Send a one-time code by SMS", tagAuth, 422), access.Public, RateOTP, a.SendOTP)
	route(s, op(post, "/api/v1/auth/verify-otp", "auth-verify-otp", "Check a one-time code: sign in, verify the phone or start a password reset", tagAuth, 400, 403, 422), access.Public, RateOTP, a.VerifyOTP)
	route(s, op(post, "/api/v1/auth/refresh", "auth-refresh", "Exchange a refresh token for new tokens (rotating it)", tagAuth, 422), access.Public, RateAuth, a.Refresh)
	route(s, op(post, "/api/v1/auth/password/reset", "auth-password-reset", "Set a new password with a reset token", tagAuth, 400, 422), access.Public, RateAuth, a.ResetPassword)
	route(s, op(post, "/api/v1/auth/logout", "auth-logout", "End the current session", tagAuth), access.Authenticated, RateDefault, a.Logout)
	route(s, op(get, "/api/v1/auth/me", "auth-me", "The signed-in account", tagAuth), access.Authenticated, RateDefault, a.Me)
	route(s, op(post, "/api/v1/auth/password", "auth-password-change", "Change the password (ends other sessions)", tagAuth, 422), access.Authenticated, RateAuth, a.ChangePassword)
	route(s, op(get, "/api/v1/auth/sessions", "auth-sessions", "The signed-in user's sessions (devices)", tagAuth), access.Authenticated, RateDefault, a.Sessions)
	route(s, op(http.MethodDelete, "/api/v1/auth/sessions/{session_id}", "auth-session-revoke", "End one session", tagAuth, 404), access.Authenticated, RateDefault, a.RevokeSession)
	route(s, op(http.MethodDelete, "/api/v1/auth/sessions", "auth-sessions-revoke", "End all other sessions (all with include_current)", tagAuth), access.Authenticated, RateDefault, a.RevokeSessions)
	route(s, op(get, "/.well-known/jwks.json", "jwks", "Public keys that verify access tokens", tagAuth), access.Public, RateNone, a.JWKS)

	// Users (P5). Ownership (self or administrator) is checked by the service.
	route(s, op(get, "/api/v1/users/search", "users-search", "Search users", tagUsers, 422), access.UsersSearch, RateDefault, a.SearchUsers)
	route(s, op(get, "/api/v1/users/{user_id}", "users-get", "A user (yourself, or anyone for administrators)", tagUsers, 404), access.Authenticated, RateDefault, a.GetUser)
	route(s, op(put, "/api/v1/users/{user_id}", "users-update", "Change a user (role and status: administrators)", tagUsers, 404, 409, 422), access.Authenticated, RateDefault, a.UpdateUser)
	route(s, op(http.MethodDelete, "/api/v1/users/{user_id}", "users-deactivate", "Deactivate a user and end their sessions", tagUsers, 404), access.Authenticated, RateDefault, a.DeleteUser)
	route(s, op(get, "/api/v1/users/{user_id}/preferences", "users-preferences-get", "Notification and locale preferences", tagUsers, 404), access.Authenticated, RateDefault, a.GetPreferences)
	route(s, op(put, "/api/v1/users/{user_id}/preferences", "users-preferences-put", "Replace preferences", tagUsers, 404, 422), access.Authenticated, RateDefault, a.PutPreferences)
	route(s, op(get, "/api/v1/users/{user_id}/export", "users-export", "All of a user's data as JSON", tagUsers, 404), access.Authenticated, RateAuth, a.Export)
	route(s, op(post, "/api/v1/users/{user_id}/erasure", "users-erase", "Erase (anonymise) a user's account", tagUsers, 404), access.Authenticated, RateAuth, a.Erase)

	// Audit (P9) and feature flags (P10).
	route(s, op(get, "/api/v1/audit", "audit-list", "The audit log, newest first", tagAdmin, 422), access.AuditRead, RateDefault, a.Audit)
	route(s, op(get, "/api/v1/feature-flags", "flags-evaluate", "The caller's feature flags (ETag; 304 when unchanged)", tagFlags), access.Public, RateDefault, a.EvaluateFlags)
	route(s, op(get, "/api/v1/feature-flags/definitions", "flags-list", "Every flag definition", tagFlags), access.FlagsManage, RateDefault, a.ListFlags)
	route(s, op(put, "/api/v1/feature-flags/definitions/{key}", "flags-put", "Create or replace a flag", tagFlags, 422), access.FlagsManage, RateDefault, a.PutFlag)
	route(s, op(http.MethodDelete, "/api/v1/feature-flags/definitions/{key}", "flags-delete", "Remove a flag's database definition", tagFlags, 404), access.FlagsManage, RateDefault, a.DeleteFlag)

	// AI gateway (P12, A1). Chat routes are plain handlers (they stream);
	// the gateway applies each role's request rate and token quota itself.
	g := ai.Handlers{G: s.deps.AI}
	if s.deps.Persona != nil && s.deps.Config.HasProduct("persona") {
		g.Safety = s.deps.Persona  // the crisis check runs before every Persona chat
		g.Prompts = s.deps.Persona // the server writes the system prompt
		g.Conversations = s.deps.Persona
	}
	for _, prefix := range []string{"/api/ai", "/api/v1/ai"} {
		id := "ai-" + strings.Trim(strings.ReplaceAll(prefix, "/", "-"), "-")
		s.rawRoute(op(post, prefix+"/chat", id+"-chat", "Chat with a model (stream: true for server-sent events)", tagAI), access.Authenticated, RateNone, g.Chat(), ai.ChatRequest{}, ai.ChatAnswer{})
		route(s, op(get, prefix+"/models", id+"-models", "Models offered here (OpenAI list shape)", tagAI, 503), access.Authenticated, RateDefault, g.ListModels)
	}
	s.rawRoute(op(post, "/api/v1/ai/chat/completions", "ai-chat-completions", "OpenAI-compatible chat completions (any OpenAI SDK, Mitra token as key)", tagAI), access.Authenticated, RateNone, g.Completions(), ai.ChatRequest{}, ai.Completion{})
	route(s, op(get, "/api/v1/ai/usage", "ai-usage", "Your AI usage: totals, allowances, recent calls", tagAI), access.Authenticated, RateDefault, g.MyUsage)
	route(s, op(get, "/api/v1/ai/usage/summary", "ai-usage-summary", "AI usage by user, model or day", tagAI, 422), access.AIUsageRead, RateDefault, g.Summary)

	// Persona (A3, A4): crisis resources are public (nobody in crisis should
	// need an account to see a phone number); mood and assessments are the
	// caller's own.
	if s.deps.Config.HasProduct("persona") {
		ph := persona.Handlers{S: s.deps.Persona}
		route(s, op(get, "/api/v1/crisis/resources", "crisis-resources", "Professional crisis resources for a country", tagCrisis, 422), access.Public, RateDefault, ph.Resources)
		route(s, op(get, "/api/v1/crisis/events", "crisis-events", "The counselor queue: crisis events, most serious first", tagCrisis), access.CrisisQueue, RateDefault, ph.Events)
		route(s, op(get, "/api/v1/crisis/events/{event_id}", "crisis-event", "A crisis event with its notes", tagCrisis, 404), access.CrisisQueue, RateDefault, ph.Event)
		route(s, op(post, "/api/v1/crisis/events/{event_id}/acknowledge", "crisis-event-acknowledge", "Acknowledge a crisis event", tagCrisis, 404, 409), access.CrisisQueue, RateDefault, ph.Acknowledge)
		route(s, op(post, "/api/v1/crisis/events/{event_id}/notes", "crisis-event-note", "Add a note to a crisis event", tagCrisis, 404, 422), access.CrisisQueue, RateDefault, ph.AddNote)
		route(s, op(post, "/api/v1/crisis/events/{event_id}/resolve", "crisis-event-resolve", "Resolve a crisis event", tagCrisis, 404, 409), access.CrisisQueue, RateDefault, ph.Resolve)
		route(s, op(get, "/api/v1/crisis/report", "crisis-report", "Referral notices and crisis events per day and level (no user identifiers)", tagCrisis, 422), access.CrisisQueue, RateDefault, ph.Report)
		route(s, op(get, "/api/v1/crisis/resources/all", "crisis-resources-all", "Every crisis resource", tagCrisis), access.CrisisResourcesManage, RateDefault, ph.AllResources)
		route(s, op(post, "/api/v1/crisis/resources", "crisis-resources-create", "Add a crisis resource", tagCrisis, 422), access.CrisisResourcesManage, RateDefault, ph.CreateResource)
		route(s, op(put, "/api/v1/crisis/resources/{resource_id}", "crisis-resources-update", "Replace a crisis resource", tagCrisis, 404, 422), access.CrisisResourcesManage, RateDefault, ph.UpdateResource)
		route(s, op(http.MethodDelete, "/api/v1/crisis/resources/{resource_id}", "crisis-resources-delete", "Remove a crisis resource", tagCrisis, 404), access.CrisisResourcesManage, RateDefault, ph.DeleteResource)
		for _, prefix := range []string{"/api/ai", "/api/v1/ai"} {
			id := strings.Trim(strings.ReplaceAll(prefix, "/", "-"), "-")
			route(s, op(post, prefix+"/analyze", id+"-analyze", "Mood and risk analysis of a text (risk always from the local detector)", tagPersona, 422), access.Authenticated, RateAI, ph.Analyze)
			route(s, op(post, prefix+"/content", id+"-content", "Today's home-tab content (reflection, tip, affirmation), cached per day", tagPersona, 422), access.Authenticated, RateAI, ph.Content)
		}
		route(s, op(get, "/api/v1/conversations", "conversations-list", "Your conversations, latest first", tagPersona, 422), access.Authenticated, RateDefault, ph.ListConversations)
		route(s, op(get, "/api/v1/conversations/{conversation_id}", "conversations-get", "One of your conversations", tagPersona, 404), access.Authenticated, RateDefault, ph.GetConversation)
		route(s, op(http.MethodPatch, "/api/v1/conversations/{conversation_id}", "conversations-rename", "Rename a conversation", tagPersona, 404, 422), access.Authenticated, RateDefault, ph.RenameConversation)
		route(s, op(http.MethodDelete, "/api/v1/conversations/{conversation_id}", "conversations-delete", "Delete a conversation and its messages", tagPersona, 404), access.Authenticated, RateDefault, ph.DeleteConversation)
		route(s, op(get, "/api/v1/conversations/{conversation_id}/messages", "conversations-messages", "A conversation's messages, newest first", tagPersona, 404, 422), access.Authenticated, RateDefault, ph.ListMessages)
		route(s, op(get, "/api/v1/personas", "personas-list", "Companion personas", tagPersona), access.Authenticated, RateDefault, ph.Personas)
		route(s, op(get, "/api/v1/personas/all", "personas-all", "Every persona with its prompt and safety rules", tagPersona), access.PersonasManage, RateDefault, ph.AllPersonas)
		route(s, op(post, "/api/v1/personas", "personas-create", "Add a persona", tagPersona, 422), access.PersonasManage, RateDefault, ph.CreatePersona)
		route(s, op(put, "/api/v1/personas/{persona_id}", "personas-update", "Replace a persona", tagPersona, 404, 422), access.PersonasManage, RateDefault, ph.UpdatePersona)
		route(s, op(http.MethodDelete, "/api/v1/personas/{persona_id}", "personas-delete", "Remove a persona", tagPersona, 404), access.PersonasManage, RateDefault, ph.DeletePersona)
		route(s, op(post, "/api/v1/moods", "moods-add", "Record a mood check-in", tagMood, 422), access.Authenticated, RateDefault, ph.AddMood)
		route(s, op(get, "/api/v1/moods", "moods-list", "Your mood check-ins and weekly trend", tagMood, 422), access.Authenticated, RateDefault, ph.Moods)
		route(s, op(post, "/api/v1/assessments", "assessments-add", "Score a PHQ-9 or GAD-7 questionnaire", tagMood, 422), access.Authenticated, RateDefault, ph.AddAssessment)
		route(s, op(get, "/api/v1/assessments", "assessments-list", "Your questionnaires", tagMood), access.Authenticated, RateDefault, ph.Assessments)
	}

	// Agent (I1-I4): providers and plans, agents, customers, policies.
	// Ownership (an agent's own book, a provider admin's provider) is
	// checked by the service on top of the permission.
	if s.deps.Insurance != nil && s.deps.Config.HasProduct("agent") {
		ih := insurance.Handlers{S: s.deps.Insurance}
		_ = ih
	}

	// Prometheus metrics (text exposition format).
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{ErrorLog: nil}))
}

const (
	tagHealth  = "Health"
	tagMeta    = "Meta"
	tagAuth    = "Auth"
	tagUsers   = "Users"
	tagAdmin   = "Admin"
	tagFlags   = "Feature flags"
	tagAI      = "AI"
	tagCrisis  = "Crisis"
	tagPersona = "Personas"
	tagMood    = "Mood"

	get  = http.MethodGet
	post = http.MethodPost
	put  = http.MethodPut
)

// op describes an operation: method, path, id, summary, tag and the error
// statuses it may answer besides 500, which every operation documents.
func op(method, path, id, summary, tag string, errs ...int) huma.Operation {
	return huma.Operation{
		Method:      method,
		Path:        path,
		OperationID: id,
		Summary:     summary,
		Tags:        []string{tag},
		Errors:      append(errs, http.StatusInternalServerError),
	}
}
