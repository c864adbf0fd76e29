package insurance

import (
	"context"
	"net/http"
)

// PolicyPath names a policy.
type PolicyPath struct {
	PolicyID string `path:"policy_id" maxLength:"36"`
}

// PolicyOutput answers with one policy.
type PolicyOutput struct {
	Status int
	Body   *Policy
}

// PoliciesOutput is a page of policies.
type PoliciesOutput struct{ Body *PolicyPage }

// ListPolicies serves GET /api/v1/policies.
func (h Handlers) ListPolicies(ctx context.Context, in *PolicyQuery) (*PoliciesOutput, error) {
	p, err := h.S.Policies(ctx, *in)
	if err != nil {
		return nil, err
	}
	return &PoliciesOutput{Body: p}, nil
}

// CreatePolicyRequest is POST /api/v1/policies.
type CreatePolicyRequest struct{ Body PolicyInput }

// CreatePolicy serves POST /api/v1/policies.
func (h Handlers) CreatePolicy(ctx context.Context, in *CreatePolicyRequest) (*PolicyOutput, error) {
	p, err := h.S.CreatePolicy(ctx, in.Body)
	if err != nil {
		return nil, err
	}
	return &PolicyOutput{Status: http.StatusCreated, Body: p}, nil
}

// GetPolicy serves GET /api/v1/policies/{policy_id}.
func (h Handlers) GetPolicy(ctx context.Context, in *PolicyPath) (*PolicyOutput, error) {
	p, err := h.S.Policy(ctx, in.PolicyID)
	if err != nil {
		return nil, err
	}
	return &PolicyOutput{Status: http.StatusOK, Body: p}, nil
}

// UpdatePolicyRequest is PUT /api/v1/policies/{policy_id}.
type UpdatePolicyRequest struct {
	PolicyPath
	Body PolicyInput
}

// UpdatePolicy serves PUT /api/v1/policies/{policy_id}.
func (h Handlers) UpdatePolicy(ctx context.Context, in *UpdatePolicyRequest) (*PolicyOutput, error) {
	p, err := h.S.UpdatePolicy(ctx, in.PolicyID, in.Body)
	if err != nil {
		return nil, err
	}
	return &PolicyOutput{Status: http.StatusOK, Body: p}, nil
}

// DeletePolicy serves DELETE /api/v1/policies/{policy_id}.
func (h Handlers) DeletePolicy(ctx context.Context, in *PolicyPath) (*struct{}, error) {
	return nil, h.S.DeletePolicy(ctx, in.PolicyID)
}

// PolicyStatusRequest is POST /api/v1/policies/{policy_id}/status.
type PolicyStatusRequest struct {
	PolicyPath
	Body StatusInput
}

// UpdatePolicyStatus serves POST /api/v1/policies/{policy_id}/status.
func (h Handlers) UpdatePolicyStatus(ctx context.Context, in *PolicyStatusRequest) (*PolicyOutput, error) {
	p, err := h.S.UpdatePolicyStatus(ctx, in.PolicyID, in.Body)
	if err != nil {
		return nil, err
	}
	return &PolicyOutput{Status: http.StatusOK, Body: p}, nil
}
