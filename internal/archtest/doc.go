// Package archtest holds the test that keeps the package dependency
// direction of docs (ARCHITECTURE.md) true:
//
//	cmd → server → {auth, ai, persona, insurance, console} → platform
//
// Nothing imports server or cmd; platform imports no domain; a domain does
// not import another domain (domains talk through interfaces the caller
// declares); an outside-service client under a domain never imports its
// domain.
package archtest
