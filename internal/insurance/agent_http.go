package insurance

import (
	"context"
	"net/http"
)

// ProvidersOutput lists providers.
type ProvidersOutput struct {
	Body struct {
		Providers []Provider `json:"providers"`
	}
}

// ListProviders serves GET /api/v1/providers.
func (h Handlers) ListProviders(ctx context.Context, _ *struct{}) (*ProvidersOutput, error) {
	list, err := h.S.Providers(ctx)
	if err != nil {
		return nil, err
	}
	out := &ProvidersOutput{}
	out.Body.Providers = append([]Provider{}, list...)
	return out, nil
}

// ProviderPath names a provider.
type ProviderPath struct {
	ProviderID string `path:"provider_id" maxLength:"36"`
}

// ProviderOutput answers with one provider.
type ProviderOutput struct {
	Status int
	Body   *Provider
}

// GetProvider serves GET /api/v1/providers/{provider_id}.
func (h Handlers) GetProvider(ctx context.Context, in *ProviderPath) (*ProviderOutput, error) {
	p, err := h.S.Provider(ctx, in.ProviderID)
	if err != nil {
		return nil, err
	}
	return &ProviderOutput{Status: http.StatusOK, Body: p}, nil
}

// CreateProviderRequest is POST /api/v1/providers.
type CreateProviderRequest struct{ Body ProviderInput }

// CreateProvider serves POST /api/v1/providers.
func (h Handlers) CreateProvider(ctx context.Context, in *CreateProviderRequest) (*ProviderOutput, error) {
	p, err := h.S.PutProvider(ctx, "", in.Body)
	if err != nil {
		return nil, err
	}
	return &ProviderOutput{Status: http.StatusCreated, Body: p}, nil
}

// UpdateProviderRequest is PUT /api/v1/providers/{provider_id}.
type UpdateProviderRequest struct {
	ProviderPath
	Body ProviderInput
}

// UpdateProvider serves PUT /api/v1/providers/{provider_id}.
func (h Handlers) UpdateProvider(ctx context.Context, in *UpdateProviderRequest) (*ProviderOutput, error) {
	p, err := h.S.PutProvider(ctx, in.ProviderID, in.Body)
	if err != nil {
		return nil, err
	}
	return &ProviderOutput{Status: http.StatusOK, Body: p}, nil
}

// StaffPath names a provider and a user.
type StaffPath struct {
	ProviderPath
	UserID string `path:"user_id" maxLength:"36"`
}

// LinkStaff serves PUT /api/v1/providers/{provider_id}/staff/{user_id}.
func (h Handlers) LinkStaff(ctx context.Context, in *StaffPath) (*struct{}, error) {
	return nil, h.S.SetProviderStaff(ctx, in.ProviderID, in.UserID)
}

// ApplyRequest is POST /api/v1/agents/register.
type ApplyRequest struct{ Body AgentApplication }

// AgentOutput answers with an agent's profile.
type AgentOutput struct {
	Status int
	Body   *Agent
}

// Apply serves POST /api/v1/agents/register.
func (h Handlers) Apply(ctx context.Context, in *ApplyRequest) (*AgentOutput, error) {
	a, err := h.S.Apply(ctx, in.Body)
	if err != nil {
		return nil, err
	}
	return &AgentOutput{Status: http.StatusCreated, Body: a}, nil
}

// AgentsOutput is a page of agents.
type AgentsOutput struct{ Body *AgentPage }

// ListAgents serves GET /api/v1/agents.
func (h Handlers) ListAgents(ctx context.Context, in *AgentFilter) (*AgentsOutput, error) {
	p, err := h.S.Agents(ctx, *in)
	if err != nil {
		return nil, err
	}
	return &AgentsOutput{Body: p}, nil
}

// AgentPath names an agent.
type AgentPath struct {
	AgentID string `path:"agent_id" maxLength:"36"`
}

// GetAgent serves GET /api/v1/agents/{agent_id}.
func (h Handlers) GetAgent(ctx context.Context, in *AgentPath) (*AgentOutput, error) {
	a, err := h.S.GetAgent(ctx, in.AgentID)
	if err != nil {
		return nil, err
	}
	return &AgentOutput{Status: http.StatusOK, Body: a}, nil
}

// UpdateAgentRequest is PUT /api/v1/agents/{agent_id}.
type UpdateAgentRequest struct {
	AgentPath
	Body AgentProfileInput
}

// UpdateAgent serves PUT /api/v1/agents/{agent_id}.
func (h Handlers) UpdateAgent(ctx context.Context, in *UpdateAgentRequest) (*AgentOutput, error) {
	a, err := h.S.UpdateAgent(ctx, in.AgentID, in.Body)
	if err != nil {
		return nil, err
	}
	return &AgentOutput{Status: http.StatusOK, Body: a}, nil
}

// DecisionRequest is POST /api/v1/agents/{agent_id}/{action}.
type DecisionRequest struct {
	AgentPath
	Body DecisionInput
}

// Decision returns the handler of one review action: verify, approve,
// reject, suspend or reinstate.
func (h Handlers) Decision(action string) func(context.Context, *DecisionRequest) (*AgentOutput, error) {
	return func(ctx context.Context, in *DecisionRequest) (*AgentOutput, error) {
		a, err := h.S.Decide(ctx, in.AgentID, action, in.Body)
		if err != nil {
			return nil, err
		}
		return &AgentOutput{Status: http.StatusOK, Body: a}, nil
	}
}

// AgentProvidersOutput lists an agent's provider links.
type AgentProvidersOutput struct {
	Body struct {
		Providers []AgentProvider `json:"providers"`
	}
}

// ListAgentProviders serves GET /api/v1/agents/{agent_id}/providers.
func (h Handlers) ListAgentProviders(ctx context.Context, in *AgentPath) (*AgentProvidersOutput, error) {
	list, err := h.S.AgentProviders(ctx, in.AgentID)
	if err != nil {
		return nil, err
	}
	out := &AgentProvidersOutput{}
	out.Body.Providers = list
	return out, nil
}

// LinkPath names an agent and a provider.
type LinkPath struct {
	AgentPath
	ProviderID string `path:"provider_id" maxLength:"36"`
}

// LinkRequest is PUT /api/v1/agents/{agent_id}/providers/{provider_id}.
type LinkRequest struct {
	LinkPath
	Body LinkInput
}

// LinkProvider serves PUT /api/v1/agents/{agent_id}/providers/{provider_id}.
func (h Handlers) LinkProvider(ctx context.Context, in *LinkRequest) (*AgentProvidersOutput, error) {
	list, err := h.S.LinkProvider(ctx, in.AgentID, in.ProviderID, in.Body)
	if err != nil {
		return nil, err
	}
	out := &AgentProvidersOutput{}
	out.Body.Providers = list
	return out, nil
}

// UnlinkProvider serves DELETE /api/v1/agents/{agent_id}/providers/{provider_id}.
func (h Handlers) UnlinkProvider(ctx context.Context, in *LinkPath) (*struct{}, error) {
	return nil, h.S.UnlinkProvider(ctx, in.AgentID, in.ProviderID)
}
