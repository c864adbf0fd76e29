// Package ids makes the identifiers of rows exposed in the API: UUIDv7
// strings, which sort by creation time.
package ids

import "github.com/google/uuid"

// New returns a new UUIDv7 string.
func New() string {
	u, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString() // only if the random source fails
	}
	return u.String()
}

// Valid reports whether s is a UUID in canonical form.
func Valid(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}
