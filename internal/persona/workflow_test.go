package persona_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"mitra/internal/persona"
	"mitra/internal/platform/access"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
	"mitra/internal/platform/jobs"
	"mitra/internal/platform/vault"
)

type hook struct {
	mu    sync.Mutex
	calls []map[string]any
	bad   int
}

func (h *hook) serve(secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if r.Header.Get("X-Mitra-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
			h.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		h.calls = append(h.calls, m)
	})
}

func (h *hook) wait(t *testing.T, n int) []map[string]any {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		h.mu.Lock()
		got := append([]map[string]any(nil), h.calls...)
		h.mu.Unlock()
		if len(got) >= n {
			return got
		}
	}
	t.Fatalf("webhook called %d times, want %d", len(h.calls), n)
	return nil
}

// node is one run of the program: a service and its job queue.
func node(t *testing.T, db *database.DB, v *vault.Keyring, wf persona.Workflow) (*persona.Service, *jobs.Queue) {
	t.Helper()
	s := persona.NewService(db, v, time.Now)
	workers := river.NewWorkers()
	s.RegisterJobs(workers, wf)
	q, err := jobs.New(db, jobs.Options{Workers: workers, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.Jobs = q
	return s, q
}

// The workflow's steps are durable jobs: an event created just before a
// restart is still notified, then escalated when nobody acknowledges it.
func TestCrisisWorkflowSurvivesRestartAndEscalates(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		const secret = "whsec_test"
		h := &hook{}
		srv := httptest.NewServer(h.serve(secret))
		defer srv.Close()
		v, _ := vault.Parse(vault.NewKeySpec("w1"))
		wf := persona.Workflow{WebhookURL: srv.URL, WebhookSecret: secret, EscalateAfter: 300 * time.Millisecond}

		// First run: the event is created, and the process stops before any
		// job runs.
		s1, _ := node(t, db, v, wf)
		ctx := access.WithPrincipal(context.Background(), access.Principal{UserID: "u-w", Role: access.Member})
		p, _ := access.From(ctx)
		if _, err := s1.Check(ctx, p, []string{"I want to kill myself tonight, I have the pills ready"}); err != nil {
			t.Fatal(err)
		}
		// Second run on the same database: the jobs are still there.
		_, q2 := node(t, db, v, wf)
		if err := q2.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = q2.Stop(sctx)
		}()
		calls := h.wait(t, 2)
		if calls[0]["escalation"] != false || calls[1]["escalation"] != true || h.bad != 0 {
			t.Fatalf("webhook calls %v (bad signatures %d)", calls, h.bad)
		}
		ev := calls[0]["event"].(map[string]any)
		if ev["level"] != "high" || ev["id"] == "" {
			t.Fatalf("payload %v", ev)
		}
		for _, action := range []string{"crisis.event_created", "crisis.counselor_notified", "crisis.event_escalated", "crisis.escalation_notified"} {
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				entries, _, _ := audit.List(context.Background(), db, audit.Filter{Action: action})
				if len(entries) == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s audited %d times, want 1", action, len(entries))
				}
			}
		}
	})
}

// An event acknowledged in time is not escalated.
func TestAcknowledgedEventIsNotEscalated(t *testing.T) {
	db := dbtest.SQLite(t)
	h := &hook{}
	srv := httptest.NewServer(h.serve("s"))
	defer srv.Close()
	v, _ := vault.Parse(vault.NewKeySpec("w2"))
	s, q := node(t, db, v, persona.Workflow{WebhookURL: srv.URL, WebhookSecret: "s", EscalateAfter: 500 * time.Millisecond})
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(sctx)
	}()
	ctx := access.WithPrincipal(context.Background(), access.Principal{UserID: "u-a", Role: access.Member})
	p, _ := access.From(ctx)
	if _, err := s.Check(ctx, p, []string{"aku mau bunuh diri malam ini, obatnya udah aku siapin"}); err != nil {
		t.Fatal(err)
	}
	h.wait(t, 1)
	list, _ := s.Events(context.Background(), "open", 10)
	if len(list) != 1 {
		t.Fatalf("events %+v", list)
	}
	counselor := access.WithPrincipal(context.Background(), access.Principal{UserID: "c", Role: access.Counselor})
	if _, err := s.Transition(counselor, list[0].ID, persona.EventAcknowledged, ""); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	h.mu.Lock()
	n := len(h.calls)
	h.mu.Unlock()
	if n != 1 {
		t.Fatalf("webhook called %d times, want only the first notice", n)
	}
}
