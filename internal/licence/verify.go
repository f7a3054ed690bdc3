package licence

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"io"
	"regexp"
	"strconv"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/pii"
	"yiwang/internal/seal"
)

// The outcomes of a verification.
const (
	Valid            = "valid"
	Revoked          = "revoked"    // by an authority
	Cancelled        = "cancelled"  // on the holder's request (注销)
	Superseded       = "superseded" // replaced by a newer licence (a transfer, a change)
	Expired          = "expired"
	SignatureInvalid = "signature_invalid"
	Unknown          = "unknown" // correctly sealed but not a licence of this platform's record
)

// Verification is what a verifier learns about a licence. It names the
// holder masked: anyone may verify.
type Verification struct {
	Result       string     `json:"result"`
	Message      string     `json:"message"`
	Number       string     `json:"number"`
	TypeName     string     `json:"type_name,omitempty"`
	Issuer       string     `json:"issuer,omitempty"`
	Holder       string     `json:"holder,omitempty"`
	IssueDate    string     `json:"issue_date,omitempty"`
	ValidUntil   string     `json:"valid_until,omitempty"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	RevokeReason string     `json:"revoke_reason,omitempty"`
	// EndedAt and EndReason say when and why a revoked, cancelled or
	// superseded licence left force; EndApplication is the application that
	// cancelled or superseded it, SupersededBy the licence that replaced it.
	EndedAt        *time.Time `json:"ended_at,omitempty"`
	EndReason      string     `json:"end_reason,omitempty"`
	EndApplication string     `json:"end_application,omitempty"`
	SupersededBy   string     `json:"superseded_by,omitempty"`
	KeyID          string     `json:"key_id,omitempty"`
	Digest         string     `json:"digest,omitempty"`
}

var messages = map[string]string{
	Valid:            "有效：电子印章验证通过，证照在有效期内。Valid: the seal verifies and the licence is in force.",
	Revoked:          "已撤销：证照已被发证机关撤销。Revoked by the issuer.",
	Cancelled:        "已注销：证照已应持证人申请注销。Cancelled at the holder's request.",
	Superseded:       "已被取代：证照已由新签发的证照取代，不再有效。Superseded by a newer licence.",
	Expired:          "已过期：证照已超过有效期。Expired.",
	SignatureInvalid: "签章无效：证照内容与电子印章不符，可能已被篡改。The seal does not match the content: it was altered.",
	Unknown:          "未知：本平台没有签发该证照的记录。This platform has no record of issuing it.",
	Tampered:         "记录被篡改：证照状态与发证机关签名不符，请联系发证机关核实。The record was tampered with: its status is not the one the issuer signed. Ask the issuer.",
}

// Export is the licence file: its content, its seal and where to verify it.
type Export struct {
	Licence   json.RawMessage `json:"licence"`
	Seal      Seal            `json:"seal"`
	VerifyURL string          `json:"verify_url,omitempty"`
}

// Export returns the licence file of l.
func (s *Service) Export(l Licence) ([]byte, error) {
	content, err := json.Marshal(l.Content)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(Export{Licence: content, Seal: l.Seal, VerifyURL: s.VerifyURL(l.Content.Number)}, "", "  ")
}

// checkSeal verifies content's seal against the published key.
func (s *Service) checkSeal(ctx context.Context, content map[string]any, sl Seal) (canon []byte, ok bool, err error) {
	canon, err = canonicalJSON(content)
	if err != nil {
		return nil, false, err
	}
	key, err := s.keys.Public(ctx, sl.KeyID)
	if apperr.Is(err, apperr.NotFound) {
		return canon, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return canon, seal.Digest(canon) == sl.Digest && key.Verify(canon, sl.Signature), nil
}

// VerifyNumber verifies the licence this platform keeps under number,
// checking its stored seal again (so an altered database row shows too).
func (s *Service) VerifyNumber(ctx context.Context, number string) (Verification, error) {
	l, err := s.ByNumber(ctx, number)
	if err != nil {
		return Verification{}, err
	}
	b, err := json.Marshal(l.Content)
	if err != nil {
		return Verification{}, err
	}
	var content map[string]any
	if err := json.Unmarshal(b, &content); err != nil {
		return Verification{}, err
	}
	return s.verify(ctx, content, l.Seal)
}

// VerifyFile verifies an uploaded licence: the JSON licence file, or a PDF
// this platform printed (which carries the file as its attachment licence.json).
func (s *Service) VerifyFile(ctx context.Context, file []byte) (Verification, error) {
	if bytes.HasPrefix(file, []byte("%PDF-")) {
		embedded, err := embeddedLicence(file)
		if err != nil {
			return Verification{}, err
		}
		file = embedded
	}
	var ex struct {
		Licence map[string]any `json:"licence"`
		Seal    Seal           `json:"seal"`
	}
	if err := json.Unmarshal(file, &ex); err != nil || ex.Licence == nil || ex.Seal.Signature == "" {
		return Verification{}, apperr.New(apperr.Invalid, apperr.NotALicenceFile, "this is not a licence file: upload the .json licence file or the PDF downloaded from this platform")
	}
	return s.verify(ctx, ex.Licence, ex.Seal)
}

func (s *Service) verify(ctx context.Context, content map[string]any, sl Seal) (Verification, error) {
	str := func(m map[string]any, k string) string { v, _ := m[k].(string); return v }
	sub := func(k string) map[string]any { m, _ := content[k].(map[string]any); return m }
	v := Verification{Number: str(content, "number"), TypeName: str(content, "type_name"), Issuer: str(sub("issuer"), "name"),
		IssueDate: str(content, "issue_date"), ValidUntil: str(content, "valid_until"), KeyID: sl.KeyID, Digest: sl.Digest}
	v.Holder = pii.MaskName(str(sub("holder"), "name"))
	if str(sub("holder"), "kind") == "enterprise" {
		v.Holder = str(sub("holder"), "name") // enterprises' names are public
	}
	_, ok, err := s.checkSeal(ctx, content, sl)
	if err != nil {
		return Verification{}, err
	}
	switch {
	case !ok:
		v.Result = SignatureInvalid
	default:
		l, err := s.ByNumber(ctx, v.Number)
		signed := false
		if err == nil {
			signed, err = s.statusSigned(ctx, s.db, v.Number)
		}
		switch {
		case apperr.Is(err, apperr.NotFound) || (err == nil && l.Seal.Digest != sl.Digest):
			v.Result = Unknown
		case err != nil:
			return Verification{}, err
		case !signed:
			v.Result = Tampered
		case l.Status != Valid:
			v.Result, v.EndedAt, v.EndReason, v.EndApplication, v.SupersededBy = l.Status, l.EndedAt, l.EndReason, l.EndApplication, l.SupersededBy
			if l.Status == Revoked {
				v.RevokedAt, v.RevokeReason = l.EndedAt, l.EndReason
			}
		case l.Expired(s.now()):
			v.Result = Expired
		default:
			v.Result = Valid
		}
	}
	v.Message = messages[v.Result]
	return v, nil
}

var embeddedStream = regexp.MustCompile(`/Type /EmbeddedFile /Length (\d+) /Filter /FlateDecode /Params << /CheckSum <[0-9a-fA-F]*> /Size \d+ >> >>\s*stream\r?\n`)

// embeddedLicence finds the licence.json attachment in a PDF this platform
// printed (one Flate-compressed embedded file stream). Other PDFs are
// refused: poppler's `pdfdetach -saveall` extracts the same file.
func embeddedLicence(pdf []byte) ([]byte, error) {
	m := embeddedStream.FindSubmatchIndex(pdf)
	notOurs := apperr.New(apperr.Invalid, apperr.PDFWithoutLicence, "this PDF carries no licence file: upload the PDF as downloaded from this platform, or its licence.json")
	if m == nil {
		return nil, notOurs
	}
	n, err := strconv.Atoi(string(pdf[m[2]:m[3]]))
	if err != nil || m[1]+n > len(pdf) || n > 1<<20 {
		return nil, notOurs
	}
	r, err := zlib.NewReader(bytes.NewReader(pdf[m[1] : m[1]+n]))
	if err != nil {
		return nil, notOurs
	}
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, notOurs
	}
	return b, nil
}
