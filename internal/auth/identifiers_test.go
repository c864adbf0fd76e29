package auth

import "testing"

func TestNormalizePhone(t *testing.T) {
	ok := map[string]string{
		"+62 812-3456-7890": "+6281234567890",
		"081234567890":      "+6281234567890",
		"0812 3456 7890":    "+6281234567890",
		"6281234567890":     "+6281234567890",
		"006281234567890":   "+6281234567890",
		"81234567890":       "+6281234567890",
		"+91 98123 45678":   "+919812345678",
		"9812345678":        "+919812345678",
		"09812345678":       "+919812345678",
		"919812345678":      "+919812345678",
		"(+91) 98123-45678": "+919812345678",
		"+1 (202) 555-0143": "+12025550143",
		"+44 7911 123456":   "+447911123456",
	}
	for in, want := range ok {
		got, err := NormalizePhone("body.phone", in)
		if err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "12345", "abc", "+62 12", "5812345678", "+999 1234567", "0000000000", "98123456789012345678"} {
		if got, err := NormalizePhone("body.phone", bad); err == nil {
			t.Errorf("NormalizePhone(%q) = %q, want error", bad, got)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	if got, err := NormalizeEmail("e", "  Rina.Putri@Example.CO.ID "); err != nil || got != "rina.putri@example.co.id" {
		t.Fatalf("%q %v", got, err)
	}
	for _, bad := range []string{"", "rina", "rina@", "Rina <rina@example.com>", "a@b", "a b@example.com"} {
		if _, err := NormalizeEmail("e", bad); err == nil {
			t.Errorf("NormalizeEmail(%q) accepted", bad)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	for _, bad := range []string{"short", "password123", "12345678", "aaaaaaaa", "abcdefgh", "........", "Bismillah1"} {
		if ValidatePassword("password", bad) == nil {
			t.Errorf("weak password %q accepted", bad)
		}
	}
	if ValidatePassword("password", "rinaputri99", "rinaputri@example.com") == nil {
		t.Error("password containing the email accepted")
	}
	if err := ValidatePassword("password", "correct horse battery staple", "rina@example.com", "+6281234567890"); err != nil {
		t.Errorf("good passphrase refused: %v", err)
	}
}

func TestPasswordHash(t *testing.T) {
	p := PasswordParams{MemoryKiB: 1024, Time: 1, Threads: 1}
	h := HashPassword("s3cret-passphrase", p)
	if ok, err := CheckPassword(h, "s3cret-passphrase"); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	if ok, _ := CheckPassword(h, "s3cret-passphrasE"); ok {
		t.Fatal("wrong password accepted")
	}
	if HashPassword("x", p) == HashPassword("x", p) {
		t.Fatal("salt not random")
	}
	if _, err := CheckPassword("$2a$10$bcrypt", "x"); err == nil {
		t.Fatal("foreign hash accepted")
	}
}
