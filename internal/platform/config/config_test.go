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
}

func TestProductionRefusesDevelopmentShortcuts(t *testing.T) {
	for name, bad := range map[string]string{"MITRA_SMS_PROVIDER": "log", "MITRA_ENCRYPTION_KEYS": ""} {
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
