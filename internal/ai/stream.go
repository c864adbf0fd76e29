package ai

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"mitra/internal/platform/access"
	"mitra/internal/platform/httpx"
)

// Prelude writes events before the relayed stream (a conversation id, a
// crisis notice); it may be nil.
type Prelude func(w io.Writer) error

// Stream makes a streaming call and relays it to w as server-sent events:
// OpenAI chat.completion.chunk events as they come, each flushed, upstream
// keep-alive comments as comments, the usage chunk, then "data: [DONE]".
// Before the first byte, failures are returned for the caller to answer
// with a problem (started is false). Once streaming, a failure ends the
// stream with an error event ({"error":{...}}) and Stream returns nil. The
// upstream request ends when the client goes away, and the call is
// recorded in every case.
func (g *Gateway) Stream(ctx context.Context, p access.Principal, req ChatRequest, endpoint string, w http.ResponseWriter, prelude Prelude) (started bool, err error) {
	started, _, err = g.StreamText(ctx, p, req, endpoint, w, prelude)
	return started, err
}

// StreamText is Stream that also returns the assistant's text as relayed
// (at most 256 KiB), for storing the reply.
func (g *Gateway) StreamText(ctx context.Context, p access.Principal, req ChatRequest, endpoint string, w http.ResponseWriter, prelude Prelude) (started bool, text string, err error) {
	c := &call{p: p, req: req, endpoint: endpoint, start: time.Now()}
	uctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := g.open(uctx, c, true)
	if err != nil {
		if c.attempts > 0 && ctx.Err() == nil {
			r := g.base(c, true) // no tokens: nothing was generated
			r.Outcome = outcomeOf(err)
			r.RequestID = httpx.RequestID(ctx)
			g.record(ctx, r)
		}
		return false, "", err
	}
	defer resp.Body.Close()

	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream lasts as long as it lasts
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	s := &relay{w: w, rc: rc}
	if prelude != nil {
		s.fail(prelude(w))
	}
	s.flush()

	// The idle watchdog cancels the upstream request after a silence.
	var idle atomic.Bool
	watchdog := time.AfterFunc(g.cfg.IdleStreamTimeout, func() { idle.Store(true); cancel() })
	defer watchdog.Stop()

	r := g.base(c, true)
	r.RequestID = httpx.RequestID(ctx)
	var usage *Usage
	var content int
	var reply strings.Builder
	outcome := ""
	rd := newSSEReader(resp.Body)
	for outcome == "" {
		kind, payload, err := rd.next()
		watchdog.Reset(g.cfg.IdleStreamTimeout)
		if r.TTFBMS == nil {
			t := time.Since(c.start).Milliseconds()
			r.TTFBMS = &t
		}
		switch {
		case err != nil:
			switch {
			case ctx.Err() != nil:
				outcome = OutcomeClientDisconnected
			case idle.Load():
				outcome = OutcomeTimeout
				s.errorEvent(CodeTimeout, "the AI service went silent", r.RequestID)
			default:
				outcome = OutcomeUpstreamError
				s.errorEvent(CodeUpstream, "the AI service stopped mid-answer", r.RequestID)
			}
		case kind == evComment:
			s.write(payload, []byte("\n\n"))
		case kind == evDone:
			s.write([]byte("data: [DONE]\n\n"))
			outcome = OutcomeOK
		default:
			var ch chunk
			if json.Unmarshal(payload, &ch) != nil {
				outcome = OutcomeUpstreamError
				s.errorEvent(CodeUpstream, "the AI service sent a malformed event", r.RequestID)
				break
			}
			if len(ch.Error) > 0 && !bytes.Equal(ch.Error, []byte("null")) {
				outcome = OutcomeMidStreamError
				s.errorEvent(CodeUpstream, "the AI service failed mid-answer", r.RequestID)
				break
			}
			for _, choice := range ch.Choices {
				content += len(choice.Delta.Content)
				if reply.Len() < 256<<10 {
					reply.WriteString(choice.Delta.Content)
				}
			}
			if ch.Usage != nil {
				usage = ch.Usage
			}
			s.write([]byte("data: "), payload, []byte("\n\n"))
		}
		if s.err != nil && outcome == "" {
			outcome = OutcomeClientDisconnected
		}
		s.flush()
	}
	cancel() // stop reading the upstream whatever happened
	r.Outcome = outcome
	r.LatencyMS = time.Since(c.start).Milliseconds()
	if usage != nil {
		r.PromptTokens, r.CompletionTokens, r.TotalTokens, r.CostUSD = usage.PromptTokens, usage.CompletionTokens, usage.TotalTokens, usage.Cost
	} else {
		r.PromptTokens, r.CompletionTokens = estimatePrompt(req.Messages), (content+3)/4
		r.TotalTokens, r.Estimated = r.PromptTokens+r.CompletionTokens, true
	}
	g.record(ctx, r)
	if outcome != OutcomeOK {
		return true, "", nil // a cut-short answer is not stored as the reply
	}
	return true, reply.String(), nil
}

// relay writes events to the client, remembering the first write error
// (the client went away) and writing nothing after it.
type relay struct {
	w   io.Writer
	rc  *http.ResponseController
	err error
}

func (s *relay) fail(err error) {
	if s.err == nil && err != nil {
		s.err = err
	}
}

func (s *relay) write(parts ...[]byte) {
	for _, p := range parts {
		if s.err != nil {
			return
		}
		_, err := s.w.Write(p)
		s.fail(err)
	}
}

func (s *relay) flush() {
	if s.err == nil {
		s.fail(s.rc.Flush())
	}
}

// errorEvent ends a stream with an error the client can read: a data
// event whose JSON has an "error" object (OpenAI SDKs raise it).
func (s *relay) errorEvent(code any, message, requestID string) {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": message, "type": "upstream_error", "request_id": requestID}})
	s.write([]byte("data: "), b, []byte("\n\n"))
}
