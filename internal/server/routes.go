package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"mitra/internal/ai"
	"mitra/internal/auth"
	"mitra/internal/insurance"
	"mitra/internal/insurance/presentation"
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
		// Crisis intervention: rules (administrators), follow-up check-ins and
		// emergency contacts (the caller's own; another user's id is 404).
		// Contacts answer invitations without an account, by link or code.
		route(s, op(get, "/api/v1/crisis/rules", "crisis-rules", "The intervention rules: what happens at each level of risk", tagCrisis), access.CrisisRulesManage, RateDefault, ph.Rules)
		route(s, op(put, "/api/v1/crisis/rules", "crisis-rules-put", "Replace the intervention rules (showing resources, and a counselor at high and above, cannot be removed)", tagCrisis, 422), access.CrisisRulesManage, RateDefault, ph.PutRules)
		route(s, op(get, "/api/v1/crisis/check-ins", "crisis-checkins", "Your follow-up check-ins waiting for an answer", tagCrisis), access.Authenticated, RateDefault, ph.Checkins)
		route(s, op(post, "/api/v1/crisis/check-ins/{checkin_id}", "crisis-checkin-answer", "Answer a check-in (worse puts you back in touch with the care team)", tagCrisis, 404, 409, 422), access.Authenticated, RateDefault, ph.AnswerCheckin)
		route(s, op(get, "/api/v1/emergency-contacts", "contacts-list", "Your emergency contacts", tagContacts), access.Authenticated, RateDefault, ph.ListContacts)
		route(s, op(post, "/api/v1/emergency-contacts", "contacts-create", "Add an emergency contact (at most 3) and send them an invitation", tagContacts, 409, 422), access.Authenticated, RateDefault, ph.AddContact)
		route(s, htmlPage(op(get, "/api/v1/emergency-contacts/confirm", "contacts-confirm-page", "The invitation page a contact opens (HTML; opening it changes nothing)", tagContacts)), access.Public, RateOTP, ph.ConfirmPage)
		route(s, op(post, "/api/v1/emergency-contacts/confirm", "contacts-confirm", "A contact agrees, with the invitation link's token", tagContacts, 404, 410, 422), access.Public, RateOTP, ph.ConfirmContact)
		route(s, htmlPage(op(get, "/api/v1/emergency-contacts/decline", "contacts-decline-page", "The stop page of every message to a contact (HTML; opening it changes nothing)", tagContacts)), access.Public, RateOTP, ph.DeclinePage)
		route(s, op(post, "/api/v1/emergency-contacts/decline", "contacts-decline", "A contact refuses or stops all messages, with a link's token", tagContacts, 404, 422), access.Public, RateOTP, ph.DeclineContact)
		route(s, htmlPage(op(post, "/api/v1/emergency-contacts/respond", "contacts-respond", "The pages' form: token and answer (confirm or decline); answers with a page", tagContacts)), access.Public, RateOTP, ph.Respond)
		route(s, op(get, "/api/v1/emergency-contacts/{contact_id}", "contacts-get", "One of your emergency contacts", tagContacts, 404), access.Authenticated, RateDefault, ph.GetContact)
		route(s, op(put, "/api/v1/emergency-contacts/{contact_id}", "contacts-update", "Change a contact (a new number needs a new confirmation)", tagContacts, 404, 409, 422), access.Authenticated, RateDefault, ph.UpdateContact)
		route(s, op(http.MethodDelete, "/api/v1/emergency-contacts/{contact_id}", "contacts-delete", "Remove an emergency contact", tagContacts, 404), access.Authenticated, RateDefault, ph.DeleteContact)
		route(s, op(post, "/api/v1/emergency-contacts/{contact_id}/resend", "contacts-resend", "Send a pending contact a new invitation (new link and code)", tagContacts, 404, 409), access.Authenticated, RateDefault, ph.ResendInvite)
		route(s, op(post, "/api/v1/emergency-contacts/{contact_id}/verify", "contacts-verify", "Confirm a contact with the code they read out to you", tagContacts, 404, 409, 410, 422), access.Authenticated, RateOTP, ph.VerifyContact)
	}

	// Agent (I1-I4): providers and plans, agents, customers, policies.
	// Ownership (an agent's own book, a provider admin's provider) is
	// checked by the service on top of the permission.
	if s.deps.Insurance != nil && s.deps.Config.HasProduct("agent") {
		ih := insurance.Handlers{S: s.deps.Insurance}
		route(s, op(get, "/api/v1/providers", "providers-list", "Insurance providers with their plan master (inactive ones: administrators)", tagProviders), access.Public, RateDefault, ih.ListProviders)
		route(s, op(post, "/api/v1/providers", "providers-create", "Add a provider and its plans", tagProviders, 409, 422), access.ProvidersManage, RateDefault, ih.CreateProvider)
		route(s, op(get, "/api/v1/providers/{provider_id}", "providers-get", "A provider with its plans", tagProviders, 404), access.Public, RateDefault, ih.GetProvider)
		route(s, op(put, "/api/v1/providers/{provider_id}", "providers-update", "Replace a provider and its plan master", tagProviders, 404, 409, 422), access.ProvidersManage, RateDefault, ih.UpdateProvider)
		route(s, op(put, "/api/v1/providers/{provider_id}/staff/{user_id}", "providers-staff", "Make a provider admin work for this provider", tagProviders, 404, 422), access.ProvidersManage, RateDefault, ih.LinkStaff)
		route(s, op(post, "/api/v1/agents/register", "agents-register", "Apply to become an agent (signs in once approved)", tagAgents, 409, 422), access.Public, RateAuth, ih.Apply)
		route(s, op(get, "/api/v1/agents", "agents-list", "Agents: all (administrators) or a provider's (provider admins)", tagAgents, 422), access.AgentsRead, RateDefault, ih.ListAgents)
		route(s, op(get, "/api/v1/agents/{agent_id}", "agents-get", "An agent's profile (the agent, their provider's admins, administrators)", tagAgents, 404), access.Authenticated, RateDefault, ih.GetAgent)
		route(s, op(put, "/api/v1/agents/{agent_id}", "agents-update", "Change an agent's profile (licence: administrators)", tagAgents, 403, 404, 409, 422), access.Authenticated, RateDefault, ih.UpdateAgent)
		for _, action := range []string{"verify", "approve", "reject", "suspend", "reinstate"} {
			route(s, op(post, "/api/v1/agents/{agent_id}/"+action, "agents-"+action, "Review an agent: "+action, tagAgents, 404, 409, 422), access.AgentsManage, RateDefault, ih.Decision(action))
		}
		route(s, op(get, "/api/v1/agents/{agent_id}/providers", "agents-providers", "An agent's providers with commission rates", tagAgents, 404), access.Authenticated, RateDefault, ih.ListAgentProviders)
		route(s, op(put, "/api/v1/agents/{agent_id}/providers/{provider_id}", "agents-provider-link", "Link an agent to a provider with commission rates by plan type", tagAgents, 404, 422), access.AgentsManage, RateDefault, ih.LinkProvider)
		route(s, op(http.MethodDelete, "/api/v1/agents/{agent_id}/providers/{provider_id}", "agents-provider-unlink", "Unlink an agent from a provider", tagAgents, 404, 409), access.AgentsManage, RateDefault, ih.UnlinkProvider)
		// Customers and policies (I3, I4): agents their own book, provider
		// admins read their provider's, administrators everything.
		route(s, op(get, "/api/v1/customers", "customers-list", "Customers: an agent's own, a provider's (provider admins), all (administrators)", tagCustomers, 422), access.BookWork, RateDefault, ih.ListCustomers)
		route(s, op(post, "/api/v1/customers", "customers-create", "Add a customer (PAN sealed, Aadhaar last 4 only)", tagCustomers, 409, 422), access.BookWork, RateDefault, ih.CreateCustomer)
		route(s, op(get, "/api/v1/customers/{customer_id}", "customers-get", "A customer, identifiers masked", tagCustomers, 404), access.BookWork, RateDefault, ih.GetCustomer)
		route(s, op(put, "/api/v1/customers/{customer_id}", "customers-update", "Replace a customer's data", tagCustomers, 404, 409, 422), access.BookWork, RateDefault, ih.UpdateCustomer)
		route(s, op(http.MethodDelete, "/api/v1/customers/{customer_id}", "customers-delete", "Delete a customer holding no policy", tagCustomers, 404, 409), access.BookWork, RateDefault, ih.DeleteCustomer)
		route(s, op(get, "/api/v1/policies", "policies-list", "Policies, filtered by status, due window, customer, provider", tagPolicies, 422), access.BookWork, RateDefault, ih.ListPolicies)
		route(s, op(post, "/api/v1/policies", "policies-create", "Enter a policy (checked against the plan master)", tagPolicies, 409, 422), access.BookWork, RateDefault, ih.CreatePolicy)
		route(s, op(get, "/api/v1/policies/{policy_id}", "policies-get", "A policy with its maturity, next due and grace dates", tagPolicies, 404), access.BookWork, RateDefault, ih.GetPolicy)
		route(s, op(put, "/api/v1/policies/{policy_id}", "policies-update", "Correct a policy's terms", tagPolicies, 404, 409, 422), access.BookWork, RateDefault, ih.UpdatePolicy)
		route(s, op(http.MethodDelete, "/api/v1/policies/{policy_id}", "policies-delete", "Delete a policy entered by mistake (its agent within a day; administrators)", tagPolicies, 404, 409), access.BookWork, RateDefault, ih.DeletePolicy)
		route(s, op(post, "/api/v1/policies/{policy_id}/status", "policies-status", "Move a policy's status: lapse, revive, paid-up, mature, surrender, claim", tagPolicies, 404, 409, 422), access.BookWork, RateDefault, ih.UpdatePolicyStatus)
	}

	// Agent: presentation carousel (I5). Every route needs book:work; the
	// service scopes it: an agent reaches only their own presentations and
	// files (another agent's id answers 404), administrators everyone's,
	// other holders (provider admins) none. Templates are for every holder.
	if s.deps.Config.HasProduct("agent") {
		pr := presentation.Handlers{S: s.deps.Presentations}
		route(s, op(get, "/api/v1/presentations/templates", "presentations-templates", "Ready-made presentations to start from", tagPresentations), access.BookWork, RateDefault, pr.Templates)
		route(s, op(get, "/api/v1/presentations", "presentations-list", "Presentations, newest first: yours (agents) or any agent's (administrators)", tagPresentations, 404, 422), access.BookWork, RateDefault, pr.List)
		route(s, op(post, "/api/v1/presentations", "presentations-create", "Add a presentation, from scratch or from a template", tagPresentations, 404, 422), access.BookWork, RateDefault, pr.Create)
		route(s, op(get, "/api/v1/presentations/{presentation_id}", "presentations-get", "A presentation with its slides", tagPresentations, 404), access.BookWork, RateDefault, pr.Get)
		route(s, op(put, "/api/v1/presentations/{presentation_id}", "presentations-update", "Replace a presentation's title, schedule and slides", tagPresentations, 404, 422), access.BookWork, RateDefault, pr.Update)
		route(s, op(http.MethodDelete, "/api/v1/presentations/{presentation_id}", "presentations-delete", "Delete a presentation", tagPresentations, 404), access.BookWork, RateDefault, pr.Delete)
		route(s, op(post, "/api/v1/presentations/{presentation_id}/reorder", "presentations-reorder", "Put a presentation's slides in a new order", tagPresentations, 404, 422), access.BookWork, RateDefault, pr.Reorder)
		route(s, op(post, "/api/v1/presentations/{presentation_id}/activate", "presentations-activate", "Show this presentation on the agent's home page (the one shown before stops)", tagPresentations, 404, 422), access.BookWork, RateDefault, pr.Activate)
		route(s, op(post, "/api/v1/presentations/{presentation_id}/deactivate", "presentations-deactivate", "Stop showing a presentation", tagPresentations, 404), access.BookWork, RateDefault, pr.Deactivate)
		route(s, op(get, "/api/v1/presentations/agent/{agent_id}/active", "presentations-active", "What the agent's home page shows now (the agent and administrators)", tagPresentations, 404), access.BookWork, RateDefault, pr.Active)
		route(s, s.largeBody(op(post, "/api/v1/presentations/media/upload", "presentations-media-upload", "Upload an image or MP4 video for slides (multipart form, field file)", tagPresentations, 404, 413, 415, 422), presentation.MaxUploadBytes, 5*time.Minute), access.BookWork, RateUpload, pr.Upload)
		route(s, presentation.DescribeMedia(op(get, "/api/v1/presentations/media/{media_id}", "presentations-media", "A file's bytes (its owner and administrators; cached for a year)", tagPresentations, 404)), access.BookWork, RateDefault, pr.Media)
		route(s, op(http.MethodDelete, "/api/v1/presentations/media/{media_id}", "presentations-media-delete", "Delete a file no slide shows (its owner and administrators)", tagPresentations, 404, 409), access.BookWork, RateDefault, pr.DeleteMedia)
	}

	// Prometheus metrics (text exposition format).
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{ErrorLog: nil}))
}

const (
	tagHealth    = "Health"
	tagMeta      = "Meta"
	tagAuth      = "Auth"
	tagUsers     = "Users"
	tagAdmin     = "Admin"
	tagFlags     = "Feature flags"
	tagAI        = "AI"
	tagCrisis    = "Crisis"
	tagPersona   = "Personas"
	tagMood      = "Mood"
	tagProviders = "Providers"
	tagAgents    = "Agents"
	tagContacts  = "Emergency contacts"

	get  = http.MethodGet
	post = http.MethodPost
	put  = http.MethodPut
)

// tagPresentations groups the Agent app's presentation carousel.
const tagPresentations = "Presentations"

// Tags of the Agent product's book (I3, I4).
const (
	tagCustomers = "Customers"
	tagPolicies  = "Policies"
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
