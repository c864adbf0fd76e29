package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// mitra seed loads a working demo through the services; a second run
// changes nothing; the printed logins work and the agent's book holds
// policies in every status.
func TestSeedCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"MITRA_DATA_DIR": dir, "MITRA_ADDR": "127.0.0.1:0"}
	seed := func() string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := (program{}).run(context.Background(), []string{"seed"}, envMap(env), &out, &errOut); err != nil {
			t.Fatalf("seed: %v\n%s", err, errOut.String())
		}
		return out.String()
	}
	if out := seed(); !strings.Contains(out, "Loaded the demo data set") || !strings.Contains(out, "AG-100001") {
		t.Fatalf("first seed: %s", out)
	}
	if out := seed(); !strings.Contains(out, "already loaded") {
		t.Fatalf("second seed: %s", out)
	}
	// A run cut short (the administrator exists, the marker does not) is
	// not mistaken for a finished one.
	half := map[string]string{"MITRA_DATA_DIR": t.TempDir()}
	var errOut bytes.Buffer
	if err := (program{}).run(context.Background(), []string{"admin", "create", "--email", "admin@demo.mitra.example", "--password", "demo-password-2026"}, envMap(half), io.Discard, &errOut); err != nil {
		t.Fatalf("admin create: %v %s", err, errOut.String())
	}
	if err := (program{}).run(context.Background(), []string{"seed"}, envMap(half), io.Discard, &errOut); err == nil || !strings.Contains(err.Error(), "half-way") {
		t.Fatalf("seed after a cut-short run: %v", err)
	}
	if err := (program{}).run(context.Background(), []string{"seed"}, envMap(map[string]string{"MITRA_DATA_DIR": t.TempDir(), "MITRA_ENV": "production"}), io.Discard, &errOut); err == nil {
		t.Fatal("seed ran in production")
	}

	base := startInProcess(t, env)
	call := func(method, path, token string, body any) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	login := func(id string) (int, map[string]any) {
		return call(http.MethodPost, "/api/v1/auth/login", "", map[string]string{"identifier": id, "password": "demo-password-2026"})
	}
	for _, id := range []string{"admin@demo.mitra.example", "desk@lic.demo.mitra.example", "AG-100002", "counselor@demo.mitra.example", "member@demo.mitra.example"} {
		if code, b := login(id); code != 200 {
			t.Fatalf("login %s: %d %v", id, code, b)
		}
	}
	if code, b := login("+919822010003"); code != 403 || b["code"] != "agent_not_approved" {
		t.Fatalf("pending agent: %d %v", code, b)
	}
	code, b := login("AG-100001")
	if code != 200 {
		t.Fatalf("agent login: %d %v", code, b)
	}
	token := b["access_token"].(string)
	code, b = call(http.MethodGet, "/api/v1/policies?limit=100", token, nil)
	if code != 200 {
		t.Fatalf("policies: %d %v", code, b)
	}
	statuses := map[string]int{}
	for _, p := range b["policies"].([]any) {
		statuses[p.(map[string]any)["status"].(string)]++
	}
	for _, s := range []string{"in_force", "lapsed", "paid_up", "matured", "surrendered", "claimed"} {
		if statuses[s] == 0 {
			t.Errorf("no %s policy in the demo book: %v", s, statuses)
		}
	}
	if code, b = call(http.MethodGet, "/api/v1/customers", token, nil); code != 200 || len(b["customers"].([]any)) != 8 {
		t.Fatalf("customers: %d %v", code, b)
	}
	code, b = call(http.MethodGet, "/api/v1/auth/me", token, nil)
	if code != 200 {
		t.Fatalf("me: %d %v", code, b)
	}
	if code, b = call(http.MethodGet, "/api/v1/presentations/agent/"+b["id"].(string)+"/active", token, nil); code != 200 || len(b["slides"].([]any)) == 0 {
		t.Fatalf("home page presentation: %d %v", code, b)
	}
}
