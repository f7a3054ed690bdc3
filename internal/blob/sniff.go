package blob

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"

	"yiwang/internal/apperr"
)

// The media types a material may have.
const (
	PDF  = "application/pdf"
	JPEG = "image/jpeg"
	PNG  = "image/png"
	// OFD is GB/T 33190, the Chinese fixed-layout format in which e-licences
	// and e-invoices are issued.
	OFD = "application/ofd"
)

// Types lists the accepted media types, for messages and documentation.
var Types = []string{PDF, JPEG, PNG, OFD}

// headLen is how much of the start of an upload the early check looks at.
const headLen = 512

var (
	magicPDF  = []byte("%PDF-")
	magicJPEG = []byte{0xFF, 0xD8, 0xFF}
	magicPNG  = []byte("\x89PNG\r\n\x1a\n")
	magicZip  = []byte("PK\x03\x04")
)

// family names the type the first bytes promise, "" if none: a zip is only a
// candidate for OFD until its contents are looked at.
func family(head []byte) string {
	switch {
	case bytes.HasPrefix(head, magicPDF):
		return PDF
	case bytes.HasPrefix(head, magicJPEG):
		return JPEG
	case bytes.HasPrefix(head, magicPNG):
		return PNG
	case bytes.HasPrefix(head, magicZip):
		return OFD
	}
	return ""
}

// unsupported is the error for content of another type; head is its start.
func unsupported(head []byte) error {
	seen := http.DetectContentType(head)
	seen, _, _ = strings.Cut(seen, ";")
	return apperr.New(apperr.Invalid, apperr.UnsupportedType,
		"this file is not a PDF, JPEG, PNG or OFD document: its content looks like %s. Scan or save it as one of those and upload it again", seen).
		WithDetails(map[string]any{"accepted": Types, "received": seen})
}

// Sniff decides the media type of the size bytes in r from their content.
//
// PDF, JPEG and PNG are known by their signatures. An OFD file is a zip
// package, so a zip signature alone would let in any archive (a .docx, a
// bundle of executables); GB/T 33190 fixes the package's entry point as
// OFD.xml at its root, whose root element is OFD, so that is what is checked —
// reading at most 64 KiB of that one entry, so a zip bomb cannot make the
// check itself expensive.
func Sniff(r io.ReaderAt, size int64) (string, error) {
	head := make([]byte, min(size, headLen))
	if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	t := family(head)
	switch t {
	case "":
		return "", unsupported(head)
	case OFD:
		if !isOFD(r, size) {
			return "", apperr.New(apperr.Invalid, apperr.UnsupportedType,
				"this file is a zip archive but not an OFD document (GB/T 33190 wants an OFD.xml at its root whose root element is OFD): upload the OFD file itself, or a PDF, JPEG or PNG").
				WithDetails(map[string]any{"accepted": Types, "received": "application/zip"})
		}
	}
	return t, nil
}

// ofdNamespace is the namespace of GB/T 33190-2016's elements.
const ofdNamespace = "http://www.ofdspec.org/2016"

func isOFD(r io.ReaderAt, size int64) bool {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return false
	}
	for _, f := range zr.File {
		if f.Name != "OFD.xml" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return false
		}
		defer rc.Close()
		dec := xml.NewDecoder(io.LimitReader(rc, 64<<10))
		for {
			tok, err := dec.Token()
			if err != nil {
				return false
			}
			if el, ok := tok.(xml.StartElement); ok {
				return el.Name.Local == "OFD" && (el.Name.Space == ofdNamespace || el.Name.Space == "")
			}
		}
	}
	return false
}
