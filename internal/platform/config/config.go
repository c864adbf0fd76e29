// Package config loads and validates Mitra's configuration from flags and
// MITRA_* environment variables. Flags win over the environment. Load returns
// a value; there is no package-level configuration.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Environments.
const (
	EnvDevelopment = "development"
	EnvProduction  = "production"
)

// Products a deployment can serve.
const (
	ProductPersona = "persona"
	ProductAgent   = "agent"
)

// Config is the whole server configuration.
type Config struct {
	Addr            string
	DataDir         string
	Env             string
	DatabaseURL     string // secret: contains credentials
	DatabaseSchema  string
	RedisURL        string // secret: may contain credentials
	LogFormat       string // text | json
	LogLevel        slog.Level
	LogFile         string
	CORSOrigins     []string
	Products        []string
	TrustedProxies  []netip.Prefix
	MaxBodyBytes    int64
	RequestTimeout  time.Duration
	ShutdownTimeout time.Duration
	EncryptionKeys  string // secret: "kid:base64,..." (first is primary)
	SMSProvider     string // log | msg91
	MSG91AuthKey    string // secret
	MSG91TemplateID string
	FeatureFlags    map[string]bool

	// PublicURL is where people outside the apps reach this server (links
	// in messages to emergency contacts), without a trailing slash.
	PublicURL string
	// MSG91Flows maps "template.language" to an MSG91 flow template id, for
	// messages to emergency contacts by SMS.
	MSG91Flows            map[string]string
	WhatsAppProvider      string // log | cloud | off
	WhatsAppToken         string // secret
	WhatsAppPhoneNumberID string
	WhatsAppAPIVersion    string
	WhatsAppBaseURL       string
	WhatsAppTemplates     map[string]string // logical name -> approved template name

	AIBaseURL      string
	AIAPIKey       string // secret
	AIDefaultModel string
	AIModels       []string
	AIFallbacks    []string
	AIAppURL       string
	AIAppName      string
	AISafetyModel  string
	AILimits       map[string]AILimit // by role

	CrisisWebhookURL    string
	CrisisWebhookSecret string // secret
	CrisisEscalateAfter time.Duration

	// BlobURL is where media is stored: file:///dir or s3://bucket?...;
	// empty means the directory media under DataDir (see MediaURL).
	BlobURL string
}

// AILimit is one role's AI allowance; 0 means unlimited.
type AILimit struct {
	RequestsPerMinute int
	DailyTokens       int64
	MonthlyTokens     int64
}

// Production reports whether the server runs in production.
func (c Config) Production() bool { return c.Env == EnvProduction }

// HasProduct reports whether the product is enabled.
func (c Config) HasProduct(p string) bool { return slices.Contains(c.Products, p) }

// SQLitePath is the database file used when no database URL is set.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "mitra.db") }

// MediaURL is the blob store URL: BlobURL, or the directory media under
// DataDir (made absolute) when it is empty.
func (c Config) MediaURL() string {
	if c.BlobURL != "" {
		return c.BlobURL
	}
	dir := filepath.Join(c.DataDir, "media")
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}).String()
}

// LogValue renders the configuration for logs with secrets masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("env", c.Env),
		slog.String("data_dir", c.DataDir),
		slog.String("database", c.DatabaseDisplay()),
		slog.String("database_schema", c.DatabaseSchema),
		slog.String("redis", RedactURL(c.RedisURL)),
		slog.Any("products", c.Products),
		slog.Any("cors_origins", c.CORSOrigins),
		slog.String("media", RedactURL(c.MediaURL())),
	)
}

// DatabaseDisplay names the database without credentials.
func (c Config) DatabaseDisplay() string {
	if c.DatabaseURL == "" {
		return "sqlite:" + c.SQLitePath()
	}
	return RedactURL(c.DatabaseURL)
}

// RedactURL removes the password (and any query string, which may carry
// secrets) from a URL for display.
func RedactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable url)"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	u.RawQuery = ""
	return u.String()
}

// setting describes one configuration value: its flag, its variable, its
// default, its help and how to apply a string to the Config.
type setting struct {
	flag, env, def, help string
	secret               bool
	apply                func(*Config, string) error
}

func settings() []setting {
	return []setting{
		{"addr", "MITRA_ADDR", ":8012", "address to listen on (host:port)", false, func(c *Config, v string) error {
			if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
				return errors.New("must be host:port, for example :8012")
			}
			c.Addr = v
			return nil
		}},
		{"data-dir", "MITRA_DATA_DIR", "./data", "directory for the SQLite database and local media", false, func(c *Config, v string) error {
			if strings.TrimSpace(v) == "" {
				return errors.New("must not be empty")
			}
			c.DataDir = v
			return nil
		}},
		{"env", "MITRA_ENV", EnvDevelopment, "development | production", false, func(c *Config, v string) error {
			if v != EnvDevelopment && v != EnvProduction {
				return errors.New("must be development or production")
			}
			c.Env = v
			return nil
		}},
		{"database-url", "MITRA_DATABASE_URL", "", "PostgreSQL URL (postgres://...); empty means SQLite in the data dir", true, func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
				return errors.New("must be a postgres:// URL with a host")
			}
			c.DatabaseURL = v
			return nil
		}},
		{"database-schema", "MITRA_DATABASE_SCHEMA", "", "PostgreSQL schema to use (created if missing)", false, func(c *Config, v string) error {
			if v != "" && !identifier.MatchString(v) {
				return errors.New("must be a lower-case SQL identifier (letters, digits, _; at most 63)")
			}
			c.DatabaseSchema = v
			return nil
		}},
		{"redis-url", "MITRA_REDIS_URL", "", "Redis URL (redis://...) for shared limits and revocation; empty means in memory", true, func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
				return errors.New("must be a redis://, rediss:// or unix:// URL")
			}
			c.RedisURL = v
			return nil
		}},
		{"log-format", "MITRA_LOG_FORMAT", "", "text | json (default: text in development, json in production)", false, func(c *Config, v string) error {
			if v != "" && v != "text" && v != "json" {
				return errors.New("must be text or json")
			}
			c.LogFormat = v
			return nil
		}},
		{"log-level", "MITRA_LOG_LEVEL", "info", "debug | info | warn | error", false, func(c *Config, v string) error {
			return c.LogLevel.UnmarshalText([]byte(v))
		}},
		{"log-file", "MITRA_LOG_FILE", "", "also write JSON logs to this file, rotated at 10 MB with 5 backups", false, func(c *Config, v string) error {
			c.LogFile = v
			return nil
		}},
		{"cors-origins", "MITRA_CORS_ORIGINS", "", "comma-separated origins allowed by CORS (https://app.example.com); empty allows none", false, func(c *Config, v string) error {
			c.CORSOrigins = nil
			for _, o := range splitList(v) {
				if o == "*" {
					c.CORSOrigins = append(c.CORSOrigins, o)
					continue
				}
				u, err := url.Parse(o)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
					return fmt.Errorf("%q is not an origin like https://app.example.com", o)
				}
				c.CORSOrigins = append(c.CORSOrigins, u.Scheme+"://"+u.Host)
			}
			return nil
		}},
		{"products", "MITRA_PRODUCTS", "persona,agent", "products to serve: persona, agent or both", false, func(c *Config, v string) error {
			c.Products = nil
			for _, p := range splitList(v) {
				if p != ProductPersona && p != ProductAgent {
					return fmt.Errorf("unknown product %q (persona, agent)", p)
				}
				if !slices.Contains(c.Products, p) {
					c.Products = append(c.Products, p)
				}
			}
			if len(c.Products) == 0 {
				return errors.New("must name at least one product")
			}
			return nil
		}},
		{"trusted-proxies", "MITRA_TRUSTED_PROXIES", "", "comma-separated CIDRs of proxies whose X-Forwarded-For is believed", false, func(c *Config, v string) error {
			c.TrustedProxies = nil
			for _, s := range splitList(v) {
				p, err := netip.ParsePrefix(s)
				if err != nil {
					a, err2 := netip.ParseAddr(s)
					if err2 != nil {
						return fmt.Errorf("%q is not a CIDR or address", s)
					}
					p = netip.PrefixFrom(a, a.BitLen())
				}
				c.TrustedProxies = append(c.TrustedProxies, p.Masked())
			}
			return nil
		}},
		{"max-body-bytes", "MITRA_MAX_BODY_BYTES", "1048576", "largest request body accepted, in bytes", false, func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1024 {
				return errors.New("must be an integer of at least 1024")
			}
			c.MaxBodyBytes = n
			return nil
		}},
		{"request-timeout", "MITRA_REQUEST_TIMEOUT", "60s", "longest a non-streaming request may take", false, durationInto(func(c *Config) *time.Duration { return &c.RequestTimeout })},
		{"shutdown-timeout", "MITRA_SHUTDOWN_TIMEOUT", "30s", "how long shutdown waits for in-flight requests", false, durationInto(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
		{"encryption-keys", "MITRA_ENCRYPTION_KEYS", "", "keys for data at rest, kid:base64(32 bytes)[,kid:base64...], first is primary; required in production (development makes one in the data dir)", true, func(c *Config, v string) error {
			c.EncryptionKeys = v
			return nil
		}},
		{"sms-provider", "MITRA_SMS_PROVIDER", "log", "how one-time codes are sent: log (development only) or msg91", false, func(c *Config, v string) error {
			if v != "log" && v != "msg91" {
				return errors.New("must be log or msg91")
			}
			c.SMSProvider = v
			return nil
		}},
		{"msg91-auth-key", "MITRA_MSG91_AUTH_KEY", "", "MSG91 auth key", true, func(c *Config, v string) error {
			c.MSG91AuthKey = v
			return nil
		}},
		{"msg91-template-id", "MITRA_MSG91_TEMPLATE_ID", "", "MSG91 OTP template id", false, func(c *Config, v string) error {
			c.MSG91TemplateID = v
			return nil
		}},
		{"msg91-flow-templates", "MITRA_MSG91_FLOW_TEMPLATES", "", "MSG91 flow templates for messages to emergency contacts, name.language=template_id[,...] (names contact_invite, contact_alert; languages id, en)", false, func(c *Config, v string) error {
			m, err := pairs(v, func(k string) bool { return templateKey.MatchString(k) }, "name.language=template_id")
			c.MSG91Flows = m
			return err
		}},
		{"public-url", "MITRA_PUBLIC_URL", "http://localhost:8012", "this server's address as people outside the apps reach it (links in messages); https in production", false, func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
				return errors.New("must be an http(s) URL such as https://api.example.com")
			}
			c.PublicURL = strings.TrimRight(v, "/")
			return nil
		}},
		{"whatsapp-provider", "MITRA_WHATSAPP_PROVIDER", "log", "how WhatsApp messages are sent: log (development only), cloud (WhatsApp Cloud API) or off", false, func(c *Config, v string) error {
			if v != "log" && v != "cloud" && v != "off" {
				return errors.New("must be log, cloud or off")
			}
			c.WhatsAppProvider = v
			return nil
		}},
		{"whatsapp-token", "MITRA_WHATSAPP_TOKEN", "", "WhatsApp Cloud API access token", true, func(c *Config, v string) error {
			c.WhatsAppToken = v
			return nil
		}},
		{"whatsapp-phone-number-id", "MITRA_WHATSAPP_PHONE_NUMBER_ID", "", "WhatsApp Cloud API phone number id of the sending number", false, func(c *Config, v string) error {
			c.WhatsAppPhoneNumberID = v
			return nil
		}},
		{"whatsapp-api-version", "MITRA_WHATSAPP_API_VERSION", "v23.0", "Graph API version of WhatsApp calls", false, func(c *Config, v string) error {
			c.WhatsAppAPIVersion = v
			return nil
		}},
		{"whatsapp-base-url", "MITRA_WHATSAPP_BASE_URL", "https://graph.facebook.com", "Graph API address", false, func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("must be an http(s) URL")
			}
			c.WhatsAppBaseURL = v
			return nil
		}},
		{"whatsapp-templates", "MITRA_WHATSAPP_TEMPLATES", "contact_invite=mitra_contact_invite,contact_alert=mitra_contact_alert", "approved WhatsApp template of each message, name=template_name[,...]", false, func(c *Config, v string) error {
			m, err := pairs(v, func(k string) bool { return flagName.MatchString(k) }, "name=template_name")
			c.WhatsAppTemplates = m
			return err
		}},
		{"ai-base-url", "MITRA_AI_BASE_URL", "https://openrouter.ai/api/v1", "OpenAI-compatible upstream (OpenRouter, Ollama, vLLM)", false, func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("must be an http(s) URL")
			}
			c.AIBaseURL = strings.TrimRight(v, "/")
			return nil
		}},
		{"ai-api-key", "MITRA_AI_API_KEY", "", "upstream API key; without it every AI route answers 503 ai_unavailable", true, func(c *Config, v string) error {
			c.AIAPIKey = v
			return nil
		}},
		{"ai-default-model", "MITRA_AI_DEFAULT_MODEL", "openai/gpt-4o-mini", "model used when a request names none", false, func(c *Config, v string) error {
			c.AIDefaultModel = v
			return nil
		}},
		{"ai-models", "MITRA_AI_MODELS", "", "comma-separated models callers may choose (empty: the default and fallbacks only)", false, func(c *Config, v string) error {
			c.AIModels = splitList(v)
			return nil
		}},
		{"ai-fallback-models", "MITRA_AI_FALLBACK_MODELS", "", "comma-separated models tried in order when the chosen one fails", false, func(c *Config, v string) error {
			c.AIFallbacks = splitList(v)
			return nil
		}},
		{"ai-app-url", "MITRA_AI_APP_URL", "", "OpenRouter attribution: HTTP-Referer", false, func(c *Config, v string) error {
			c.AIAppURL = v
			return nil
		}},
		{"ai-app-name", "MITRA_AI_APP_NAME", "Mitra", "OpenRouter attribution: X-Title", false, func(c *Config, v string) error {
			c.AIAppName = v
			return nil
		}},
		{"ai-safety-model", "MITRA_AI_SAFETY_MODEL", "openai/gpt-4o-mini", "model of the crisis second opinion on Persona chat messages the local detector puts below high (it may raise, never lower, the risk); off: no second opinion", false, func(c *Config, v string) error {
			if v == "off" {
				v = ""
			}
			c.AISafetyModel = v
			return nil
		}},
		{"ai-limits", "MITRA_AI_LIMITS", "", "per-role AI limits, role:requests_per_minute:daily_tokens:monthly_tokens[,...] (0 = unlimited); unset roles keep their defaults", false, func(c *Config, v string) error {
			c.AILimits = map[string]AILimit{}
			for _, item := range splitList(v) {
				parts := strings.Split(item, ":")
				if len(parts) != 4 {
					return fmt.Errorf("%q is not role:rpm:daily:monthly", item)
				}
				rpm, e1 := strconv.Atoi(parts[1])
				day, e2 := strconv.ParseInt(parts[2], 10, 64)
				month, e3 := strconv.ParseInt(parts[3], 10, 64)
				if e1 != nil || e2 != nil || e3 != nil || rpm < 0 || day < 0 || month < 0 {
					return fmt.Errorf("%q: numbers must be whole and not negative", item)
				}
				c.AILimits[parts[0]] = AILimit{RequestsPerMinute: rpm, DailyTokens: day, MonthlyTokens: month}
			}
			return nil
		}},
		{"crisis-webhook-url", "MITRA_CRISIS_WEBHOOK_URL", "", "where crisis events are sent for the on-call counselor (HTTPS, signed)", false, func(c *Config, v string) error {
			if v != "" {
				u, err := url.Parse(v)
				if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
					return errors.New("must be an http(s) URL")
				}
			}
			c.CrisisWebhookURL = v
			return nil
		}},
		{"crisis-webhook-secret", "MITRA_CRISIS_WEBHOOK_SECRET", "", "HMAC key of the crisis webhook's X-Mitra-Signature", true, func(c *Config, v string) error {
			c.CrisisWebhookSecret = v
			return nil
		}},
		{"crisis-escalate-after", "MITRA_CRISIS_ESCALATE_AFTER", "15m", "escalate a crisis event nobody acknowledged within this time", false, durationInto(func(c *Config) *time.Duration { return &c.CrisisEscalateAfter })},
		{"blob-url", "MITRA_BLOB_URL", "", "media storage: file:///dir or s3://bucket?region=...[&endpoint=...&use_path_style=true] (default: the directory media in the data dir)", false, func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			u, err := url.Parse(v)
			switch {
			case err != nil || (u.Scheme != "file" && u.Scheme != "s3"):
				return errors.New("must be a file:// or s3:// URL")
			case u.Scheme == "file" && u.Path == "":
				return errors.New("a file:// URL needs a directory, like file:///var/lib/mitra/media")
			case u.Scheme == "s3" && u.Host == "":
				return errors.New("an s3:// URL needs a bucket, like s3://mitra-media?region=ap-south-1")
			}
			c.BlobURL = v
			return nil
		}},
		{"feature-flags", "MITRA_FEATURE_FLAGS", "", "feature flag defaults, key=true|false[,...]; the database overrides them", false, func(c *Config, v string) error {
			c.FeatureFlags = map[string]bool{}
			for _, kv := range splitList(v) {
				k, val, ok := strings.Cut(kv, "=")
				on, err := strconv.ParseBool(val)
				if !ok || err != nil || !flagName.MatchString(k) {
					return fmt.Errorf("%q is not key=true or key=false", kv)
				}
				c.FeatureFlags[k] = on
			}
			return nil
		}},
	}
}

var (
	identifier  = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	flagName    = regexp.MustCompile(`^[a-z][a-z0-9_]{1,62}$`)
	templateKey = regexp.MustCompile(`^[a-z][a-z0-9_]{1,62}\.[a-z]{2}$`)
)

// pairs reads "key=value[,...]" with keys checked by valid; shape names
// the expected form in errors.
func pairs(v string, valid func(string) bool, shape string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range splitList(v) {
		k, val, ok := strings.Cut(kv, "=")
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if !ok || val == "" || !valid(k) {
			return nil, fmt.Errorf("%q is not %s", kv, shape)
		}
		m[k] = val
	}
	return m, nil
}

func durationInto(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration like 30s")
		}
		*field(c) = d
		return nil
	}
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Error is a configuration error naming the variable (and flag) at fault.
type Error struct {
	Env, Flag string
	Err       error
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid %s (--%s): %v", e.Env, e.Flag, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Load reads the configuration: each setting from its flag in args when
// given, else from its environment variable, else its default. It returns
// flag.ErrHelp after printing usage when args ask for help, and an *Error
// naming the variable when a value is invalid. Extra positional arguments
// are returned.
// extra, when not nil, adds a command's own flags to the flag set.
func Load(name string, getenv func(string) string, args []string, usage io.Writer, extra func(*flag.FlagSet)) (Config, []string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if extra != nil {
		extra(fs)
	}
	fs.SetOutput(usage)
	all := settings()
	values := make([]*string, len(all))
	for i, s := range all {
		help := fmt.Sprintf("%s (env %s)", s.help, s.env)
		def := s.def
		if s.secret {
			help += " [secret]"
		}
		values[i] = fs.String(s.flag, "", help+defaultNote(def))
	}
	fs.Usage = func() {
		fmt.Fprintf(usage, "Usage: mitra %s [flags]\n\nFlags (each also read from its environment variable):\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, nil, err
	}
	var c Config
	for i, s := range all {
		v := *values[i]
		if v == "" {
			v = getenv(s.env)
		}
		if v == "" {
			v = s.def
		}
		if err := s.apply(&c, v); err != nil {
			return Config{}, nil, &Error{Env: s.env, Flag: s.flag, Err: err}
		}
	}
	if c.LogFormat == "" {
		c.LogFormat = "text"
		if c.Production() {
			c.LogFormat = "json"
		}
	}
	if c.Production() {
		if c.EncryptionKeys == "" {
			return Config{}, nil, &Error{Env: "MITRA_ENCRYPTION_KEYS", Flag: "encryption-keys", Err: errors.New("is required in production")}
		}
		if c.SMSProvider == "log" {
			return Config{}, nil, &Error{Env: "MITRA_SMS_PROVIDER", Flag: "sms-provider", Err: errors.New("log writes codes to the log and sends nothing: not allowed in production")}
		}
	}
	if c.Production() && c.HasProduct(ProductPersona) {
		if c.WhatsAppProvider == "log" {
			return Config{}, nil, &Error{Env: "MITRA_WHATSAPP_PROVIDER", Flag: "whatsapp-provider", Err: errors.New("log writes messages to the log and sends nothing: not allowed in production (use cloud or off)")}
		}
		if !strings.HasPrefix(c.PublicURL, "https://") {
			return Config{}, nil, &Error{Env: "MITRA_PUBLIC_URL", Flag: "public-url", Err: errors.New("must be an https:// address in production (links sent to emergency contacts)")}
		}
		if c.WhatsAppProvider == "off" && len(c.MSG91Flows) == 0 {
			return Config{}, nil, &Error{Env: "MITRA_MSG91_FLOW_TEMPLATES", Flag: "msg91-flow-templates", Err: errors.New("emergency contacts need a channel: set the MSG91 flow templates or MITRA_WHATSAPP_PROVIDER=cloud")}
		}
		// SMS, once offered, must carry every contact message in every
		// language: an alert accepted for a contact and then undeliverable
		// is a crisis alert lost. (WhatsApp sends a template under its own
		// name unless MITRA_WHATSAPP_TEMPLATES renames it; its approval per
		// language is Meta's, out of reach here.)
		for _, name := range ContactTemplates {
			for _, lang := range ContactLanguages {
				if len(c.MSG91Flows) > 0 && c.MSG91Flows[name+"."+lang] == "" {
					return Config{}, nil, &Error{Env: "MITRA_MSG91_FLOW_TEMPLATES", Flag: "msg91-flow-templates", Err: fmt.Errorf("misses %s.%s: SMS to emergency contacts needs every template (%s) in every language (%s)",
						name, lang, strings.Join(ContactTemplates, ", "), strings.Join(ContactLanguages, ", "))}
				}
			}
		}
	}
	if c.WhatsAppProvider == "cloud" && (c.WhatsAppToken == "" || c.WhatsAppPhoneNumberID == "") {
		return Config{}, nil, &Error{Env: "MITRA_WHATSAPP_TOKEN", Flag: "whatsapp-token", Err: errors.New("cloud needs MITRA_WHATSAPP_TOKEN and MITRA_WHATSAPP_PHONE_NUMBER_ID")}
	}
	if c.SMSProvider == "msg91" && (c.MSG91AuthKey == "" || c.MSG91TemplateID == "") {
		return Config{}, nil, &Error{Env: "MITRA_MSG91_AUTH_KEY", Flag: "msg91-auth-key", Err: errors.New("msg91 needs MITRA_MSG91_AUTH_KEY and MITRA_MSG91_TEMPLATE_ID")}
	}
	if c.DatabaseSchema != "" && c.DatabaseURL == "" {
		return Config{}, nil, &Error{Env: "MITRA_DATABASE_SCHEMA", Flag: "database-schema", Err: errors.New("needs MITRA_DATABASE_URL (schemas are a PostgreSQL feature)")}
	}
	return c, fs.Args(), nil
}

func defaultNote(def string) string {
	if def == "" {
		return ""
	}
	return " (default " + def + ")"
}

// ContactTemplates and ContactLanguages are the messages to emergency
// contacts and their languages (persona.ContactTemplates and
// persona.ContactLanguages; a test keeps them equal): in production SMS,
// when offered, needs each template in each language.
var (
	ContactTemplates = []string{"contact_invite", "contact_alert"}
	ContactLanguages = []string{"id", "en"}
)
