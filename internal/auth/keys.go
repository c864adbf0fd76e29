package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"mitra/internal/platform/database"
	"mitra/internal/platform/ids"
	"mitra/internal/platform/vault"
)

// signingKey is one ES256 key pair.
type signingKey struct {
	kid       string
	private   *ecdsa.PrivateKey
	public    *ecdsa.PublicKey
	createdAt time.Time
}

// KeySet holds the token signing keys: the newest signs, every key not yet
// retired verifies. Private keys are stored encrypted with the vault. The
// set is cached and reloaded periodically and when a token names an
// unknown key (another node may have rotated).
type KeySet struct {
	db    *database.DB
	vault *vault.Keyring
	now   func() time.Time
	// retireAfter is how long a superseded key keeps verifying: longer
	// than the life of the tokens it signed.
	retireAfter time.Duration

	mu         sync.RWMutex
	keys       map[string]*signingKey
	current    *signingKey
	jwks       []byte
	loadedAt   time.Time
	lastReload time.Time
}

// NewKeySet loads the keys, creating the first one when there is none.
func NewKeySet(ctx context.Context, db *database.DB, v *vault.Keyring, now func() time.Time, retireAfter time.Duration) (*KeySet, error) {
	ks := &KeySet{db: db, vault: v, now: now, retireAfter: retireAfter}
	if err := ks.load(ctx); err != nil {
		return nil, err
	}
	if ks.current == nil {
		if _, err := ks.Rotate(ctx); err != nil {
			return nil, err
		}
	}
	return ks, nil
}

// Rotate adds a new signing key, which signs from now on (on other nodes,
// from their next reload); older keys verify until retired. It retires keys
// superseded for longer than the token lifetime and returns the new kid.
func (ks *KeySet) Rotate(ctx context.Context) (string, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", err
	}
	kid := ids.New()
	jwk, err := json.Marshal(jose.JSONWebKey{Key: &priv.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"})
	if err != nil {
		return "", err
	}
	now := ks.now()
	err = ks.db.InTx(ctx, func(tx *database.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk, created_at) VALUES (?, 'ES256', ?, ?, ?)`,
			kid, ks.vault.Seal(der, []byte("signing_keys:"+kid)), string(jwk), now); err != nil {
			return err
		}
		// Keys superseded more than retireAfter ago stop verifying.
		_, err := tx.Exec(ctx, `UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL AND kid <> ?
			AND created_at < (SELECT max(created_at) FROM signing_keys k2 WHERE k2.created_at <= ?)`,
			now, kid, now.Add(-ks.retireAfter))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("auth: rotate keys: %w", err)
	}
	return kid, ks.load(ctx)
}

func (ks *KeySet) load(ctx context.Context) error {
	rows, err := ks.db.Query(ctx, `SELECT kid, private_key, created_at FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at`)
	if err != nil {
		return fmt.Errorf("auth: load keys: %w", err)
	}
	defer rows.Close()
	keys := map[string]*signingKey{}
	var current *signingKey
	var set jose.JSONWebKeySet
	for rows.Next() {
		var kid, sealed string
		var created time.Time
		if err := rows.Scan(&kid, &sealed, &created); err != nil {
			return fmt.Errorf("auth: load keys: %w", err)
		}
		der, err := ks.vault.Open(sealed, []byte("signing_keys:"+kid))
		if err != nil {
			return fmt.Errorf("auth: signing key %s does not decrypt with the configured encryption keys", kid)
		}
		pk, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return fmt.Errorf("auth: signing key %s: %w", kid, err)
		}
		priv, ok := pk.(*ecdsa.PrivateKey)
		if !ok {
			return fmt.Errorf("auth: signing key %s is not ECDSA", kid)
		}
		k := &signingKey{kid: kid, private: priv, public: &priv.PublicKey, createdAt: created}
		keys[kid] = k
		current = k // ordered by creation: the last is the newest
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.public, KeyID: kid, Algorithm: "ES256", Use: "sig"})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("auth: load keys: %w", err)
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return err
	}
	ks.mu.Lock()
	ks.keys, ks.current, ks.jwks, ks.loadedAt = keys, current, jwks, ks.now()
	ks.mu.Unlock()
	return nil
}

// JWKS returns the public keys as a JSON Web Key Set document.
func (ks *KeySet) JWKS() []byte {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.jwks
}

// Refresh reloads the keys if the cache is older than maxAge.
func (ks *KeySet) Refresh(ctx context.Context, maxAge time.Duration) error {
	ks.mu.RLock()
	stale := ks.now().Sub(ks.loadedAt) > maxAge
	ks.mu.RUnlock()
	if !stale {
		return nil
	}
	return ks.load(ctx)
}

func (ks *KeySet) signer() *signingKey {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.current
}

// publicKey finds a verification key, reloading at most every 10 seconds
// when the kid is unknown.
func (ks *KeySet) publicKey(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	ks.mu.RLock()
	k, ok := ks.keys[kid]
	mayReload := ks.now().Sub(ks.lastReload) > 10*time.Second
	ks.mu.RUnlock()
	if ok {
		return k.public, nil
	}
	if mayReload {
		ks.mu.Lock()
		ks.lastReload = ks.now()
		ks.mu.Unlock()
		if err := ks.load(ctx); err == nil {
			ks.mu.RLock()
			k, ok = ks.keys[kid]
			ks.mu.RUnlock()
			if ok {
				return k.public, nil
			}
		}
	}
	return nil, errUnknownKey
}

var errUnknownKey = errors.New("unknown signing key")

// accessClaims are the claims of an access token.
type accessClaims struct {
	jwt.RegisteredClaims
	SID  string `json:"sid"`
	Role string `json:"role"`
}

// sign issues an access token.
func (ks *KeySet) sign(c accessClaims) (string, error) {
	k := ks.signer()
	if k == nil {
		return "", errors.New("auth: no signing key")
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	tok.Header["kid"] = k.kid
	return tok.SignedString(k.private)
}
