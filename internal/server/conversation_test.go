package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func do(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestConversationsStoredAndContinued(t *testing.T) {
	srv, fake, token := aiServer(t)
	code, a := do(t, http.MethodPost, srv.URL+"/api/ai/chat", token, `{"messages":[{"role":"user","content":"halo, aku lagi capek banget"}]}`)
	conv, _ := a["conversation_id"].(string)
	if code != 200 || conv == "" {
		t.Fatalf("first chat: %d %v", code, a)
	}
	code, a = do(t, http.MethodPost, srv.URL+"/api/ai/chat", token, `{"conversation_id":"`+conv+`","messages":[{"role":"user","content":"kerjaan numpuk terus"}]}`)
	if code != 200 || a["conversation_id"] != conv {
		t.Fatalf("continue: %d %v", code, a)
	}
	sent := fake.Requests()[len(fake.Requests())-1].Body["messages"].([]any)
	var roles []string
	for _, m := range sent {
		roles = append(roles, m.(map[string]any)["role"].(string))
	}
	if strings.Join(roles, ",") != "system,user,assistant,user" {
		t.Fatalf("history sent upstream: %v", roles)
	}
	code, m := do(t, http.MethodGet, srv.URL+"/api/v1/conversations/"+conv+"/messages?limit=3", token, "")
	msgs := m["messages"].([]any)
	if code != 200 || len(msgs) != 3 || msgs[0].(map[string]any)["role"] != "assistant" || m["next_cursor"] == nil {
		t.Fatalf("messages: %d %v", code, m)
	}
	code, m = do(t, http.MethodGet, srv.URL+"/api/v1/conversations", token, "")
	if code != 200 || len(m["conversations"].([]any)) != 1 {
		t.Fatalf("list: %d %v", code, m)
	}
	if code, m := do(t, http.MethodPatch, srv.URL+"/api/v1/conversations/"+conv, token, `{"title":"Capek kerja"}`); code != 200 || m["title"] != "Capek kerja" {
		t.Fatalf("rename: %d %v", code, m)
	}
	// Someone else's conversation is not found, for reading and for chatting.
	_, other := do(t, http.MethodPost, srv.URL+"/api/v1/auth/register", "", `{"email":"other@example.com","password":"correct horse battery","name":"O"}`)
	otherToken := other["access_token"].(string)
	if code, _ := do(t, http.MethodGet, srv.URL+"/api/v1/conversations/"+conv, otherToken, ""); code != 404 {
		t.Fatalf("other user's conversation: %d", code)
	}
	if code, _ := do(t, http.MethodPost, srv.URL+"/api/ai/chat", otherToken, `{"conversation_id":"`+conv+`","messages":[{"role":"user","content":"hi"}]}`); code != 404 {
		t.Fatalf("chat in another user's conversation: %d", code)
	}
	if code, _ := do(t, http.MethodDelete, srv.URL+"/api/v1/conversations/"+conv, token, ""); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code, _ := do(t, http.MethodGet, srv.URL+"/api/v1/conversations/"+conv+"/messages", token, ""); code != 404 {
		t.Fatalf("after delete: %d", code)
	}
}

// Risk earlier in a stored conversation raises a neutral-looking question
// about means.
func TestCrisisContextAcrossRequests(t *testing.T) {
	srv, _, token := aiServer(t)
	_, a := do(t, http.MethodPost, srv.URL+"/api/ai/chat", token, `{"messages":[{"role":"user","content":"aku udah gak kuat lagi, pengen ngilang aja"}]}`)
	conv := a["conversation_id"].(string)
	_, a = do(t, http.MethodPost, srv.URL+"/api/ai/chat", token, `{"conversation_id":"`+conv+`","messages":[{"role":"user","content":"jembatan paling tinggi di jakarta di mana ya?"}]}`)
	c, _ := a["crisis"].(map[string]any)
	if c == nil || (c["level"] != "high" && c["level"] != "imminent") {
		t.Fatalf("context not kept across requests: %v", a)
	}
}

// Long conversations are summarised to fit the model's context.
func TestLongConversationIsSummarised(t *testing.T) {
	srv, fake, token := aiServer(t)
	long := strings.Repeat("cerita panjang tentang hariku. ", 300) // ~9 KB
	_, a := do(t, http.MethodPost, srv.URL+"/api/ai/chat", token, `{"messages":[{"role":"user","content":"`+long+`"}]}`)
	conv := a["conversation_id"].(string)
	for i := 0; i < 3; i++ {
		if code, a := do(t, http.MethodPost, srv.URL+"/api/ai/chat", token, `{"conversation_id":"`+conv+`","messages":[{"role":"user","content":"`+long+`"}]}`); code != 200 {
			t.Fatalf("turn %d: %d %v", i, code, a)
		}
	}
	// The last chat request (summarising calls come after the answers).
	var last []any
	for _, r := range fake.Requests() {
		msgs := r.Body["messages"].([]any)
		if !strings.HasPrefix(msgs[0].(map[string]any)["content"].(string), "Summarise") {
			last = msgs
		}
	}
	hasSummary, total := false, 0
	for _, m := range last {
		c := m.(map[string]any)["content"].(string)
		total += len(c)
		hasSummary = hasSummary || (m.(map[string]any)["role"] == "assistant" && strings.HasPrefix(c, "(My notes from earlier in our conversation:"))
	}
	if !hasSummary || total > 40_000 {
		t.Fatalf("summary sent: %v, %d bytes of context", hasSummary, total)
	}
}

// Distress that no longer fits the model's context still counts for the
// crisis check.
func TestCrisisContextBeyondTheBudget(t *testing.T) {
	srv, _, token := aiServer(t)
	_, a := do(t, http.MethodPost, srv.URL+"/api/ai/chat", token, `{"messages":[{"role":"user","content":"aku udah gak kuat lagi, pengen ngilang aja"}]}`)
	conv := a["conversation_id"].(string)
	long := strings.Repeat("hari ini aku cuma rebahan dan nonton. ", 400) // ~15 KB each
	for i := 0; i < 2; i++ {
		if code, a := do(t, http.MethodPost, srv.URL+"/api/ai/chat", token, `{"conversation_id":"`+conv+`","messages":[{"role":"user","content":"`+long+`"}]}`); code != 200 {
			t.Fatalf("turn %d: %d %v", i, code, a)
		}
	}
	_, a = do(t, http.MethodPost, srv.URL+"/api/ai/chat", token, `{"conversation_id":"`+conv+`","messages":[{"role":"user","content":"jembatan paling tinggi di jakarta di mana ya?"}]}`)
	if c, _ := a["crisis"].(map[string]any); c == nil || (c["level"] != "high" && c["level"] != "imminent") {
		t.Fatalf("earlier distress forgotten: %v", a["crisis"])
	}
}
