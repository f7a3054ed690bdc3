package ident

import (
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	good := []struct{ in, want string }{
		{" 张三 ", "张三"},
		{"阿依古丽·买买提", "阿依古丽·买买提"},
		{"JOHN SMITH", "JOHN SMITH"},
		{strings.Repeat("张", MaxPersonName), strings.Repeat("张", MaxPersonName)},
	}
	for _, tt := range good {
		if got, err := CheckName(tt.in, MaxPersonName); err != nil || got != tt.want {
			t.Errorf("CheckName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []string{
		"", "   ", strings.Repeat("张", MaxPersonName+1),
		"\u200b", "\u200c\u200d", "\u200e\u200f", "\u202a\u202b\u202c\u202d\u202e", "\u2066\u2067\u2068\u2069", "\ufeff",
		"\x00", "\t\x7f", "张\u202e三", "张\u200b三", "张\r\n三", "\u0301", "123", "张\xff三",
	}
	for _, in := range bad {
		if got, err := CheckName(in, MaxPersonName); err == nil {
			t.Errorf("CheckName(%q) = %q, want an error", in, got)
		}
	}
}

func TestNormalizeIDNumber(t *testing.T) {
	for in, want := range map[string]string{
		"11010519491231002X":   "11010519491231002X",
		"11010519491231002x":   "11010519491231002X",
		" 11010519491231002x ": "11010519491231002X",
		"１１０１０５１９４９１２３１００２Ｘ": "11010519491231002X",
		"１１０１０５１９４９１２３１００２ｘ": "11010519491231002X",
	} {
		got := NormalizeIDNumber(in)
		if got != want {
			t.Errorf("NormalizeIDNumber(%q) = %q, want %q", in, got, want)
		}
		if _, err := ParseIDNumber(got); err != nil {
			t.Errorf("ParseIDNumber(NormalizeIDNumber(%q)): %v", in, err)
		}
	}
}
