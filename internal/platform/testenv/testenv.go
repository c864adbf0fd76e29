// Package testenv tells tests which outside services they may use.
//
// A test that needs PostgreSQL, Redis or Chromium skips with a reason when
// its variable is unset, except when MITRA_TEST_REQUIRE names that service
// (.ci/run sets it): then the test fails, so CI cannot pass by skipping.
package testenv

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// Service variables.
const (
	DatabaseURLVar = "MITRA_TEST_DATABASE_URL"
	RedisURLVar    = "MITRA_TEST_REDIS_URL"
	RequireVar     = "MITRA_TEST_REQUIRE"
)

// Required reports whether MITRA_TEST_REQUIRE names the service.
func Required(service string) bool {
	return slices.Contains(strings.Split(os.Getenv(RequireVar), ","), service)
}

// Lookup returns the variable's value; when it is empty it skips t with
// the reason, or fails t if the service is required.
func Lookup(t testing.TB, service, variable string) string {
	t.Helper()
	v := os.Getenv(variable)
	if v == "" {
		if Required(service) {
			t.Fatalf("%s is required here (%s=%s) but %s is not set", service, RequireVar, os.Getenv(RequireVar), variable)
		}
		t.Skipf("%s not set: skipping the %s variant", variable, service)
	}
	return v
}

// PostgresURL returns MITRA_TEST_DATABASE_URL or skips (fails in CI).
func PostgresURL(t testing.TB) string { return Lookup(t, "postgres", DatabaseURLVar) }

// RedisURL returns MITRA_TEST_REDIS_URL or skips (fails in CI).
func RedisURL(t testing.TB) string { return Lookup(t, "redis", RedisURLVar) }
