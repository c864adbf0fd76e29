package insurance

// Handlers are the Agent product's HTTP operations in huma's typed form.
type Handlers struct{ S *Service }
