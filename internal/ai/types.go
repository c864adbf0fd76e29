// Package ai is Mitra's gateway to OpenAI-compatible model upstreams
// (OpenRouter by default; a local Ollama or vLLM also works): the upstream
// client, model allow-list and cached model list, retries before the first
// byte, model fallback, a circuit breaker, streaming relay, per-user quotas
// and the usage ledger. The upstream key never leaves this package's
// client; the caller's Mitra token is never forwarded.
package ai

import "encoding/json"

// Message is one chat message.
type Message struct {
	Role    string `json:"role" enum:"system,user,assistant" example:"user"`
	Content string `json:"content" maxLength:"32000" example:"Aku lagi sedih hari ini."`
}

// ChatRequest is what callers ask for (the common subset of OpenAI's chat
// completion request).
type ChatRequest struct {
	Messages    []Message `json:"messages" minItems:"1" maxItems:"200"`
	Model       string    `json:"model,omitempty" maxLength:"100" example:"openai/gpt-4o-mini" doc:"One of the allowed models; the default when empty"`
	Stream      bool      `json:"stream,omitempty" doc:"Answer with server-sent events"`
	Temperature *float64  `json:"temperature,omitempty" minimum:"0" maximum:"2"`
	MaxTokens   *int      `json:"max_tokens,omitempty" minimum:"1" maximum:"32000"`
	TopP        *float64  `json:"top_p,omitempty" minimum:"0" maximum:"1"`
	// PersonaID selects the companion on the Mitra surface; the server then
	// writes the system prompt (client system messages are dropped).
	PersonaID string `json:"persona_id,omitempty" maxLength:"36"`
	// ConversationID continues a stored conversation on the Mitra surface
	// (created when absent; returned in the answer).
	ConversationID string `json:"conversation_id,omitempty" maxLength:"36"`
}

// Usage is the token count of a call and, when the upstream reports it, its
// cost in US dollars.
type Usage struct {
	PromptTokens     int      `json:"prompt_tokens"`
	CompletionTokens int      `json:"completion_tokens"`
	TotalTokens      int      `json:"total_tokens"`
	Cost             *float64 `json:"cost,omitempty" doc:"US dollars, when the upstream reports it"`
}

// upstreamRequest is the body sent upstream.
type upstreamRequest struct {
	Model         string         `json:"model"`
	Messages      []Message      `json:"messages"`
	Stream        bool           `json:"stream,omitempty"`
	Temperature   *float64       `json:"temperature,omitempty"`
	MaxTokens     *int           `json:"max_tokens,omitempty"`
	TopP          *float64       `json:"top_p,omitempty"`
	StreamOptions *streamOptions `json:"stream_options,omitempty"`
	// OpenRouter: report usage with cost.
	Usage *struct {
		Include bool `json:"include"`
	} `json:"usage,omitempty"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// Completion is an OpenAI chat.completion object.
type Completion struct {
	ID      string   `json:"id"`
	Object  string   `json:"object"`
	Created int64    `json:"created"`
	Model   string   `json:"model"`
	Choices []Choice `json:"choices"`
	Usage   *Usage   `json:"usage,omitempty"`
	// Error is set by OpenRouter when generation failed after it began
	// (the status is still 200).
	Error json.RawMessage `json:"error,omitempty"`
}

// Choice is one completion choice.
type Choice struct {
	Index        int     `json:"index"`
	Message      Message `json:"message"`
	FinishReason string  `json:"finish_reason"`
}

// chunk is the part of a chat.completion.chunk the gateway reads.
type chunk struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Choices []struct {
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *Usage          `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// Model is an entry of the model list, in OpenAI's list shape with
// OpenRouter's context length and pricing.
type Model struct {
	ID            string          `json:"id" example:"openai/gpt-4o-mini"`
	Object        string          `json:"object" example:"model"`
	Created       int64           `json:"created"`
	OwnedBy       string          `json:"owned_by" example:"openai"`
	Name          string          `json:"name,omitempty"`
	ContextLength int             `json:"context_length,omitempty" example:"128000"`
	Pricing       json.RawMessage `json:"pricing,omitempty" doc:"Upstream prices per token, as the upstream reports them"`
}
