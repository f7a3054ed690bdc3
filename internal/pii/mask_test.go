package pii_test

import (
	"testing"
	"unicode/utf8"

	"yiwang/internal/pii"
)

func TestMasks(t *testing.T) {
	tests := []struct {
		mask     func(string) string
		name     string
		in, want string
	}{
		{pii.MaskIDNumber, "id", "440301199001011234", "4403**********1234"},
		{pii.MaskEmail, "email", "wangwu@example.cn", "w*****@example.cn"},
		{pii.MaskEmail, "email", "w@example.cn", "*@example.cn"},
		{pii.MaskEmail, "email", "not-an-address", "n*************"},
		{pii.MaskIDNumber, "id", "11010519491231002X", "1101**********002X"},
		{pii.MaskIDNumber, "id", "11010519491231002x", "1101**********002x"},
		{pii.MaskIDNumber, "id", "440301900101123", "4403*******1123"}, // 15-digit first-generation number
		{pii.MaskIDNumber, "id", "123456789", "1234*6789"},             // 9: the shortest kept at both ends
		{pii.MaskIDNumber, "id", "12345678", "******78"},
		{pii.MaskIDNumber, "id", "123", "*23"},
		{pii.MaskIDNumber, "id", "12", "*2"}, // never shown whole
		{pii.MaskIDNumber, "id", "1", "*"},
		{pii.MaskIDNumber, "id", "", ""},
		{pii.MaskIDNumber, "id", "４４０３０１１９９００１０１１２３４", "４４０３**********１２３４"}, // full-width digits count as one rune each
		{pii.MaskIDNumber, "id", "护照号码ABC123", "护照号码**C123"},
		{pii.MaskIDNumber, "id", "\xff\xfe1234567890", "\uFFFD\uFFFD12****7890"},

		{pii.MaskPhone, "phone", "13800138000", "138****8000"},
		{pii.MaskPhone, "phone", "+8613800138000", "+86*******8000"},
		{pii.MaskPhone, "phone", "010-12345678", "010*****5678"},
		{pii.MaskPhone, "phone", "0755123456", "*******456"}, // 10: last third
		{pii.MaskPhone, "phone", "1234567", "*****67"},
		{pii.MaskPhone, "phone", "123", "**3"},
		{pii.MaskPhone, "phone", "12", "**"},
		{pii.MaskPhone, "phone", "1", "*"},
		{pii.MaskPhone, "phone", "", ""},
		{pii.MaskPhone, "phone", "１３８００１３８０００", "１３８****８０００"},

		{pii.MaskName, "name", "张三", "张*"},
		{pii.MaskName, "name", "欧阳娜娜", "欧***"},
		{pii.MaskName, "name", "Alice Smith", "A**********"},
		{pii.MaskName, "name", "买买提·艾力", "买*****"},
		{pii.MaskName, "name", "张", "*"},
		{pii.MaskName, "name", "", ""},
		{pii.MaskName, "name", "𠀋一", "𠀋*"},          // outside the Basic Multilingual Plane
		{pii.MaskName, "name", "e\u0301va", "e***"}, // a combining accent is a rune of its own

		{pii.MaskAddress, "address", "示范市明德区福安街道6号3栋502", "示范市明德区***********"},
		{pii.MaskAddress, "address", "12 Main St", "12 Ma*****"},
		{pii.MaskAddress, "address", "明德区", "明**"},
		{pii.MaskAddress, "address", "", ""},
	}
	for _, tt := range tests {
		if got := tt.mask(tt.in); got != tt.want {
			t.Errorf("mask %s %q = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// checkMask asserts what every mask promises: as many runes out as in, at
// least one of them masked, and every rune not masked equal to the input's.
func checkMask(t *testing.T, name string, mask func(string) string, in string) {
	out := mask(in)
	if in == "" {
		if out != "" {
			t.Errorf("%s(%q) = %q, want empty", name, in, out)
		}
		return
	}
	ir, or := []rune(in), []rune(out)
	if len(ir) != len(or) || utf8.RuneCountInString(in) != utf8.RuneCountInString(out) {
		t.Fatalf("%s(%q) = %q: %d runes out for %d in", name, in, out, len(or), len(ir))
	}
	if !utf8.ValidString(out) {
		t.Errorf("%s(%q) = %q is not valid UTF-8", name, in, out)
	}
	masked := false
	for i := range or {
		switch {
		case or[i] == '*':
			masked = true
		case or[i] != ir[i]:
			t.Fatalf("%s(%q) = %q: rune %d changed to %q", name, in, out, i, or[i])
		}
	}
	if !masked {
		t.Errorf("%s(%q) = %q masks nothing", name, in, out)
	}
}

func FuzzMasks(f *testing.F) {
	for _, s := range []string{"", "1", "张三", "欧阳娜娜", "Alice Smith", "440301199001011234", "13800138000", "\xff", "a\xc3", "𠀋"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkMask(t, "MaskIDNumber", pii.MaskIDNumber, s)
		checkMask(t, "MaskPhone", pii.MaskPhone, s)
		checkMask(t, "MaskName", pii.MaskName, s)
		checkMask(t, "MaskAddress", pii.MaskAddress, s)
	})
}
