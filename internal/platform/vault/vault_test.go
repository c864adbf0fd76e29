package vault

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpenAndRotation(t *testing.T) {
	old, err := Parse(NewKeySpec("k1"))
	if err != nil {
		t.Fatal(err)
	}
	sealed := old.SealString("PAN ABCDE1234F", "customers.pan:42")
	if strings.Contains(sealed, "ABCDE") || KeyID(sealed) != "k1" {
		t.Fatalf("sealed %q", sealed)
	}
	if got, err := old.OpenString(sealed, "customers.pan:42"); err != nil || got != "PAN ABCDE1234F" {
		t.Fatalf("open: %q %v", got, err)
	}
	// Same plaintext twice gives different ciphertexts.
	if old.SealString("x", "a") == old.SealString("x", "a") {
		t.Fatal("nonce reuse")
	}
	// Another row's aad does not open it.
	if _, err := old.OpenString(sealed, "customers.pan:43"); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("wrong aad opened: %v", err)
	}
	// Tampering is detected.
	b := []byte(sealed)
	b[len(b)-3] ^= 1
	if _, err := old.OpenString(string(b), "customers.pan:42"); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("tampered value opened: %v", err)
	}
	// Rotation: a new primary seals, the old key still opens old values.
	oldSpec := strings.Split(strings.TrimSpace(exportSpec(t, old)), ",")[0]
	rotated, err := Parse(NewKeySpec("k2") + "," + oldSpec)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.OpenString(sealed, "customers.pan:42"); err != nil || got != "PAN ABCDE1234F" {
		t.Fatalf("old value after rotation: %q %v", got, err)
	}
	if KeyID(rotated.SealString("y", "")) != "k2" {
		t.Fatal("new values not sealed with the new primary")
	}
	if bytes.Equal(old.Derive("otp"), rotated.Derive("otp")) || bytes.Equal(old.Derive("otp"), old.Derive("refresh")) {
		t.Fatal("derived keys must differ by primary and by purpose")
	}
}

func exportSpec(t *testing.T, k *Keyring) string {
	t.Helper()
	return k.primary + ":" + b64(k.raw[k.primary])
}

func TestParseErrors(t *testing.T) {
	for _, spec := range []string{"", "nokey", "k1:short", "k 1:" + strings.Repeat("A", 44), "k1:!!!!"} {
		if _, err := Parse(spec); err == nil {
			t.Errorf("Parse(%q) accepted", spec)
		}
	}
	k := NewKeySpec("a")
	if _, err := Parse(k + "," + k); err == nil {
		t.Error("duplicate kid accepted")
	}
}

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "encryption.key")
	k1, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v %v", st.Mode(), err)
	}
	k2, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k2.OpenString(k1.SealString("s", "a"), "a"); err != nil || got != "s" {
		t.Fatal("reloaded keyring differs")
	}
}

// A fingerprint made under the old primary still matches after a rotation,
// purposes do not share fingerprints, and a key removed from the ring stops
// matching.
func TestFingerprintsSurviveRotation(t *testing.T) {
	oldSpec := NewKeySpec("a1")
	old, err := Parse(oldSpec)
	if err != nil {
		t.Fatal(err)
	}
	stored := old.Fingerprint("phone", []byte("+6281234567890"))
	if !strings.HasPrefix(stored, "a1.") || len(stored) != len("a1.")+64 {
		t.Fatalf("fingerprint %q", stored)
	}
	if old.Fingerprint("phone", []byte("+6281234567891")) == stored || old.Fingerprint("code", []byte("+6281234567890")) == stored {
		t.Fatal("different values or purposes share a fingerprint")
	}
	rotated, err := Parse(NewKeySpec("b2") + "," + oldSpec)
	if err != nil {
		t.Fatal(err)
	}
	all := rotated.Fingerprints("phone", []byte("+6281234567890"))
	if len(all) != 2 || !strings.HasPrefix(all[0], "b2.") || all[1] != stored || rotated.Fingerprint("phone", []byte("+6281234567890")) != all[0] {
		t.Fatalf("after rotation: %v (stored %s)", all, stored)
	}
	dropped, _ := Parse(NewKeySpec("b2"))
	for _, f := range dropped.Fingerprints("phone", []byte("+6281234567890")) {
		if f == stored {
			t.Fatal("a removed key still matches")
		}
	}
}
