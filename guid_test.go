package icrec_test

import (
	"strings"
	"testing"

	"example.com/icrec"
)

const canonical = "0DE0C017-CD4F-D013-8E31-18D8B7470001"

var validGUIDs = []struct {
	name, in string
}{
	{"OKCanonical", canonical},
	{"OKLower", "0de0c017-cd4f-d013-8e31-18d8b7470001"},
	{"OKMixedCase", "0De0c017-Cd4F-d013-8E31-18d8B7470001"},
	{"OKBraces", "{0DE0C017-CD4F-D013-8E31-18D8B7470001}"},
	{"OKBracesLower", "{0de0c017-cd4f-d013-8e31-18d8b7470001}"},
	{"OKNoHyphens", "0DE0C017CD4FD0138E3118D8B7470001"},
	{"OKNoHyphensLower", "0de0c017cd4fd0138e3118d8b7470001"},
}

var invalidGUIDs = []struct {
	name, in string
}{
	{"ErrEmpty", ""},
	{"ErrShort", "0DE0C017-CD4F-D013-8E31-18D8B747000"},
	{"ErrLong", "0DE0C017-CD4F-D013-8E31-18D8B74700012"},
	{"ErrShortNoHyphens", "0DE0C017CD4FD0138E3118D8B747000"},
	{"ErrLongNoHyphens", "0DE0C017CD4FD0138E3118D8B74700012"},
	{"ErrMisplacedHyphen", "0DE0C01-7CD4F-D013-8E31-18D8B7470001"},
	{"ErrHyphensShifted", "0DE0C017C-D4F-D013-8E31-18D8B7470001"},
	{"ErrHyphenInHex", "0DE0C017-CD4F-D013-8E31-18D8B747000-"},
	{"ErrNoHyphens36", "0DE0C017CD4FD0138E3118D8B74700010000"},
	{"ErrSomeHyphens", "0DE0C017CD4F-D013-8E31-18D8B7470001"},
	{"ErrHyphensIn32", "0DE0C017-CD4F-D013-8E31-18D8B747"},
	{"ErrNonHex", "0DE0C017-CD4F-D013-8E31-18D8B747000G"},
	{"ErrNonHexNoHyphens", "0DE0C017CD4FD0138E3118D8B747000g"},
	{"ErrNonASCII", "0DE0C017-CD4F-D013-8E31-18D8B74700é"},
	{"ErrSpace", "0DE0C017-CD4F-D013-8E31-18D8B747 001"},
	{"ErrBracesAround32", "{0DE0C017CD4FD0138E3118D8B7470001}"},
	{"ErrOpenBraceOnly", "{0DE0C017-CD4F-D013-8E31-18D8B7470001"},
	{"ErrCloseBraceOnly", "0DE0C017-CD4F-D013-8E31-18D8B7470001}"},
	{"ErrBracesSwapped", "}0DE0C017-CD4F-D013-8E31-18D8B7470001{"},
	{"ErrParentheses", "(0DE0C017-CD4F-D013-8E31-18D8B7470001)"},
	{"ErrDoubleBraces", "{{0DE0C017-CD4F-D013-8E31-18D8B7470001}}"},
	{"ErrBracesInside", "0DE0C017-{CD4F-D013-8E31-18D8B74700}01"},
	{"ErrLeadingSpace", " 0DE0C017-CD4F-D013-8E31-18D8B7470001"},
	{"ErrTrailingNewline", "0DE0C017-CD4F-D013-8E31-18D8B7470001\n"},
	{"ErrURN", "urn:uuid:0DE0C017-CD4F-D013-8E31-18D8B7470001"},
}

func TestCanonicalGUID(t *testing.T) {
	for _, tc := range validGUIDs {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := icrec.CanonicalGUID(tc.in)
			if !ok {
				t.Fatalf("CanonicalGUID(%q) ok=false, want true", tc.in)
			}
			if want := canonical; got != want {
				t.Errorf("CanonicalGUID(%q)=%q, want %q", tc.in, got, want)
			}
		})
	}
	for _, tc := range invalidGUIDs {
		t.Run(tc.name, func(t *testing.T) {
			if got, ok := icrec.CanonicalGUID(tc.in); ok || got != "" {
				t.Errorf("CanonicalGUID(%q)=%q, %v, want \"\", false", tc.in, got, ok)
			}
		})
	}
	t.Run("OKAllHexDigits", func(t *testing.T) {
		got, ok := icrec.CanonicalGUID("01234567-89ab-cdef-ABCD-EF0123456789")
		if want := "01234567-89AB-CDEF-ABCD-EF0123456789"; !ok || got != want {
			t.Errorf("got %q, %v, want %q, true", got, ok, want)
		}
	})
}

// checkCanonical fails t unless s has the form
// XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX with upper-case hex digits.
func checkCanonical(t *testing.T, s string) {
	t.Helper()
	if len(s) != 36 {
		t.Fatalf("%q is %d bytes long, want 36", s, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				t.Fatalf("%q has %q at %d, want '-'", s, c, i)
			}
		default:
			if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
				t.Fatalf("%q has %q at %d, want an upper-case hex digit", s, c, i)
			}
		}
	}
}

func FuzzCanonicalGUID(f *testing.F) {
	for _, tc := range validGUIDs {
		f.Add(tc.in)
	}
	for _, tc := range invalidGUIDs {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, ok := icrec.CanonicalGUID(in)
		if !ok {
			if got != "" {
				t.Fatalf("CanonicalGUID(%q)=%q, false, want an empty string when rejecting", in, got)
			}
			return
		}
		checkCanonical(t, got)
		// The digits are the input's own, in order, only upper-cased.
		digits := strings.ToUpper(strings.NewReplacer("{", "", "}", "", "-", "").Replace(in))
		if want := strings.ReplaceAll(got, "-", ""); digits != want {
			t.Fatalf("CanonicalGUID(%q)=%q, whose digits differ from the input's %q", in, got, digits)
		}
		again, ok := icrec.CanonicalGUID(got)
		if !ok || again != got {
			t.Fatalf("CanonicalGUID(%q)=%q, %v, want %q, true", got, again, ok, got)
		}
	})
}
