package httpx

import (
	"errors"
	"fmt"
	"testing"

	"github.com/danielgtaylor/huma/v2/validation"
)

// The framework's messages that quote a parser error are cut before it;
// the others are kept whole.
func TestSafeMessage(t *testing.T) {
	for in, want := range map[string]string{
		fmt.Sprintf(validation.MsgExpectedRFC4122UUID, errors.New(`invalid UUID "234567890124"`)):      "expected string to be RFC 4122 uuid",
		fmt.Sprintf(validation.MsgExpectedRFC3986URI, errors.New(`parse "http://x/9812345678": bad`)):  "expected string to be RFC 3986 uri",
		fmt.Sprintf(validation.MsgExpectedRFC5322Email, errors.New("mail: missing '@'")):               "expected string to be RFC 5322 email",
		fmt.Sprintf(validation.MsgExpectedDuration, errors.New(`time: invalid duration "9812345678"`)): "expected duration",
		"invalid value: strconv.ParseInt: parsing \"9812345678x\": invalid syntax":                     "invalid value",
		validation.MsgExpectedString:                                validation.MsgExpectedString,
		fmt.Sprintf(validation.MsgExpectedMinimumNumber, 1):         "expected number >= 1",
		fmt.Sprintf(validation.MsgExpectedOneOf, "yearly, monthly"): `expected value to be one of "yearly, monthly"`,
		fmt.Sprintf(validation.MsgExpectedRequiredProperty, "name"): "expected required property name to be present",
		"invalid character 'x' looking for beginning of object key": "invalid character 'x' looking for beginning of object key",
	} {
		if got := safeMessage(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
