package insurance

import (
	"context"
	"net/http"
)

// CustomerPath names a customer.
type CustomerPath struct {
	CustomerID string `path:"customer_id" maxLength:"36"`
}

// CustomerOutput answers with one customer.
type CustomerOutput struct {
	Status int
	Body   *Customer
}

// CustomersOutput is a page of customers.
type CustomersOutput struct{ Body *CustomerPage }

// ListCustomers serves GET /api/v1/customers.
func (h Handlers) ListCustomers(ctx context.Context, in *CustomerQuery) (*CustomersOutput, error) {
	p, err := h.S.Customers(ctx, *in)
	if err != nil {
		return nil, err
	}
	return &CustomersOutput{Body: p}, nil
}

// CreateCustomerRequest is POST /api/v1/customers.
type CreateCustomerRequest struct{ Body CustomerInput }

// CreateCustomer serves POST /api/v1/customers.
func (h Handlers) CreateCustomer(ctx context.Context, in *CreateCustomerRequest) (*CustomerOutput, error) {
	c, err := h.S.CreateCustomer(ctx, in.Body)
	if err != nil {
		return nil, err
	}
	return &CustomerOutput{Status: http.StatusCreated, Body: c}, nil
}

// GetCustomer serves GET /api/v1/customers/{customer_id}.
func (h Handlers) GetCustomer(ctx context.Context, in *CustomerPath) (*CustomerOutput, error) {
	c, err := h.S.Customer(ctx, in.CustomerID)
	if err != nil {
		return nil, err
	}
	return &CustomerOutput{Status: http.StatusOK, Body: c}, nil
}

// UpdateCustomerRequest is PUT /api/v1/customers/{customer_id}.
type UpdateCustomerRequest struct {
	CustomerPath
	Body CustomerInput
}

// UpdateCustomer serves PUT /api/v1/customers/{customer_id}.
func (h Handlers) UpdateCustomer(ctx context.Context, in *UpdateCustomerRequest) (*CustomerOutput, error) {
	c, err := h.S.UpdateCustomer(ctx, in.CustomerID, in.Body)
	if err != nil {
		return nil, err
	}
	return &CustomerOutput{Status: http.StatusOK, Body: c}, nil
}

// DeleteCustomer serves DELETE /api/v1/customers/{customer_id}.
func (h Handlers) DeleteCustomer(ctx context.Context, in *CustomerPath) (*struct{}, error) {
	return nil, h.S.DeleteCustomer(ctx, in.CustomerID)
}
