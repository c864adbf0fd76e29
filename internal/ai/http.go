package ai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/httpx"
	"mitra/internal/platform/ids"
	"mitra/internal/platform/logging"
)

// Endpoints recorded in the ledger.
const (
	EndpointChat        = "chat"
	EndpointCompletions = "chat.completions"
)

// ChatAnswer is the non-streaming answer of POST /api/ai/chat.
type ChatAnswer struct {
	ID      string          `json:"id" example:"gen-1732212345-abc"`
	Model   string          `json:"model" example:"openai/gpt-4o-mini"`
	Message Message         `json:"message"`
	Usage   *Usage          `json:"usage,omitempty"`
	Crisis  json.RawMessage `json:"crisis,omitempty" doc:"Present when the user's message shows risk: level, a safe-messaging reply and professional resources"`
	// ConversationID is the stored conversation (Persona).
	ConversationID string `json:"conversation_id,omitempty"`
}

// SafetyCheck is what the chat surface asks before any model call (the
// Persona product's crisis check; the caller of ai declares nothing about
// it but this). It gets the user's messages, oldest first, and returns a
// notice to put before the model's answer, as JSON with at least a
// "reply" string, or nil when there is nothing to say.
type SafetyCheck interface {
	Check(ctx context.Context, p access.Principal, userMessages []string) (json.RawMessage, error)
}

// SafetyReview is the chat's second opinion on the user's messages (the
// Persona product's crisis reviewer), an optional extension of
// SafetyCheck. It runs beside the model call on the Mitra surface and
// returns a notice when a closer reading raises the risk above what the
// check found, or nil. It must bound its own time.
type SafetyReview interface {
	Review(ctx context.Context, p access.Principal, userMessages []string) (json.RawMessage, error)
}

// PromptSource writes the system prompt of a Mitra-surface chat (the
// persona's prompt and safety rules); persona_not_found for an unknown
// persona.
type PromptSource interface {
	SystemPrompt(ctx context.Context, personaID string) (string, error)
}

// ConversationStore keeps the Mitra surface's conversations (the Persona
// product's). Prepare finds or creates the conversation, stores the new
// user message and returns its id and the messages to send, as
// role/content pairs; Reply stores the assistant's answer.
type ConversationStore interface {
	// Prepare returns the conversation id, its persona (the stored one for
	// an existing conversation) and the messages to send.
	Prepare(ctx context.Context, p access.Principal, conversationID, personaID string, incoming [][2]string) (id, persona string, send [][2]string, err error)
	Reply(ctx context.Context, p access.Principal, conversationID, content string)
	// Compact folds history beyond the context budget into a summary; it
	// runs after the answer, never before the safety check.
	Compact(ctx context.Context, p access.Principal, conversationID string)
	// RecentUserMessages returns the conversation's last n user messages,
	// oldest first, whatever fits the model's context: the safety check
	// reads them so earlier distress still counts.
	RecentUserMessages(ctx context.Context, conversationID string, n int) []string
}

// Handlers serve the AI routes. Safety, Prompts and Conversations, when
// set, apply to the Mitra chat surface (the Persona app's), not to the
// OpenAI-compatible one.
type Handlers struct {
	G             *Gateway
	Safety        SafetyCheck
	Prompts       PromptSource
	Conversations ConversationStore
}

// decodeChat reads and checks a chat request body. Unknown fields are
// ignored (OpenAI SDKs send more than the gateway uses).
func decodeChat(r *http.Request) (ChatRequest, error) {
	var req ChatRequest
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&req); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return req, apperr.New(apperr.TooLarge, "request body too large")
		}
		return req, apperr.New(apperr.BadRequest, "request body is not valid JSON for a chat request")
	}
	return req, validateChat(req)
}

func validateChat(req ChatRequest) error {
	var fields []apperr.FieldError
	add := func(loc, msg string) { fields = append(fields, apperr.FieldError{Location: loc, Message: msg}) }
	if len(req.Messages) == 0 || len(req.Messages) > 200 {
		add("body.messages", "must hold 1 to 200 messages")
	}
	total := 0
	for i, m := range req.Messages {
		switch m.Role {
		case "system", "user", "assistant":
		default:
			add(fmt.Sprintf("body.messages[%d].role", i), "must be system, user or assistant")
		}
		if len(m.Content) > 32000 {
			add(fmt.Sprintf("body.messages[%d].content", i), "must be at most 32000 bytes")
		}
		total += len(m.Content)
	}
	if total > 200_000 {
		add("body.messages", "conversation too long (200000 bytes at most)")
	}
	if t := req.Temperature; t != nil && (*t < 0 || *t > 2) {
		add("body.temperature", "must be between 0 and 2")
	}
	if t := req.TopP; t != nil && (*t < 0 || *t > 1) {
		add("body.top_p", "must be between 0 and 1")
	}
	if n := req.MaxTokens; n != nil && (*n < 1 || *n > 32000) {
		add("body.max_tokens", "must be between 1 and 32000")
	}
	if len(req.Model) > 100 {
		add("body.model", "too long")
	}
	if req.PersonaID != "" && !ids.Valid(req.PersonaID) {
		add("body.persona_id", "must be a persona id")
	}
	if req.ConversationID != "" && !ids.Valid(req.ConversationID) {
		add("body.conversation_id", "must be a conversation id")
	}
	if len(fields) > 0 {
		return &apperr.Error{Code: apperr.Invalid, Message: "validation failed", Fields: fields}
	}
	return nil
}

// serveChat is shared by both chat surfaces: shape turns a completion (and
// the upstream's JSON) into the surface's answer. persona is true on the
// Mitra surface: conversations and the persona's prompt apply there. The
// safety check runs on both, before anything goes upstream, and a person
// at risk is answered whatever else fails.
func (h Handlers) serveChat(w http.ResponseWriter, r *http.Request, endpoint string, persona bool, shape func(*Completion, []byte) any) {
	ctx := r.Context()
	p, ok := access.From(ctx)
	if !ok {
		httpx.WriteError(w, r, apperr.New(apperr.Unauthorized, "missing or invalid access token"))
		return
	}
	req, err := decodeChat(r)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	userTexts := func() []string {
		var texts []string
		for _, m := range req.Messages {
			if m.Role == "user" {
				texts = append(texts, m.Content)
			}
		}
		return texts
	}
	convs := h.Conversations
	if !persona {
		convs = nil
	}
	convID, personaID := "", req.PersonaID
	if !persona {
		personaID = "" // personas belong to the Persona surface
	}
	var prepErr error
	if convs != nil {
		in := make([][2]string, 0, len(req.Messages))
		for _, m := range req.Messages {
			in = append(in, [2]string{m.Role, m.Content})
		}
		id, pid, send, err := convs.Prepare(ctx, p, req.ConversationID, req.PersonaID, in)
		if err != nil {
			prepErr = err
		} else {
			convID, personaID = id, pid
			req.Messages = req.Messages[:0]
			for _, m := range send {
				req.Messages = append(req.Messages, Message{Role: m[0], Content: m[1]})
			}
		}
	}
	var notice json.RawMessage
	var texts []string
	if h.Safety != nil {
		texts = userTexts()
		if convID != "" {
			if recent := convs.RecentUserMessages(ctx, convID, 10); len(recent) > 0 {
				texts = recent
			}
		}
		if notice, err = h.Safety.Check(ctx, p, texts); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
	}
	// The second opinion runs beside the model call, once the call is
	// admitted (a caller over their limits costs no safety call); the
	// answer waits for it (reviewed) only where it would speak first:
	// before the stream's first byte or the JSON answer. Where the check
	// already found risk and the model failed, the person is answered at
	// once.
	var review chan json.RawMessage
	startReview := func() {
		rv, ok := h.Safety.(SafetyReview)
		if !ok || !persona {
			return
		}
		ch := make(chan json.RawMessage, 1)
		go func(ctx context.Context) {
			n, err := rv.Review(ctx, p, texts)
			if err != nil {
				logging.FromContext(ctx).Warn("crisis second opinion failed", "err", err)
			}
			ch <- n
		}(ctx)
		review = ch
	}
	reviewed := func() json.RawMessage {
		if review != nil {
			if n := <-review; n != nil {
				notice = n
			}
			review = nil
		}
		return notice
	}
	orReviewed := func() json.RawMessage {
		if notice != nil {
			return notice
		}
		return reviewed()
	}
	answerNotice := func(stream bool) {
		if persona {
			h.writeNoticeOnly(w, r, p, convs, convID, stream, notice)
		} else {
			writeNoticeOpenAI(w, stream, notice)
		}
	}
	if prepErr != nil {
		if notice != nil {
			answerNotice(req.Stream) // a stale conversation id must not cost a person at risk their answer
			return
		}
		httpx.WriteError(w, r, prepErr)
		return
	}
	if notice != nil && !persona {
		// The OpenAI-compatible surface speaks only OpenAI's shapes: the safety
		// reply is the answer (with the crisis object beside it).
		answerNotice(req.Stream)
		return
	}
	if h.Prompts != nil {
		sys, err := h.Prompts.SystemPrompt(ctx, personaID)
		if err != nil {
			if notice == nil {
				httpx.WriteError(w, r, err)
				return
			}
			sys, _ = h.Prompts.SystemPrompt(ctx, "") // the base rules at least
		}
		msgs := []Message{{Role: "system", Content: sys}}
		for _, m := range req.Messages {
			// On the Persona surface the server's prompt replaces any system
			// message the client sent; on the OpenAI surface the client's
			// own follow the base rules.
			if m.Role != "system" || !persona {
				msgs = append(msgs, m)
			}
		}
		req.Messages = msgs
	}
	adm, err := h.G.Admit(ctx, p)
	adm.Headers(w.Header())
	if err != nil {
		if notice != nil {
			// A person at risk gets the safety reply and resources even when
			// no model can answer (not configured, over quota).
			answerNotice(req.Stream)
			return
		}
		httpx.WriteError(w, r, err)
		return
	}
	startReview()
	// Never let one call generate more than the caller has left.
	if rem := adm.Quota.remaining(); rem >= 0 && (req.MaxTokens == nil || int64(*req.MaxTokens) > rem) {
		n := int(max(1, min(rem, 32000)))
		req.MaxTokens = &n
	}
	// A call may take longer than an ordinary request (retries, a slow
	// model): the write deadline is lifted and the call bounded instead.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	if req.Stream {
		prelude := func(w io.Writer) error {
			if convID != "" {
				if _, err := fmt.Fprintf(w, "event: conversation\ndata: {\"conversation_id\":%q}\n\n", convID); err != nil {
					return err
				}
			}
			if n := reviewed(); n != nil {
				_, err := fmt.Fprintf(w, "event: crisis\ndata: %s\n\n", n)
				return err
			}
			return nil
		}
		started, text, err := h.G.StreamText(ctx, p, req, endpoint, w, prelude)
		if err != nil && !started && ctx.Err() == nil {
			if orReviewed() != nil {
				answerNotice(true)
				return
			}
			httpx.WriteError(w, r, err)
			return
		}
		if convs != nil {
			convs.Reply(ctx, p, convID, text)
			convs.Compact(ctx, p, convID)
		}
		return
	}
	ctx, cancel := context.WithTimeout(ctx, h.G.callTimeout())
	defer cancel()
	comp, raw, err := h.G.complete(ctx, p, req, endpoint)
	if err != nil {
		if r.Context().Err() != nil {
			return // the client left (or the call ran out of time): nobody to answer
		}
		if orReviewed() != nil {
			answerNotice(false) // the upstream failed or refused: the person is still answered
			return
		}
		httpx.WriteError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	v := shape(comp, raw)
	if a, ok := v.(ChatAnswer); ok {
		a.Crisis, a.ConversationID = reviewed(), convID
		v = a
	}
	switch v := v.(type) {
	case []byte:
		_, _ = w.Write(v)
	default:
		_ = json.NewEncoder(w).Encode(v)
	}
	if convs != nil {
		// After the answer has gone out: store the reply, then fold old
		// history into the summary if the conversation outgrew its budget.
		convs.Reply(ctx, p, convID, comp.Choices[0].Message.Content)
		convs.Compact(r.Context(), p, convID)
	}
}

// writeNoticeOpenAI answers the OpenAI-compatible surface with the safety
// reply as the assistant's message, in OpenAI's shapes, with the crisis
// object beside it in the JSON answer.
func writeNoticeOpenAI(w http.ResponseWriter, stream bool, notice json.RawMessage) {
	var n struct {
		Reply string `json:"reply"`
	}
	_ = json.Unmarshal(notice, &n)
	w.Header().Set("Cache-Control", "no-store")
	now := time.Now().Unix()
	if !stream {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "safety", "object": "chat.completion", "created": now, "model": "mitra-safety",
			"choices": []any{map[string]any{"index": 0, "message": Message{Role: "assistant", Content: n.Reply}, "finish_reason": "stop"}},
			"crisis":  notice})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	chunk, _ := json.Marshal(map[string]any{"id": "safety", "object": "chat.completion.chunk", "created": now, "model": "mitra-safety",
		"choices": []any{map[string]any{"index": 0, "delta": map[string]string{"role": "assistant", "content": n.Reply}, "finish_reason": "stop"}}})
	fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", chunk)
	_ = http.NewResponseController(w).Flush()
}

// writeNoticeOnly answers with the safety notice alone: its reply as the
// assistant's message (JSON), or the notice event, the reply as a chunk
// and [DONE] (stream). The reply is stored in the conversation, if any.
func (h Handlers) writeNoticeOnly(w http.ResponseWriter, r *http.Request, p access.Principal, convs ConversationStore, convID string, stream bool, notice json.RawMessage) {
	var n struct {
		Reply string `json:"reply"`
	}
	_ = json.Unmarshal(notice, &n)
	if convs != nil && convID != "" {
		convs.Reply(r.Context(), p, convID, n.Reply)
	}
	w.Header().Set("Cache-Control", "no-store")
	if !stream {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(ChatAnswer{ID: "safety", Model: "mitra-safety", Message: Message{Role: "assistant", Content: n.Reply}, Crisis: notice, ConversationID: convID})
		return
	}
	if convID != "" {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, "event: conversation\ndata: {\"conversation_id\":%q}\n\n", convID)
	}
	if convID == "" {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
	}
	chunk, _ := json.Marshal(map[string]any{"id": "safety", "object": "chat.completion.chunk", "model": "mitra-safety",
		"choices": []any{map[string]any{"index": 0, "delta": map[string]string{"role": "assistant", "content": n.Reply}, "finish_reason": "stop"}}})
	fmt.Fprintf(w, "event: crisis\ndata: %s\n\ndata: %s\n\ndata: [DONE]\n\n", notice, chunk)
	_ = http.NewResponseController(w).Flush()
}

// Chat serves POST /api/ai/chat and /api/v1/ai/chat.
func (h Handlers) Chat() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.serveChat(w, r, EndpointChat, true, func(c *Completion, _ []byte) any {
			return ChatAnswer{ID: c.ID, Model: c.Model, Message: Message{Role: "assistant", Content: c.Choices[0].Message.Content}, Usage: c.Usage}
		})
	})
}

// Completions serves the OpenAI-compatible POST /api/v1/ai/chat/completions.
func (h Handlers) Completions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The upstream's own JSON, relayed as received: nothing dropped, no
		// second encoding. Only the model may be missing (filled for the
		// Mitra shape); OpenAI-compatible upstreams always send it.
		h.serveChat(w, r, EndpointCompletions, false, func(_ *Completion, raw []byte) any { return raw })
	})
}

// ModelsOutput is the model list in OpenAI's shape.
type ModelsOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         struct {
		Object string  `json:"object" example:"list"`
		Data   []Model `json:"data"`
	}
}

// ListModels serves GET /api/ai/models and /api/v1/ai/models.
func (h Handlers) ListModels(ctx context.Context, _ *struct{}) (*ModelsOutput, error) {
	models, err := h.G.Models(ctx)
	if err != nil {
		return nil, err
	}
	out := &ModelsOutput{CacheControl: "private, max-age=300"}
	out.Body.Object, out.Body.Data = "list", models
	return out, nil
}

// UsageOutput is the caller's usage.
type UsageOutput struct{ Body *MyUsage }

// MyUsage serves GET /api/v1/ai/usage.
func (h Handlers) MyUsage(ctx context.Context, _ *struct{}) (*UsageOutput, error) {
	p, ok := access.From(ctx)
	if !ok {
		return nil, apperr.New(apperr.Unauthorized, "missing or invalid access token")
	}
	if !h.G.Enabled() {
		return nil, errNotConfigured
	}
	u, err := h.G.Usage(ctx, p)
	if err != nil {
		return nil, err
	}
	return &UsageOutput{Body: u}, nil
}

// SummaryInput filters the summary.
type SummaryInput struct {
	By    string `query:"by" enum:"user,model,day" default:"day"`
	From  string `query:"from" format:"date-time"`
	To    string `query:"to" format:"date-time"`
	Limit int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
}

// SummaryOutput is the administrators' summary.
type SummaryOutput struct {
	Body struct {
		By   string       `json:"by"`
		Rows []SummaryRow `json:"rows"`
	}
}

// Summary serves GET /api/v1/ai/usage/summary.
func (h Handlers) Summary(ctx context.Context, in *SummaryInput) (*SummaryOutput, error) {
	if !h.G.Enabled() {
		return nil, errNotConfigured
	}
	from, err := httpx.ParseTime("query.from", in.From)
	if err != nil {
		return nil, err
	}
	to, err := httpx.ParseTime("query.to", in.To)
	if err != nil {
		return nil, err
	}
	rows, err := h.G.Summary(ctx, in.By, from, to, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &SummaryOutput{}
	out.Body.By, out.Body.Rows = in.By, rows
	return out, nil
}
