// Package vault encrypts sensitive values at rest (AES-256-GCM) under a
// keyring of named keys, so keys can be rotated: new values are sealed with
// the primary key, old values still open with the key named in them.
//
// A sealed value is "kid.base64url(nonce || ciphertext)". The associated
// data (aad) binds a ciphertext to its place (a table, column and row id),
// so a value copied to another row does not open.
package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// ErrDecrypt is returned when a value does not open: wrong key, wrong
// associated data, or tampering. It says nothing more, on purpose.
var ErrDecrypt = errors.New("vault: cannot decrypt")

// Keyring holds named AES-256 keys; the first is the primary.
type Keyring struct {
	primary string
	aeads   map[string]cipher.AEAD
	raw     map[string][]byte
}

var kidPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Parse reads a keyring spec "kid:base64key[,kid:base64key...]" (standard
// or URL base64 of 32 bytes); the first key is the primary.
func Parse(spec string) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}, raw: map[string][]byte{}}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		kid, b64, ok := strings.Cut(part, ":")
		if !ok || !kidPattern.MatchString(kid) {
			return nil, errors.New("each key must be written kid:base64 (kid of letters, digits, _ or -)")
		}
		key, err := decodeKey(b64)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", kid, err)
		}
		if _, dup := k.raw[kid]; dup {
			return nil, fmt.Errorf("key %q given twice", kid)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		if k.primary == "" {
			k.primary = kid
		}
		k.aeads[kid], k.raw[kid] = aead, key
	}
	if k.primary == "" {
		return nil, errors.New("no key given")
	}
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != 32 {
				return nil, errors.New("must be 32 bytes (256 bits) in base64")
			}
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// NewKeySpec returns a spec with one fresh random key named kid.
func NewKeySpec(kid string) string {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return kid + ":" + base64.StdEncoding.EncodeToString(key)
}

// LoadOrCreate reads the keyring spec from the file at path, creating the
// file (mode 0600) with a fresh key when it does not exist. It is meant for
// development, where nobody should have to configure a key.
func LoadOrCreate(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, err
		}
		spec := NewKeySpec("k1")
		if err := os.WriteFile(path, []byte(spec+"\n"), 0o600); err != nil {
			return nil, err
		}
		return Parse(spec)
	}
	if err != nil {
		return nil, err
	}
	return Parse(strings.TrimSpace(string(b)))
}

// Primary returns the id of the key new values are sealed with.
func (k *Keyring) Primary() string { return k.primary }

// Seal encrypts plaintext bound to aad with the primary key.
func (k *Keyring) Seal(plaintext, aad []byte) string {
	aead := k.aeads[k.primary]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	_, _ = rand.Read(nonce)
	out := aead.Seal(nonce, nonce, plaintext, aad)
	return k.primary + "." + base64.RawURLEncoding.EncodeToString(out)
}

// SealString is Seal for strings.
func (k *Keyring) SealString(plaintext, aad string) string {
	return k.Seal([]byte(plaintext), []byte(aad))
}

// Open decrypts a sealed value with the key it names. It returns
// ErrDecrypt for anything that does not open.
func (k *Keyring) Open(sealed string, aad []byte) ([]byte, error) {
	kid, b64, ok := strings.Cut(sealed, ".")
	if !ok {
		return nil, ErrDecrypt
	}
	aead, found := k.aeads[kid]
	if !found {
		return nil, ErrDecrypt
	}
	raw, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrDecrypt
	}
	pt, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// OpenString is Open for strings.
func (k *Keyring) OpenString(sealed, aad string) (string, error) {
	b, err := k.Open(sealed, []byte(aad))
	return string(b), err
}

// KeyID returns the id of the key a sealed value was made with.
func KeyID(sealed string) string {
	kid, _, _ := strings.Cut(sealed, ".")
	return kid
}

// Derive returns a 32-byte key for one purpose (an HMAC key, say), derived
// from the primary key with HKDF-SHA256. Different purposes get unrelated
// keys; rotating the primary changes every derived key.
func (k *Keyring) Derive(purpose string) []byte {
	key, err := hkdf.Key(sha256.New, k.raw[k.primary], nil, "mitra:"+purpose, 32)
	if err != nil {
		panic(err) // only for lengths hkdf cannot produce; 32 is fine
	}
	return key
}

// Fingerprints returns the HMAC-SHA256 of value under a key derived for
// purpose from each key of the ring, each written "kid.hex", the primary's
// first and the others in key-id order. Store the first; look a value up by
// all of them (SQL "IN"), so fingerprints made before a rotation still
// match while their key stays in the ring. A fingerprint reveals nothing
// of a low-entropy value (a phone number, a code) without the key.
func (k *Keyring) Fingerprints(purpose string, value []byte) []string {
	kids := make([]string, 0, len(k.raw))
	for kid := range k.raw {
		if kid != k.primary {
			kids = append(kids, kid)
		}
	}
	sort.Strings(kids)
	kids = append([]string{k.primary}, kids...)
	out := make([]string, len(kids))
	for i, kid := range kids {
		out[i] = k.fingerprint(kid, purpose, value)
	}
	return out
}

// Fingerprint is the first of Fingerprints: the one to store.
func (k *Keyring) Fingerprint(purpose string, value []byte) string {
	return k.fingerprint(k.primary, purpose, value)
}

func (k *Keyring) fingerprint(kid, purpose string, value []byte) string {
	key, err := hkdf.Key(sha256.New, k.raw[kid], nil, "mitra:fingerprint:"+purpose, 32)
	if err != nil {
		panic(err) // only for lengths hkdf cannot produce; 32 is fine
	}
	m := hmac.New(sha256.New, key)
	m.Write(value)
	return kid + "." + hex.EncodeToString(m.Sum(nil))
}
