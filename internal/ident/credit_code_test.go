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
