package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"mitra/internal/platform/database/dbtest"
	"mitra/internal/platform/testenv"
	"mitra/internal/platform/vault"
)

func postJSON(t *testing.T, url string, body any, token string) (*http.Response, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(t, req)
}

func getJSON(t *testing.T, url, token string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp, m
}

// Two Mitra processes on one PostgreSQL and one Redis: a logout on one
// makes the access token fail on the other within a second, and a rate
// limit is shared.
func TestTwoNodesShareRevocationsAndLimits(t *testing.T) {
	pg := testenv.PostgresURL(t)
	rd := testenv.RedisURL(t)
	schema := dbtest.NewSchema(t, pg)
	env := map[string]string{
		"MITRA_ADDR": "127.0.0.1:0", "MITRA_DATABASE_URL": pg, "MITRA_DATABASE_SCHEMA": schema, "MITRA_REDIS_URL": rd,
		"MITRA_ENCRYPTION_KEYS": vault.NewKeySpec("k1"), "MITRA_LOG_LEVEL": "warn",
	}
	env["MITRA_DATA_DIR"] = t.TempDir()
	a := startInProcess(t, env)
	envB := map[string]string{}
	for k, v := range env {
		envB[k] = v
	}
	envB["MITRA_DATA_DIR"] = t.TempDir()
	b := startInProcess(t, envB)

	resp, reg := postJSON(t, a+"/api/v1/auth/register", map[string]string{"email": "node@example.com", "password": "correct horse battery", "name": "Node"}, "")
	if resp.StatusCode != 201 {
		t.Fatalf("register on A: %d %v", resp.StatusCode, reg)
	}
	token := reg["access_token"].(string)
	if resp, m := getJSON(t, b+"/api/v1/auth/me", token); resp.StatusCode != 200 {
		t.Fatalf("token from A refused on B: %d %v", resp.StatusCode, m)
	}
	if resp, _ := postJSON(t, a+"/api/v1/auth/logout", nil, token); resp.StatusCode != 204 {
		t.Fatalf("logout on A: %d", resp.StatusCode)
	}
	loggedOut := time.Now()
	for {
		resp, _ := getJSON(t, b+"/api/v1/auth/me", token)
		if resp.StatusCode == 401 {
			break
		}
		if time.Since(loggedOut) > time.Second {
			t.Fatalf("B still accepts the token %v after logout on A", time.Since(loggedOut))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("B refused the token %v after the logout on A", time.Since(loggedOut).Round(time.Millisecond))

	// The auth rate class allows a burst of 10 per IP; spread over both
	// nodes, the 11th and 12th attempts must be refused.
	// (Distinct identifiers, so the per-account throttle stays out of it.)
	var codes []any
	limited := 0
	for i := 0; i < 12; i++ {
		node := a
		if i%2 == 1 {
			node = b
		}
		_, m := postJSON(t, node+"/api/v1/auth/login", map[string]string{"identifier": "nobody" + string(rune('a'+i)) + "@example.com", "password": "nope nope nope"}, "")
		codes = append(codes, m["code"])
		if m["code"] == "rate_limited" {
			limited++
		}
	}
	// Each node alone saw at most 7 auth requests (register + 6), under the
	// burst of 10: any refusal proves the budget is shared.
	if limited < 2 || codes[0] == "rate_limited" || codes[11] != "rate_limited" {
		t.Fatalf("want the last attempts limited across nodes, got %v", codes)
	}
}
