package blob_test

import (
	"archive/zip"
	"bytes"
	"slices"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/blob"
)

// FuzzSniff feeds type detection any content: it never panics, and either
// names one of the accepted types, whose signature the content starts with,
// or refuses with unsupported_type.
func FuzzSniff(f *testing.F) {
	var ofd bytes.Buffer
	zw := zip.NewWriter(&ofd)
	w, _ := zw.Create("OFD.xml")
	w.Write([]byte(`<?xml version="1.0"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0"/>`))
	zw.Close()
	for _, seed := range [][]byte{
		[]byte("%PDF-1.7\n"), {0xFF, 0xD8, 0xFF, 0xE0}, []byte("\x89PNG\r\n\x1a\n\x00"), ofd.Bytes(),
		[]byte("PK\x03\x04"), []byte("<html>"), {}, []byte("MZ\x90\x00"),
	} {
		f.Add(seed)
	}
	signature := map[string]string{blob.PDF: "%PDF-", blob.JPEG: "\xFF\xD8\xFF", blob.PNG: "\x89PNG\r\n\x1a\n", blob.OFD: "PK\x03\x04"}
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, err := blob.Sniff(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if e := apperr.As(err); e == nil || e.Code != apperr.UnsupportedType {
				t.Fatalf("refused with %v, want unsupported_type", err)
			}
			return
		}
		if !slices.Contains(blob.Types, typ) || !bytes.HasPrefix(b, []byte(signature[typ])) {
			t.Fatalf("sniffed %q for content starting %q", typ, b[:min(len(b), 8)])
		}
	})
}
