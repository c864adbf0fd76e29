// Package page implements cursor pagination: a limit capped at 100 and an
// opaque cursor carrying the sort key of the last row returned.
package page

import (
	"encoding/base64"
	"encoding/json"

	"mitra/internal/platform/apperr"
)

// Limits.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Limit clamps a requested page size: 0 means the default, and nothing
// above MaxLimit is served.
func Limit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// Cursor is the position after the last row of a page: the value of the
// sort column and the row id (the tie-breaker).
type Cursor struct {
	Sort string `json:"s,omitempty"`
	ID   string `json:"i"`
}

// Encode returns the opaque form of c.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode reads an opaque cursor; "" gives the zero cursor (first page).
// A malformed cursor is an Invalid error on query.cursor.
func Decode(s string) (Cursor, error) {
	var c Cursor
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.ID == "" {
		return Cursor{}, apperr.Field("query.cursor", "malformed cursor")
	}
	return c, nil
}
