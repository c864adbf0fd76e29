package config

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, _, err := Load("serve", env(nil), nil, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8012" || c.DataDir != "./data" || c.Env != EnvDevelopment || c.LogFormat != "text" ||
		len(c.Products) != 2 || c.MaxBodyBytes != 1<<20 || c.ShutdownTimeout != 30*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
	if c.DatabaseDisplay() != "sqlite:data/mitra.db" {
		t.Fatalf("display %q", c.DatabaseDisplay())
	}
}

var productionEnv = map[string]string{
	"MITRA_ENV": "production", "MITRA_ENCRYPTION_KEYS": "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	"MITRA_SMS_PROVIDER": "msg91", "MITRA_MSG91_AUTH_KEY": "key", "MITRA_MSG91_TEMPLATE_ID": "tpl",
	"MITRA_MSG91_FLOW_TEMPLATES": "contact_invite.en=f1,contact_alert.en=f2,contact_invite.id=f3,contact_alert.id=f4", "MITRA_WHATSAPP_PROVIDER": "off",
	"MITRA_PUBLIC_URL": "https://api.example.com",
}

func TestProductionRefusesDevelopmentShortcuts(t *testing.T) {
	for name, bad := range map[string]string{"MITRA_SMS_PROVIDER": "log", "MITRA_ENCRYPTION_KEYS": "", "MITRA_WHATSAPP_PROVIDER": "log",
		"MITRA_PUBLIC_URL": "http://api.example.com", "MITRA_MSG91_FLOW_TEMPLATES": ""} {
		e := map[string]string{}
		for k, v := range productionEnv {
			e[k] = v
		}
		e[name] = bad
		_, _, err := Load("serve", env(e), nil, io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("production with %s=%q: %v", name, bad, err)
		}
	}
}

// SMS offered to emergency contacts carries every message in every
// language: a missing alert template would lose alerts silently.
func TestProductionNeedsEveryContactTemplate(t *testing.T) {
	for name, bad := range map[string]map[string]string{
		"MITRA_MSG91_FLOW_TEMPLATES": {"MITRA_MSG91_FLOW_TEMPLATES": "contact_invite.en=f1,contact_alert.en=f2,contact_invite.id=f3"},
	} {
		e := map[string]string{}
		for k, v := range productionEnv {
			e[k] = v
		}
		for k, v := range bad {
			e[k] = v
		}
		_, _, err := Load("serve", env(e), nil, io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "contact_alert") {
			t.Errorf("production with %v: %v", bad, err)
		}
	}
	if _, _, err := Load("serve", env(productionEnv), nil, io.Discard, nil); err != nil {
		t.Fatalf("complete production configuration refused: %v", err)
	}
}

func TestFeatureFlagDefaults(t *testing.T) {
	c, _, err := Load("serve", env(map[string]string{"MITRA_FEATURE_FLAGS": "voice_notes=true, dark_mode=false"}), nil, io.Discard, nil)
	if err != nil || !c.FeatureFlags["voice_notes"] || c.FeatureFlags["dark_mode"] || len(c.FeatureFlags) != 2 {
		t.Fatalf("%v %v", c.FeatureFlags, err)
	}
	if _, _, err := Load("serve", env(map[string]string{"MITRA_FEATURE_FLAGS": "x=maybe"}), nil, io.Discard, nil); err == nil {
		t.Fatal("bad flag accepted")
	}
}

func TestProductionDefaultsToJSON(t *testing.T) {
	c, _, err := Load("serve", env(productionEnv), nil, io.Discard, nil)
	if err != nil || c.LogFormat != "json" || !c.Production() {
		t.Fatalf("%+v %v", c, err)
	}
}

func TestFlagsWinOverEnvironment(t *testing.T) {
	c, _, err := Load("serve", env(map[string]string{"MITRA_ADDR": ":9000"}), []string{"--addr", "127.0.0.1:9100"}, io.Discard, nil)
	if err != nil || c.Addr != "127.0.0.1:9100" {
		t.Fatalf("%+v %v", c.Addr, err)
	}
}

func TestInvalidValuesNameTheVariable(t *testing.T) {
	cases := map[string]string{
		"MITRA_ADDR":             "8012",
		"MITRA_ENV":              "staging",
		"MITRA_DATABASE_URL":     "mysql://x",
		"MITRA_REDIS_URL":        "http://redis",
		"MITRA_LOG_FORMAT":       "xml",
		"MITRA_LOG_LEVEL":        "loud",
		"MITRA_CORS_ORIGINS":     "app.example.com",
		"MITRA_PRODUCTS":         "persona,bank",
		"MITRA_TRUSTED_PROXIES":  "10.0.0.0/33",
		"MITRA_MAX_BODY_BYTES":   "12",
		"MITRA_SHUTDOWN_TIMEOUT": "-1s",
		"MITRA_BLOB_URL":         "gs://bucket",
	}
	for name, value := range cases {
		_, _, err := Load("serve", env(map[string]string{name: value}), nil, io.Discard, nil)
		var ce *Error
		if !errors.As(err, &ce) || ce.Env != name || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: got %v, want an error naming %s", name, value, err, name)
		}
	}
}

func TestSchemaNeedsPostgres(t *testing.T) {
	_, _, err := Load("serve", env(map[string]string{"MITRA_DATABASE_SCHEMA": "lic_schema"}), nil, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "MITRA_DATABASE_SCHEMA") {
		t.Fatalf("got %v", err)
	}
	_, _, err = Load("serve", env(map[string]string{"MITRA_DATABASE_URL": "postgres://u:p@h/db", "MITRA_DATABASE_SCHEMA": "Lic-Schema"}), nil, io.Discard, nil)
	if err == nil {
		t.Fatal("unsafe schema name accepted")
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	c, _, err := Load("serve", env(map[string]string{
		"MITRA_DATABASE_URL": "postgres://mitra:s3cretpw@db.internal:5432/mitra?sslmode=require&password=other",
		"MITRA_REDIS_URL":    "redis://:r3dispw@cache:6379/0",
	}), nil, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	shown := c.LogValue().String()
	for _, secret := range []string{"s3cretpw", "r3dispw", "other"} {
		if strings.Contains(shown, secret) {
			t.Fatalf("secret %q in %s", secret, shown)
		}
	}
	if !strings.Contains(shown, "db.internal") {
		t.Fatalf("host should stay visible: %s", shown)
	}
	// An invalid secret value is not echoed in the error either.
	_, _, err = Load("serve", env(map[string]string{"MITRA_DATABASE_URL": "mysql://root:hunter2@x"}), nil, io.Discard, nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error leaks the value: %v", err)
	}
}

func TestHelp(t *testing.T) {
	var out strings.Builder
	_, _, err := Load("serve", env(nil), []string{"--help"}, &out, nil)
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "MITRA_DATABASE_URL") {
		t.Fatalf("%v %s", err, out.String())
	}
}

func TestMediaURL(t *testing.T) {
	c, _, err := Load("serve", env(map[string]string{"MITRA_DATA_DIR": "/srv/mitra"}), nil, io.Discard, nil)
	if err != nil || c.BlobURL != "" || c.MediaURL() != "file:///srv/mitra/media" {
		t.Fatalf("default media URL %q %v", c.MediaURL(), err)
	}
	if c, _, _ := Load("serve", env(nil), nil, io.Discard, nil); !strings.HasPrefix(c.MediaURL(), "file:///") || !strings.HasSuffix(c.MediaURL(), "/data/media") {
		t.Fatalf("relative data dir: %q", c.MediaURL())
	}
	for _, v := range []string{"s3://mitra-media?region=ap-south-1&endpoint=https://minio.internal:9000&use_path_style=true", "file:///var/lib/mitra/media"} {
		c, _, err := Load("serve", env(map[string]string{"MITRA_BLOB_URL": v}), nil, io.Discard, nil)
		if err != nil || c.MediaURL() != v {
			t.Errorf("%s: %q %v", v, c.MediaURL(), err)
		}
	}
	for _, v := range []string{"https://bucket.example.com", "s3://", "file://", "s3:///no-bucket"} {
		if _, _, err := Load("serve", env(map[string]string{"MITRA_BLOB_URL": v}), nil, io.Discard, nil); err == nil || !strings.Contains(err.Error(), "MITRA_BLOB_URL") {
			t.Errorf("%s accepted: %v", v, err)
		}
	}
}

// Emergency contacts: WhatsApp and MSG91 flow settings, and what
// production demands of them.
func TestContactChannels(t *testing.T) {
	c, _, err := Load("serve", env(map[string]string{
		"MITRA_WHATSAPP_PROVIDER": "cloud", "MITRA_WHATSAPP_TOKEN": "EAAG-secret-token", "MITRA_WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
		"MITRA_WHATSAPP_TEMPLATES":   "contact_alert=alert_v2",
		"MITRA_MSG91_FLOW_TEMPLATES": "contact_alert.id=f1, contact_alert.en=f2",
		"MITRA_PUBLIC_URL":           "https://api.example.com/",
	}), nil, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.WhatsAppProvider != "cloud" || c.WhatsAppAPIVersion != "v23.0" || c.WhatsAppBaseURL != "https://graph.facebook.com" ||
		c.WhatsAppTemplates["contact_alert"] != "alert_v2" || len(c.WhatsAppTemplates) != 1 ||
		c.MSG91Flows["contact_alert.id"] != "f1" || c.MSG91Flows["contact_alert.en"] != "f2" || c.PublicURL != "https://api.example.com" {
		t.Fatalf("%+v", c)
	}
	if strings.Contains(c.LogValue().String(), "EAAG-secret-token") {
		t.Fatal("the WhatsApp token is printed")
	}
	d, _, err := Load("serve", env(nil), nil, io.Discard, nil)
	if err != nil || d.WhatsAppProvider != "log" || d.PublicURL != "http://localhost:8012" || d.WhatsAppTemplates["contact_invite"] != "mitra_contact_invite" {
		t.Fatalf("defaults %+v %v", d, err)
	}
	for name, e := range map[string]map[string]string{
		"MITRA_WHATSAPP_TOKEN":       {"MITRA_WHATSAPP_PROVIDER": "cloud", "MITRA_WHATSAPP_PHONE_NUMBER_ID": "1065403522"},
		"MITRA_WHATSAPP_PROVIDER":    {"MITRA_WHATSAPP_PROVIDER": "sms"},
		"MITRA_MSG91_FLOW_TEMPLATES": {"MITRA_MSG91_FLOW_TEMPLATES": "contact_alert=f1"},
		"MITRA_WHATSAPP_TEMPLATES":   {"MITRA_WHATSAPP_TEMPLATES": "contact_alert="},
		"MITRA_PUBLIC_URL":           {"MITRA_PUBLIC_URL": "api.example.com"},
	} {
		if _, _, err := Load("serve", env(e), nil, io.Discard, nil); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: %v, want an error naming %s", e, err, name)
		}
	}
	// A production deployment of the Agent product alone needs none of it.
	agent := map[string]string{}
	for k, v := range productionEnv {
		agent[k] = v
	}
	agent["MITRA_PRODUCTS"], agent["MITRA_WHATSAPP_PROVIDER"], agent["MITRA_PUBLIC_URL"], agent["MITRA_MSG91_FLOW_TEMPLATES"] = "agent", "log", "http://x", ""
	if _, _, err := Load("serve", env(agent), nil, io.Discard, nil); err != nil {
		t.Fatalf("agent only: %v", err)
	}
}
