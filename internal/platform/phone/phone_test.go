package phone

import "testing"

func TestNormalize(t *testing.T) {
	cases := map[string]string{
		"0812-3456-7890":     "+6281234567890",
		"+62 812 3456 7890":  "+6281234567890",
		"6281234567890":      "+6281234567890",
		"81234567890":        "+6281234567890",
		"0062 812 3456 7890": "+6281234567890",
		"98123 45678":        "+919812345678",
		"09812345678":        "+919812345678",
		"919812345678":       "+919812345678",
		"+91 (98123) 45678":  "+919812345678",
		"+1 415 555 2671":    "+14155552671",
		"12345":              "",
		"0812":               "",
		"+62 999":            "",
		"hello":              "",
		"+9198123":           "",
	}
	for in, want := range cases {
		got, ok := Normalize(in)
		if got != want || ok != (want != "") {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestIsMobile(t *testing.T) {
	if !IsMobile("+6281234567890") || !IsMobile("+919812345678") {
		t.Fatal("mobiles not recognised")
	}
	if IsMobile("+62215550123") { // a Jakarta landline
		t.Fatal("a landline counted as a mobile")
	}
	if IsMobile("garbage") {
		t.Fatal("garbage counted as a mobile")
	}
}
