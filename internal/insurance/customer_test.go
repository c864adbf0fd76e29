package insurance

import (
	"strings"
	"testing"

	"mitra/internal/platform/apperr"
)

func fieldsOf(err error) map[string]string {
	out := map[string]string{}
	if e, ok := apperr.As(err); ok {
		for _, f := range e.Fields {
			out[f.Location] = f.Message
		}
	}
	return out
}

func TestPAN(t *testing.T) {
	for in, want := range map[string]string{"abcpe1234f": "ABCPE1234F", " ABCPE 1234 F ": "ABCPE1234F", "AAAPZ9999Z": "AAAPZ9999Z"} {
		got, err := normalizePAN("body.pan", in)
		if err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	if m := maskPAN("ABCPE1234F"); m != "XXXXX1234X" {
		t.Errorf("mask: %s", m)
	}
	for _, in := range []string{"", "ABCPE1234", "ABCPE12345", "1BCPE1234F", "ABCPE1234FF", "ABCP1E234F", "ABCCE1234F", "ABCHE1234F"} {
		_, err := normalizePAN("body.pan", in)
		f := fieldsOf(err)
		if err == nil || f["body.pan"] == "" {
			t.Errorf("%q accepted (%v)", in, err)
		}
		if in != "" && strings.Contains(f["body.pan"], in) {
			t.Errorf("the error repeats the PAN: %s", f["body.pan"])
		}
	}
	if _, err := normalizePAN("body.pan", "ABCCE1234F"); !strings.Contains(fieldsOf(err)["body.pan"], "fourth letter is P") {
		t.Errorf("a company PAN is explained: %v", err)
	}
}

func TestVerhoeff(t *testing.T) {
	// The published examples of the scheme: 236 has check digit 3, 12345
	// has 1, 142857 has 0.
	for in, want := range map[string]byte{"236": '3', "12345": '1', "142857": '0'} {
		if got := verhoeffDigit(in); got != want {
			t.Errorf("check digit of %s: %c, want %c", in, got, want)
		}
		if !verhoeffValid(in + string(want)) {
			t.Errorf("%s%c not valid", in, want)
		}
	}
	if verhoeffValid("2364") || verhoeffValid("123451") == false || verhoeffValid("123450") {
		t.Error("wrong check digits accepted or right ones refused")
	}
	// Every single-digit error and every swap of neighbours is caught.
	base := "23456789012"
	full := base + string(verhoeffDigit(base))
	for i := range full {
		for d := byte('0'); d <= '9'; d++ {
			if d == full[i] {
				continue
			}
			b := []byte(full)
			b[i] = d
			if verhoeffValid(string(b)) {
				t.Fatalf("single error at %d not caught: %s", i, b)
			}
		}
		if i+1 < len(full) && full[i] != full[i+1] {
			b := []byte(full)
			b[i], b[i+1] = b[i+1], b[i]
			if verhoeffValid(string(b)) {
				t.Fatalf("swap at %d not caught: %s", i, b)
			}
		}
	}
}

func validAadhaar(first11 string) string { return first11 + string(verhoeffDigit(first11)) }

func TestAadhaarKeepsOnlyTheLast4(t *testing.T) {
	a := validAadhaar("23456789012")
	for _, in := range []string{a, a[:4] + " " + a[4:8] + " " + a[8:], a[:4] + "-" + a[4:8] + "-" + a[8:]} {
		got, err := aadhaarLast4("body.aadhaar", in)
		if err != nil || got != a[8:] {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	if got, err := aadhaarLast4("body.aadhaar", "0042"); err != nil || got != "0042" {
		t.Errorf("last 4 alone: %q %v", got, err)
	}
	bad := []byte(a)
	bad[11] = '0' + (bad[11]-'0'+1)%10
	for _, in := range []string{string(bad), validAadhaar("13456789012"), validAadhaar("03456789012"), "12345", "abcd", a + "1", ""} {
		_, err := aadhaarLast4("body.aadhaar", in)
		f := fieldsOf(err)
		if err == nil || f["body.aadhaar"] == "" {
			t.Errorf("%q accepted", in)
		}
		if len(in) > 4 && strings.Contains(f["body.aadhaar"], in) {
			t.Errorf("the error repeats the number: %s", f["body.aadhaar"])
		}
	}
	if m := maskAadhaar("9012"); m != "XXXX XXXX 9012" {
		t.Errorf("mask: %s", m)
	}
}

func FuzzAadhaarLast4(f *testing.F) {
	for _, s := range []string{validAadhaar("23456789012"), "1234", "2345 6789 0123", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := aadhaarLast4("body.aadhaar", s)
		if err != nil {
			if m := fieldsOf(err)["body.aadhaar"]; len(s) > 4 && strings.Contains(m, s) {
				t.Fatalf("error repeats the input: %s", m)
			}
			return
		}
		if len(got) != 4 || !isDigits(got) {
			t.Fatalf("%q kept %q", s, got)
		}
	})
}

func FuzzPAN(f *testing.F) {
	for _, s := range []string{"ABCPE1234F", "abcpe 1234 f", "ABCCE1234F", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := normalizePAN("body.pan", s)
		if err != nil {
			return
		}
		if !panShape.MatchString(got) || got[3] != 'P' || maskPAN(got)[5:9] != got[5:9] {
			t.Fatalf("%q gave %q", s, got)
		}
	})
}

func TestCustomerPhoneAndEmail(t *testing.T) {
	for in, want := range map[string]string{"98123 45678": "+919812345678", "098123-45678": "+919812345678", "+91 98123 45678": "+919812345678",
		"0091 9812345678": "+919812345678", "+971 50 123 4567": "+971501234567", "": ""} {
		got, err := customerPhone("body.phone", in)
		if err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	for _, in := range []string{"12345", "98123", "+91 98123 4567", "phone"} {
		if _, err := customerPhone("body.phone", in); fieldsOf(err)["body.phone"] == "" {
			t.Errorf("%q accepted", in)
		}
	}
	if e, err := customerEmail("body.email", " Asha@Example.IN "); err != nil || e != "asha@example.in" {
		t.Errorf("email: %q %v", e, err)
	}
	if _, err := customerEmail("body.email", "asha@"); fieldsOf(err)["body.email"] == "" {
		t.Error("bad email accepted")
	}
}

func TestCustomerInputChecks(t *testing.T) {
	today := day("2025-06-01")
	ok := CustomerInput{Name: "  Asha   Devi ", Phone: "9812345678", DateOfBirth: "1985-04-02", WhatsAppConsent: true,
		Nominees: []Nominee{{Name: "Ravi", Relationship: "spouse", SharePercent: 60, DateOfBirth: "1983-01-01"},
			{Name: "Mina", Relationship: "child", SharePercent: 40, DateOfBirth: "2015-01-01", AppointeeName: "Ravi"}}}
	f, err := ok.check(today)
	if err != nil || f.name != "Asha Devi" || f.nameKey != "asha devi" || f.phone != "+919812345678" || !f.consent || f.setPAN || f.setAadhaar {
		t.Fatalf("valid input: %+v %v", f, err)
	}
	for name, c := range map[string]struct {
		mut   func(*CustomerInput)
		field string
	}{
		"blank name":          {func(in *CustomerInput) { in.Name = "   " }, "body.name"},
		"future birth":        {func(in *CustomerInput) { in.DateOfBirth = "2025-06-02" }, "body.date_of_birth"},
		"too old":             {func(in *CustomerInput) { in.DateOfBirth = "1900-01-01" }, "body.date_of_birth"},
		"bad date":            {func(in *CustomerInput) { in.DateOfBirth = "2001-02-29" }, "body.date_of_birth"},
		"shares not 100":      {func(in *CustomerInput) { in.Nominees[1].SharePercent = 30 }, "body.nominees"},
		"minor no appointee":  {func(in *CustomerInput) { in.Nominees[1].AppointeeName = "" }, "body.nominees[1].appointee_name"},
		"consent no phone":    {func(in *CustomerInput) { in.Phone = "" }, "body.whatsapp_consent"},
		"bad pincode":         {func(in *CustomerInput) { in.Address.Pincode = "012345" }, "body.address.pincode"},
		"bad PAN":             {func(in *CustomerInput) { p := "ABCDE"; in.PAN = &p }, "body.pan"},
		"bad Aadhaar":         {func(in *CustomerInput) { a := "234567890123"; in.Aadhaar = &a }, "body.aadhaar"},
		"nominee born future": {func(in *CustomerInput) { in.Nominees[0].DateOfBirth = "2030-01-01" }, "body.nominees[0].date_of_birth"},
	} {
		in := ok
		in.Nominees = append([]Nominee(nil), ok.Nominees...)
		c.mut(&in)
		_, err := in.check(today)
		if e, isApp := apperr.As(err); !isApp || e.Code != apperr.Invalid || fieldsOf(err)[c.field] == "" {
			t.Errorf("%s: %v (fields %v)", name, err, fieldsOf(err))
		}
	}
	// Several mistakes are reported together.
	bad := ok
	bad.Name, bad.DateOfBirth = "", "2030-01-01"
	if f := fieldsOf(func() error { _, err := bad.check(today); return err }()); f["body.name"] == "" || f["body.date_of_birth"] == "" {
		t.Errorf("not all mistakes reported: %v", f)
	}
}
