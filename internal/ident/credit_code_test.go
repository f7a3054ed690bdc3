package ident

import (
	"strings"
	"testing"
)

func TestValidateCreditCode(t *testing.T) {
	tests := []struct {
		code string
		want string // "" for valid, else part of the error
	}{
		{"91350100M000100Y43", ""}, // a published example code
		{"91350100M000100Y44", "check character"},
		{"91350100M000100Y4", "18 characters"},
		{"91350100m000100Y43", "upper-case"},
		{"9135010OM000100Y43", "not allowed"},
		{"91AB0100M000100Y43", "region code"},
	}
	for _, tt := range tests {
		err := ValidateCreditCode(tt.code)
		if tt.want == "" && err != nil {
			t.Errorf("%s: %v", tt.code, err)
		}
		if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: err = %v, want %q", tt.code, err, tt.want)
		}
	}
}

func FuzzValidateCreditCode(f *testing.F) {
	f.Add("91350100M000100Y43")
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateCreditCode(s) == nil {
			c, _ := CreditCodeCheck(s[:17])
			if s[17] != c {
				t.Errorf("accepted %q with a wrong check character", s)
			}
		}
	})
}

func TestOrgCodeCheckOfKnownCodes(t *testing.T) {
	// Published organisation codes and their check characters.
	for _, code := range []string{"D2143569X", "717833587", "799655058"} {
		c, err := OrgCodeCheck(code[:8])
		if err != nil || c != code[8] {
			t.Errorf("OrgCodeCheck(%s) = %q, %v; want %q", code[:8], c, err, code[8])
		}
	}
}

func TestNewCreditCodesAreValidAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, seq := range []int64{0, 1, 2, 999_999, 1_000_000, 9_999_999} {
		code, err := NewCreditCode("92", "910102", seq)
		if err != nil {
			t.Fatal(err)
		}
		if err := ValidateCreditCode(code); err != nil || !strings.HasPrefix(code, "92910102") || seen[code] {
			t.Errorf("NewCreditCode(%d) = %s: %v", seq, code, err)
		}
		seen[code] = true
	}
	if _, err := NewCreditCode("92", "910102", 10_000_000); err == nil {
		t.Error("a sequence past the organisation code's room was accepted")
	}
}
