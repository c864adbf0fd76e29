package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river"

	"mitra/internal/ai"
	"mitra/internal/auth"
	"mitra/internal/insurance"
	"mitra/internal/insurance/presentation"
	"mitra/internal/persona"
	"mitra/internal/platform/access"
	"mitra/internal/platform/blob"
	"mitra/internal/platform/config"
	"mitra/internal/platform/database"
	"mitra/internal/platform/jobs"
	"mitra/internal/platform/migrations"
	"mitra/internal/platform/ratelimit"
	"mitra/internal/platform/sms"
	"mitra/internal/platform/vault"
	"mitra/internal/platform/whatsapp"
)

// app is everything a command may need, built from the configuration.
// Wiring lives here only.
type app struct {
	cfg       config.Config
	log       *slog.Logger
	db        *database.DB
	rdb       *redis.Client
	vault     *vault.Keyring
	limiter   ratelimit.Store
	revoked   auth.Revocations
	auth      *auth.Service
	queue     *jobs.Queue
	ai        *ai.Gateway
	persona   *persona.Service
	insurance *insurance.Service
	closers   []func()

	// presentations is the Agent app's carousel; media holds its files.
	presentations *presentation.Service
	media         *blob.Store
}

// close releases what build opened, last opened first.
func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// build opens the database (migrating it), Redis, the vault and the
// identity service, and prepares the job queue (not started).
func build(ctx context.Context, cfg config.Config, log *slog.Logger) (a *app, err error) {
	a = &app{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	if a.db, err = openDB(ctx, cfg, log); err != nil {
		return a, err
	}
	a.closers = append(a.closers, func() { a.db.Close() })
	applied, err := migrations.Up(ctx, a.db)
	if err != nil {
		return a, err
	}
	for _, m := range applied {
		log.Info("migration applied", "source", m.Source, "version", m.Version, "name", m.Name, "duration", m.Duration)
	}

	if cfg.EncryptionKeys != "" {
		if a.vault, err = vault.Parse(cfg.EncryptionKeys); err != nil {
			return a, usageError{"invalid MITRA_ENCRYPTION_KEYS (--encryption-keys): " + err.Error()}
		}
	} else {
		path := filepath.Join(cfg.DataDir, "encryption.key")
		if a.vault, err = vault.LoadOrCreate(path); err != nil {
			return a, fmt.Errorf("encryption key: %w", err)
		}
		log.Warn("using the development encryption key file; set MITRA_ENCRYPTION_KEYS in production", "path", path)
	}

	prefix := "mitra:"
	if cfg.DatabaseSchema != "" {
		prefix += cfg.DatabaseSchema + ":"
	}
	if cfg.RedisURL != "" {
		if a.rdb, err = openRedis(ctx, cfg.RedisURL); err != nil {
			return a, err
		}
		a.closers = append(a.closers, func() { a.rdb.Close() })
		a.limiter = ratelimit.NewRedis(a.rdb, prefix)
		rr := auth.NewRedisRevocations(a.rdb, prefix, time.Now, log.With("component", "revocations"))
		a.closers = append(a.closers, rr.Close)
		select {
		case <-rr.Ready():
		case <-time.After(5 * time.Second):
			log.Warn("revocations: Redis not followed yet; continuing")
		}
		a.revoked = rr
	} else {
		a.limiter = ratelimit.NewMemory()
		a.revoked = auth.NewMemoryRevocations(time.Now)
	}

	opts := auth.Options{SignupRole: access.Member}
	if !cfg.HasProduct(config.ProductPersona) {
		opts.SignupRole = access.Customer
	}
	keys, err := auth.NewKeySet(ctx, a.db, a.vault, time.Now, 2*15*time.Minute)
	if err != nil {
		return a, err
	}
	a.auth = auth.NewService(auth.Deps{DB: a.db, Vault: a.vault, Keys: keys, Revocations: a.revoked, Limiter: a.limiter, Now: time.Now, Logger: log}, opts)
	a.auth.SetFlagDefaults(cfg.FeatureFlags)

	sender, err := otpSender(cfg, log)
	if err != nil {
		return a, err
	}
	a.persona = persona.NewService(a.db, a.vault, time.Now)
	a.persona.Country = a.auth.CountryOf
	a.persona.UserName = a.auth.NameOf
	if a.persona.Texts, err = contactSenders(cfg, sender, log); err != nil {
		return a, err
	}
	a.auth.RegisterDataSource(persona.CrisisSupportData{S: a.persona}) // contacts and check-ins in privacy export and erasure
	a.persona.StartReplyWriter()
	a.closers = append(a.closers, a.persona.Close)

	a.insurance = insurance.NewService(a.db, a.vault, auth.AgentAccounts{S: a.auth}, time.Now)
	a.auth.RegisterDataSource(a.insurance) // agent profiles in privacy export and erasure
	if cfg.HasProduct(config.ProductAgent) {
		if a.media, err = blob.Open(ctx, cfg.MediaURL()); err != nil {
			return a, fmt.Errorf("media storage (MITRA_BLOB_URL): %w", err)
		}
		a.closers = append(a.closers, func() { a.media.Close() })
		a.presentations = presentation.NewService(a.db, a.media, time.Now)
		a.auth.RegisterDataSource(a.presentations) // presentations and media in privacy export and erasure
	}

	workers := river.NewWorkers()
	periodic := jobs.Platform(workers, a.db)
	periodic = append(periodic, a.auth.RegisterJobs(workers, sender)...)
	a.persona.RegisterJobs(workers, persona.Workflow{WebhookURL: cfg.CrisisWebhookURL, WebhookSecret: cfg.CrisisWebhookSecret, EscalateAfter: cfg.CrisisEscalateAfter,
		PublicURL: cfg.PublicURL})
	if cfg.HasProduct(config.ProductAgent) {
		periodic = append(periodic, a.insurance.RegisterJobs(workers)...) // daily policy status sweep
	}
	if a.queue, err = jobs.New(a.db, jobs.Options{Workers: workers, Periodic: periodic, Logger: log.With("component", "jobs")}); err != nil {
		return a, err
	}
	a.auth.Jobs = a.queue
	a.persona.Jobs = a.queue

	limits := map[access.Role]ai.RoleLimits{}
	for r, l := range ai.DefaultLimits {
		limits[r] = l
	}
	for role, l := range cfg.AILimits {
		if !access.Role(role).Valid() {
			return a, usageError{fmt.Sprintf("invalid MITRA_AI_LIMITS (--ai-limits): unknown role %q", role)}
		}
		limits[access.Role(role)] = ai.RoleLimits{RequestsPerMinute: l.RequestsPerMinute, DailyTokens: l.DailyTokens, MonthlyTokens: l.MonthlyTokens}
	}
	a.ai = ai.New(ai.Config{BaseURL: cfg.AIBaseURL, APIKey: cfg.AIAPIKey, DefaultModel: cfg.AIDefaultModel, Models: cfg.AIModels,
		Fallbacks: cfg.AIFallbacks, AppURL: cfg.AIAppURL, AppName: cfg.AIAppName, SafetyModel: cfg.AISafetyModel},
		ai.Deps{DB: a.db, Limiter: a.limiter, Limits: limits, Logger: log.With("component", "ai")})
	a.closers = append(a.closers, a.ai.Close)
	a.auth.RegisterDataSource(a.ai) // AI calls in privacy export and erasure
	if a.ai.Enabled() {
		a.persona.Model = a.ai
	}
	if a.ai.SafetyEnabled() {
		a.persona.Reviewer = a.ai
	}
	if !a.ai.Enabled() {
		log.Warn("MITRA_AI_API_KEY not set: AI routes answer 503 ai_unavailable")
	}
	return a, nil
}

func otpSender(cfg config.Config, log *slog.Logger) (sms.OTPSender, error) {
	switch cfg.SMSProvider {
	case "msg91":
		return sms.NewMSG91(sms.MSG91Config{AuthKey: cfg.MSG91AuthKey, TemplateID: cfg.MSG91TemplateID, Flows: cfg.MSG91Flows})
	case "log":
		if cfg.Production() {
			return nil, errors.New("MITRA_SMS_PROVIDER=log is not allowed in production")
		}
		return sms.LogSender{Logger: log.With("component", "sms")}, nil
	}
	return nil, fmt.Errorf("unknown SMS provider %q", cfg.SMSProvider)
}

// contactSenders returns the channels offered for emergency contacts: SMS
// through the OTP sender when it can send templates (MSG91 with flow
// templates, or the development log), WhatsApp by its provider (the log
// sender only outside production; the configuration refuses it there).
func contactSenders(cfg config.Config, otp sms.OTPSender, log *slog.Logger) (persona.TextSenders, error) {
	var t persona.TextSenders
	if ts, ok := otp.(sms.TemplateSender); ok && (cfg.SMSProvider == "log" || len(cfg.MSG91Flows) > 0) {
		t.SMS = ts
		if cfg.SMSProvider == "msg91" {
			// SMS is offered only in the languages with every template.
			t.SMSTemplates = cfg.MSG91Flows
		}
	}
	switch cfg.WhatsAppProvider {
	case "cloud":
		c, err := whatsapp.New(whatsapp.Config{Token: cfg.WhatsAppToken, PhoneNumberID: cfg.WhatsAppPhoneNumberID, APIVersion: cfg.WhatsAppAPIVersion,
			BaseURL: cfg.WhatsAppBaseURL, Templates: cfg.WhatsAppTemplates})
		if err != nil {
			return t, usageError{"invalid WhatsApp configuration (MITRA_WHATSAPP_*): " + err.Error()}
		}
		t.WhatsApp = c
	case "log":
		if cfg.Production() && cfg.HasProduct(config.ProductPersona) {
			return t, errors.New("MITRA_WHATSAPP_PROVIDER=log is not allowed in production")
		}
		t.WhatsApp = whatsapp.LogSender{Logger: log.With("component", "whatsapp")}
	}
	if t.SMS == nil && t.WhatsApp == nil && cfg.HasProduct(config.ProductPersona) {
		log.Warn("no channel for emergency contacts: set MITRA_MSG91_FLOW_TEMPLATES or MITRA_WHATSAPP_PROVIDER=cloud")
	}
	return t, nil
}
