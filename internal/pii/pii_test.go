package pii_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/pii"
)

const idNumber = "11010519491231002X" // the GB 11643 example, not a real person

// testKey returns a master key whose bytes are all b.
func testKey(b byte) pii.Key {
	var k pii.Key
	for i := range k {
		k[i] = b
	}
	return k
}

func newProtector(t testing.TB, k pii.Key) *pii.Protector {
	t.Helper()
	p, err := pii.NewProtector(k)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// wantCode fails t unless err is an *apperr.Error of kind and code.
func wantCode(t *testing.T, what string, err error, kind apperr.Kind, code string) {
	t.Helper()
	if e := apperr.As(err); e == nil || e.Kind != kind || e.Code != apperr.Code(code) {
		t.Errorf("%s: err = %v, want %s/%s", what, err, kind, code)
	}
}

// noLeak fails t if err's text contains any of secrets.
func noLeak(t *testing.T, what string, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("%s: error %q repeats %q", what, err, s)
		}
	}
}

func TestParseKey(t *testing.T) {
	ff := testKey(0xff) // all 0xff: "/" in the standard alphabet, "_" in the URL one
	tests := []struct {
		name, in string
		want     pii.Key
		code     string // "" = valid
	}{
		{"standard, padded", base64.StdEncoding.EncodeToString(ff[:]), ff, ""},
		{"URL, padded", base64.URLEncoding.EncodeToString(ff[:]), ff, ""},
		{"standard, unpadded", base64.RawStdEncoding.EncodeToString(ff[:]), ff, ""},
		{"URL, unpadded", base64.RawURLEncoding.EncodeToString(ff[:]), ff, ""},
		{"key file with newline", " " + base64.StdEncoding.EncodeToString(ff[:]) + "\n", ff, ""},
		{"empty", "", pii.Key{}, "pii_key_missing"},
		{"blank", " \n\t", pii.Key{}, "pii_key_missing"},
		{"not base64", "this is my secret key, honestly!!", pii.Key{}, "pii_key_not_base64"},
		{"mixed alphabets", strings.Repeat("+_", 22), pii.Key{}, "pii_key_not_base64"},
		{"hex, not base64", strings.Repeat("ab", 32) + "!", pii.Key{}, "pii_key_not_base64"},
		{"31 bytes", base64.StdEncoding.EncodeToString(ff[:31]), pii.Key{}, "pii_key_length"},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(ff[:], 1)), pii.Key{}, "pii_key_length"},
		{"16 bytes (an AES-128 key)", base64.StdEncoding.EncodeToString(ff[:16]), pii.Key{}, "pii_key_length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := pii.ParseKey(tt.in)
			if tt.code == "" {
				if err != nil || k != tt.want {
					t.Errorf("ParseKey = %x, %v", k[:], err)
				}
				return
			}
			wantCode(t, "ParseKey", err, apperr.Invalid, tt.code)
			noLeak(t, "ParseKey", err, strings.TrimSpace(tt.in))
		})
	}
}

func TestNewKey(t *testing.T) {
	a, err := pii.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pii.NewKey()
	ka, err := pii.ParseKey(a)
	if err != nil {
		t.Fatalf("ParseKey(NewKey()): %v", err)
	}
	if a == b || ka == (pii.Key{}) {
		t.Errorf("NewKey is not random: %q, %q", a, b)
	}
}

func TestKeyFormattingIsRedacted(t *testing.T) {
	k := testKey(0xab)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		s := fmt.Sprintf(verb, k)
		if strings.Contains(strings.ToLower(s), "abab") || strings.Contains(s, "171") {
			t.Errorf("%s shows the key: %s", verb, s)
		}
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	p := newProtector(t, testKey(1))
	for _, plain := range []string{"", idNumber, "13800138000", "欧阳娜娜", strings.Repeat("长", 10000), "a\x00b\xff"} {
		for _, context := range []string{"", "persons.id_number"} {
			s1, err := p.SealFor(plain, context)
			if err != nil {
				t.Fatal(err)
			}
			s2, _ := p.SealFor(plain, context)
			if !strings.HasPrefix(s1, "v1:") {
				t.Errorf("sealed value %q lacks the v1: prefix", s1)
			}
			if s1 == s2 {
				t.Errorf("sealing %q twice gave the same value: the nonce is not random", plain)
			}
			if len(plain) > 3 && strings.Contains(s1, plain) {
				t.Errorf("sealed value contains the plaintext")
			}
			for _, s := range []string{s1, s2} {
				if got, err := p.OpenFor(s, context); err != nil || got != plain {
					t.Errorf("OpenFor(SealFor(%.20q, %q)) = %.20q, %v", plain, context, got, err)
				}
			}
		}
	}
	s, _ := p.Seal(idNumber)
	if got, err := p.Open(s); err != nil || got != idNumber {
		t.Errorf("Open(Seal) = %q, %v", got, err)
	}
	if got, err := p.OpenFor(s, ""); err != nil || got != idNumber {
		t.Errorf("Seal is not SealFor with an empty context: %q, %v", got, err)
	}
}

func TestOpenRefuses(t *testing.T) {
	p := newProtector(t, testKey(1))
	other := newProtector(t, testKey(2))
	sealed, _ := p.SealFor(idNumber, "persons.id_number")
	body := strings.TrimPrefix(sealed, "v1:")
	raw, _ := base64.RawURLEncoding.DecodeString(body)

	tests := []struct {
		name, sealed, context string
		p                     *pii.Protector
		code                  string
	}{
		{"other context", sealed, "persons.phone", p, "pii_cannot_open"},
		{"no context", sealed, "", p, "pii_cannot_open"},
		{"other key", sealed, "persons.id_number", other, "pii_cannot_open"},
		{"never sealed", idNumber, "persons.id_number", p, "pii_unknown_version"},
		{"empty", "", "persons.id_number", p, "pii_unknown_version"},
		{"future version", "v2:" + body, "persons.id_number", p, "pii_unknown_version"},
		{"upper-case version", "V1:" + body, "persons.id_number", p, "pii_unknown_version"},
		{"no colon", "v1" + body, "persons.id_number", p, "pii_unknown_version"},
		{"space before", " " + sealed, "persons.id_number", p, "pii_unknown_version"},
		{"space after", sealed + " ", "persons.id_number", p, "pii_malformed"},
		{"padded", sealed + "=", "persons.id_number", p, "pii_malformed"},
		{"not base64", "v1:" + idNumber + "!!", "persons.id_number", p, "pii_malformed"},
		{"standard alphabet", "v1:+/" + body[2:], "persons.id_number", p, "pii_malformed"},
		{"version only", "v1:", "persons.id_number", p, "pii_malformed"},
		{"shorter than nonce and tag", "v1:" + base64.RawURLEncoding.EncodeToString(raw[:27]), "persons.id_number", p, "pii_malformed"},
		{"nonce and tag only", "v1:" + base64.RawURLEncoding.EncodeToString(raw[:28]), "persons.id_number", p, "pii_cannot_open"},
		{"last byte dropped", "v1:" + base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1]), "persons.id_number", p, "pii_cannot_open"},
		{"byte appended", "v1:" + base64.RawURLEncoding.EncodeToString(append(raw[:len(raw):len(raw)], 0)), "persons.id_number", p, "pii_cannot_open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.OpenFor(tt.sealed, tt.context)
			if got != "" {
				t.Errorf("OpenFor returned %q", got)
			}
			wantCode(t, "OpenFor", err, apperr.Internal, tt.code)
			noLeak(t, "OpenFor", err, idNumber, idNumber[:6], body)
		})
	}
}

// TestOpenRefusesEveryFlippedBit alters each bit of a sealed value in turn:
// nonce, ciphertext and tag are all covered by authentication.
func TestOpenRefusesEveryFlippedBit(t *testing.T) {
	p := newProtector(t, testKey(1))
	sealed, _ := p.SealFor(idNumber, "persons.id_number")
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
	for i := range raw {
		for bit := range 8 {
			bad := append([]byte(nil), raw...)
			bad[i] ^= 1 << bit
			got, err := p.OpenFor("v1:"+base64.RawURLEncoding.EncodeToString(bad), "persons.id_number")
			if err == nil || got != "" {
				t.Fatalf("byte %d bit %d flipped: opened to %q", i, bit, got)
			}
			wantCode(t, "flipped", err, apperr.Internal, "pii_cannot_open")
			noLeak(t, "flipped", err, idNumber)
		}
	}
}

// TestFormat decrypts and indexes with keys derived here, independently of
// the package, to pin the documented format: stored values must stay
// readable and findable across refactorings.
func TestFormat(t *testing.T) {
	master := testKey(7)
	p := newProtector(t, master)
	derive := func(info string) []byte {
		k, err := hkdf.Key(sha256.New, master[:], nil, info, 32)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}

	sealed, _ := p.SealFor(idNumber, "persons.id_number")
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(derive("yiwang pii encryption v1"))
	gcm, _ := cipher.NewGCM(block)
	if len(raw) != 12+len(idNumber)+16 {
		t.Errorf("sealed value has %d bytes, want 12-byte nonce + %d + 16-byte tag", len(raw), len(idNumber))
	}
	plain, err := gcm.Open(nil, raw[:12], raw[12:], []byte("persons.id_number"))
	if err != nil || string(plain) != idNumber {
		t.Errorf("independent AES-256-GCM open = %q, %v", plain, err)
	}

	m := hmac.New(sha256.New, derive("yiwang pii blind index v1"))
	m.Write([]byte(idNumber))
	if want := hex.EncodeToString(m.Sum(nil))[:32]; p.Index(idNumber) != want {
		t.Errorf("Index = %s, independent HMAC-SHA256 = %s", p.Index(idNumber), want)
	}
}

func TestIndex(t *testing.T) {
	p := newProtector(t, testKey(1))
	same := newProtector(t, testKey(1))
	other := newProtector(t, testKey(2))
	want := p.Index(idNumber)

	if len(want) != 32 || strings.Trim(want, "0123456789abcdef") != "" {
		t.Fatalf("Index = %q, want 32 lower-case hex characters", want)
	}
	if same.Index(idNumber) != want {
		t.Error("the same key gives a different index")
	}
	if other.Index(idNumber) == want {
		t.Error("another key gives the same index")
	}
	tests := []struct {
		value string
		equal bool
	}{
		{"11010519491231002x", true}, // lower-case x
		{"  11010519491231002X\t", true},
		{"\u300011010519491231002X", true}, // ideographic space
		{"110105194912310021", false},
		{"11010519491231002", false},
		{"1101051949 1231002X", false}, // inner spaces are part of the value
		{"", false},
	}
	for _, tt := range tests {
		if got := p.Index(tt.value); (got == want) != tt.equal {
			t.Errorf("Index(%q) = %s, Index(%q) = %s, equal should be %v", tt.value, got, idNumber, want, tt.equal)
		}
	}
	if p.Index("abc") != p.Index("ABC") {
		t.Error("Index is case-sensitive")
	}
}

func FuzzOpen(f *testing.F) {
	p := newProtector(f, testKey(1))
	for _, plain := range []string{"", idNumber, "张三"} {
		s, _ := p.SealFor(plain, "persons.id_number")
		f.Add(s, "persons.id_number")
		f.Add(s[:len(s)-1], "")
	}
	f.Add("v1:", "")
	f.Add("v1:====", "x")
	f.Add("v2:AAAA", "")
	f.Add(idNumber, "")
	f.Fuzz(func(t *testing.T, sealed, context string) {
		got, err := p.OpenFor(sealed, context)
		if err != nil {
			if got != "" {
				t.Errorf("OpenFor failed but returned %q", got)
			}
			if apperr.As(err) == nil {
				t.Errorf("OpenFor error %v is not an apperr.Error", err)
			}
			return
		}
		// Only a genuine seal opens; sealing the result again must round-trip.
		again, _ := p.SealFor(got, context)
		if back, err := p.OpenFor(again, context); err != nil || back != got {
			t.Errorf("re-sealed value does not open: %q, %v", back, err)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	p := newProtector(b, testKey(1))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.SealFor(idNumber, "persons.id_number"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	p := newProtector(b, testKey(1))
	s, _ := p.SealFor(idNumber, "persons.id_number")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.OpenFor(s, "persons.id_number"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIndex(b *testing.B) {
	p := newProtector(b, testKey(1))
	b.ReportAllocs()
	for b.Loop() {
		p.Index(idNumber)
	}
}
