package licence_test

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/licence"
)

// FuzzVerifyInput feeds what a verifier types or uploads — a licence number,
// or a PDF to find the licence file in — to the parsing ahead of any lookup:
// it never panics, a number it accepts is one Number makes, and a PDF gives
// at most 1 MiB of licence file or the error that it carries none.
func FuzzVerifyInput(f *testing.F) {
	n, err := licence.Number("11910102MB0001111L", "1001", 2025, 1)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(n))
	f.Add([]byte(strings.ToLower(n)))
	f.Add([]byte("11910102MB0001111L-1001-2025-000001-"))
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(`{"licence":{"number":"` + n + `"},"seal":{"signature":"x"}}`))
	zw.Close()
	f.Add(fmt.Appendf(nil, "%%PDF-1.7\n1 0 obj << /Type /EmbeddedFile /Length %d /Filter /FlateDecode /Params << /CheckSum <00> /Size 9 >> >>\nstream\n%s\nendstream", z.Len(), z.Bytes()))
	f.Add([]byte("%PDF-1.7\n<< /Type /EmbeddedFile /Length 99999999999999999999 /Filter /FlateDecode /Params << /CheckSum <> /Size 1 >> >>\nstream\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if s := string(b); licence.ValidNumber(s) {
			parts := strings.Split(s, "-")
			year, _ := strconv.Atoi(parts[2])
			seq, _ := strconv.Atoi(parts[3])
			if again, err := licence.Number(parts[0], parts[1], year, seq); err != nil || again != s {
				t.Fatalf("ValidNumber(%q), but Number makes %q, %v", s, again, err)
			}
		}
		file, err := licence.EmbeddedLicence(b)
		switch {
		case err != nil:
			if e := apperr.As(err); e == nil || e.Code != apperr.PDFWithoutLicence {
				t.Fatalf("refused with %v, want pdf_without_licence", err)
			}
		case len(file) > 1<<20:
			t.Fatalf("%d bytes of licence file, more than 1 MiB", len(file))
		}
	})
}
