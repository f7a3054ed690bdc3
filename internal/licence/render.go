package licence

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"math"
	"strings"
	"time"

	"yiwang/internal/ident"
	"yiwang/internal/pii"
	"yiwang/internal/workday"

	"github.com/go-pdf/fpdf"
	"github.com/skip2/go-qrcode"
)

// cjkFont is Droid Sans Fallback (Apache-2.0, from Debian's
// fonts-droid-fallback; see fonts/README.md). It is embedded so the server
// prints Chinese PDFs without a browser or installed fonts; each PDF carries
// only the glyphs it uses.
//
//go:embed fonts/DroidSansFallbackFull.ttf
var cjkFont []byte

// QR returns the PNG of the QR code pointing to the licence's verification page.
func (s *Service) QR(number string) ([]byte, error) {
	return qrcode.Encode(s.VerifyURL(number), qrcode.Medium, 256)
}

// View is a licence prepared for display: labels in order, validity in words.
type View struct {
	Licence
	Type       Type
	Rows       [][2]string // label, value: holder, the type's fields, dates
	ValidUntil string      // the date, or 长期
	VerifyURL  string
	Watermark  string // set on shared copies
	Status     string // valid, revoked, cancelled, superseded or expired, as of now
}

// View prepares l for display; share, when set, makes it a watermarked
// copy, its watermark in lang ("en" or Chinese), with the personal data
// masked (maskShared).
func (s *Service) View(ctx context.Context, l Licence, share *Share, lang string) (View, error) {
	t, err := TypeTx(ctx, s.db, l.Content.Type)
	if err != nil {
		return View{}, err
	}
	c := l.Content
	v := View{Licence: l, Type: t, VerifyURL: s.VerifyURL(c.Number), ValidUntil: c.ValidUntil, Status: l.Status}
	if v.ValidUntil == "" {
		v.ValidUntil = "长期"
	}
	if l.Status == Valid && l.Expired(s.now()) {
		v.Status = Expired
	}
	idLabel := "公民身份号码"
	if c.Holder.Kind == "enterprise" {
		idLabel = "统一社会信用代码"
	}
	holderID := c.Holder.ID
	if share != nil && c.Holder.Kind != "enterprise" {
		holderID = pii.MaskIDNumber(holderID)
	}
	v.Rows = append(v.Rows, [2]string{"持证主体", c.Holder.Name}, [2]string{idLabel, holderID})
	for _, f := range t.Fields {
		if val := c.Fields[f.ID]; val != "" && !(f.ID == "credit_code" && val == c.Holder.ID) && !(f.ID == "name" && val == c.Holder.Name) {
			if share != nil {
				val = maskShared(f.ID, val)
			}
			v.Rows = append(v.Rows, [2]string{f.Label.Zh, val})
		}
	}
	v.Rows = append(v.Rows, [2]string{"发证日期", c.IssueDate}, [2]string{"有效期至", v.ValidUntil})
	if share != nil {
		v.Watermark = Watermark(lang, share.Recipient, share.Purpose, share.ExpiresAt.In(workday.CST).Format(time.DateOnly))
	}
	return v, nil
}

// maskShared masks a field of a shared copy that holds personal data: a
// resident ID number wherever it is, phones and addresses by the field's
// id. Names stay, so the recipient knows whose licence it is.
func maskShared(field, value string) string {
	switch {
	case isIDNumber(value):
		return pii.MaskIDNumber(value)
	case strings.Contains(field, "phone") || strings.Contains(field, "mobile"):
		return pii.MaskPhone(value)
	case strings.Contains(field, "address"):
		return pii.MaskAddress(value)
	}
	return value
}

// isIDNumber reports whether s is a resident ID number (GB 11643).
func isIDNumber(s string) bool {
	_, err := ident.ParseIDNumber(s)
	return err == nil
}

// PDF prints the licence: its fields, the seal mark, the QR code to the
// verification page, the watermark of a shared copy, and the licence file
// (licence.json) as an attachment, so the PDF itself can be verified.
func (s *Service) PDF(v View) ([]byte, error) {
	file, err := s.Export(v.Licence)
	if err != nil {
		return nil, err
	}
	qr, err := s.QR(v.Content.Number)
	if err != nil {
		return nil, err
	}
	orientation := "L"
	if v.Type.Template == "notice" {
		orientation = "P"
	}
	p := fpdf.New(orientation, "mm", "A4", "")
	p.AddUTF8FontFromBytes("cjk", "", cjkFont)
	p.SetTitle(v.Content.TypeName+" "+v.Content.Number, true)
	p.SetCreator("yiwang", false)
	p.SetCreationDate(v.IssuedAt)
	p.SetModificationDate(v.IssuedAt)
	p.SetAutoPageBreak(false, 0)
	if v.Watermark != "" {
		// On every page, as it is closed, whatever the content runs to.
		p.SetFooterFunc(func() { watermark(p, v.Watermark) })
	}
	p.AddPage()
	w, h := p.GetPageSize()

	// Frame and title.
	p.SetDrawColor(170, 30, 30)
	p.SetLineWidth(1.2)
	p.Rect(8, 8, w-16, h-16, "D")
	p.SetLineWidth(0.3)
	p.Rect(11, 11, w-22, h-22, "D")
	p.SetFont("cjk", "", 26)
	p.SetTextColor(150, 20, 20)
	p.SetXY(15, 20)
	p.CellFormat(w-30, 14, v.Content.TypeName, "", 1, "C", false, 0, "")
	p.SetFont("cjk", "", 10)
	p.SetTextColor(60, 60, 60)
	p.SetX(15)
	p.CellFormat(w-30, 7, "证照编号："+v.Content.Number, "", 1, "C", false, 0, "")
	if v.Watermark != "" {
		p.SetTextColor(200, 0, 0)
		p.SetX(15)
		p.CellFormat(w-30, 7, v.Watermark, "", 1, "C", false, 0, "")
	}

	// Fields.
	p.SetTextColor(0, 0, 0)
	p.SetFont("cjk", "", 12)
	y := p.GetY() + 6
	left, labelW := 30.0, 48.0
	for _, row := range v.Rows {
		p.SetXY(left, y)
		p.CellFormat(labelW, 8, row[0], "", 0, "L", false, 0, "")
		p.SetXY(left+labelW, y)
		p.MultiCell(w-left-labelW-30, 8, row[1], "", "L", false)
		y = p.GetY() + 1
	}

	// QR code, bottom left.
	p.RegisterImageOptionsReader("qr", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(qr))
	qrSize := 32.0
	p.ImageOptions("qr", 20, h-20-qrSize-8, qrSize, qrSize, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	p.SetFont("cjk", "", 8)
	p.SetXY(20, h-26)
	p.CellFormat(90, 5, "扫码核验 "+v.VerifyURL, "", 0, "L", false, 0, "")

	// The seal mark, bottom right: a red ring with the issuer's name and a star.
	cx, cy, r := w-55, h-48, 20.0
	p.SetDrawColor(210, 20, 20)
	p.SetTextColor(210, 20, 20)
	p.SetLineWidth(1)
	p.Circle(cx, cy, r, "D")
	star(p, cx, cy, 6)
	p.SetFont("cjk", "", 9)
	p.SetXY(cx-r, cy+7)
	p.CellFormat(2*r, 5, "电子印章", "", 0, "C", false, 0, "")
	p.SetFont("cjk", "", 11)
	p.SetTextColor(0, 0, 0)
	p.SetXY(cx-45, cy+r+2)
	p.CellFormat(90, 6, v.Content.Issuer.Name, "", 0, "C", false, 0, "")
	p.SetFont("cjk", "", 6)
	p.SetTextColor(110, 110, 110)
	p.SetXY(cx-45, cy+r+8)
	p.CellFormat(90, 4, "SM2 "+v.Seal.KeyID+" · SM3 "+v.Seal.Digest[:16]+"…", "", 0, "C", false, 0, "")

	if v.Status != Valid {
		p.SetFont("cjk", "", 40)
		p.SetTextColor(220, 0, 0)
		p.SetXY(0, h/2-10)
		p.CellFormat(w, 20, map[string]string{Revoked: "已撤销", Cancelled: "已注销", Superseded: "已被取代", Expired: "已过期"}[v.Status], "", 0, "C", false, 0, "")
	}
	if v.Watermark == "" {
		// A shared copy does not carry the licence file: it holds the
		// personal data in full. Its QR code and number still verify it.
		p.SetAttachments([]fpdf.Attachment{{Content: file, Filename: "licence.json", Description: "电子证照文件（含电子印章）"}})
	}
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		return nil, fmt.Errorf("print licence %s: %w", v.Content.Number, err)
	}
	return buf.Bytes(), nil
}

// watermark prints a shared copy's watermark on the current page: a line
// along the bottom and three faint diagonal ones across.
func watermark(p *fpdf.Fpdf, text string) {
	w, h := p.GetPageSize()
	p.SetFont("cjk", "", 8)
	p.SetTextColor(200, 0, 0)
	p.SetXY(15, h-16)
	p.CellFormat(w-30, 4, text, "", 0, "C", false, 0, "")
	p.SetAlpha(0.15, "Normal")
	p.SetFont("cjk", "", 16)
	p.SetTextColor(120, 120, 120)
	for i := range 3 {
		p.TransformBegin()
		x, y := w*0.1, h*(0.45+0.25*float64(i))
		p.TransformRotate(25, x, y)
		p.Text(x, y, text)
		p.TransformEnd()
	}
	p.SetAlpha(1, "Normal")
}

// star draws a filled five-pointed star of outer radius r at (cx, cy).
func star(p *fpdf.Fpdf, cx, cy, r float64) {
	var pts []fpdf.PointType
	for i := range 10 {
		rr := r
		if i%2 == 1 {
			rr = r * 0.38
		}
		a := -math.Pi/2 + float64(i)*math.Pi/5
		pts = append(pts, fpdf.PointType{X: cx + rr*math.Cos(a), Y: cy + rr*math.Sin(a)})
	}
	p.SetFillColor(210, 20, 20)
	p.Polygon(pts, "F")
}
