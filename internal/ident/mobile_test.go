package ident

import "testing"

func TestValidMobile(t *testing.T) {
	for p, want := range map[string]bool{"13800138000": true, "23800138000": false, "1380013800": false, "138-0013-800": false, "+8613800138": false, "": false} {
		if got := ValidMobile(p); got != want {
			t.Errorf("ValidMobile(%q) = %v, want %v", p, got, want)
		}
	}
}
