package licence

import (
	"context"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/httpx"
	"yiwang/internal/hub"
	"yiwang/internal/identity"
	"yiwang/internal/pii"
	"yiwang/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Handler serves licences: verification (public), the seal keys (public),
// the holder's licences and share links, and revocation.
type Handler struct {
	svc     *Service
	ids     *identity.Store
	revoker Revoker
	pages   *web.Renderer
	logger  *slog.Logger
}

// Revoker revokes a licence through the application it was issued for, so
// that the application's status, timeline and notification follow in one
// transaction and the department is checked before anything is written
// (application.Tasks; cmd/yiwang wires it, so this package need not know
// applications).
type Revoker interface {
	RevokeLicence(ctx context.Context, p authz.Principal, number, reason string) error
}

// NewHandler returns the licences' HTTP handler.
func NewHandler(svc *Service, ids *identity.Store, revoker Revoker, logger *slog.Logger) (*Handler, error) {
	sub, _ := fs.Sub(templateFS, "templates")
	pages, err := web.NewRenderer(sub, template.FuncMap{
		"maskName": pii.MaskName,
		"dataURI": func(png []byte) template.URL {
			return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
		},
	}, logger)
	if err != nil {
		return nil, err
	}
	return &Handler{svc: svc, ids: ids, revoker: revoker, pages: pages, logger: logger}, nil
}

// Register adds the routes.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("GET /.well-known/yiwang-seal-keys.json", authz.Public, h.keys)
	r.HandleFunc("GET /verify/{number}", authz.Public, h.verifyPage)
	r.HandleFunc("GET /verify/{number}/qr.png", authz.Public, h.qr)
	r.HandleFunc("GET /api/v1/licences/{number}/verification", authz.Public, h.verification)
	r.HandleFunc("POST /api/v1/licences/verify", authz.Public, h.verifyFile)
	r.HandleFunc("POST /api/v1/admin/licences/{number}/revoke", authz.LicenceRevoke, h.revoke)
	r.HandleFunc("GET /api/v1/me/licences", authz.ActForOwn, h.mine)
	r.HandleFunc("POST /api/v1/me/licences/{id}/shares", authz.ActForOwn, h.share)
	r.HandleFunc("GET /api/v1/me/licences/{id}/shares", authz.ActForOwn, h.shares)
	r.HandleFunc("DELETE /api/v1/me/licences/{id}/shares/{share}", authz.ActForOwn, h.revokeShare)
	r.HandleFunc("GET /me/licences/{id}", authz.ActForOwn, h.myPage)
	r.HandleFunc("GET /me/licences/{id}/licence.pdf", authz.ActForOwn, h.myPDF)
	r.HandleFunc("GET /me/licences/{id}/licence.json", authz.ActForOwn, h.myFile)
	r.HandleFunc("GET /shared/licences/{token}", authz.Public, h.sharedPage)
	r.HandleFunc("GET /shared/licences/{token}/licence.pdf", authz.Public, h.sharedPDF)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	httpx.WriteError(w, r, h.logger, err)
}

func (h *Handler) keys(w http.ResponseWriter, r *http.Request) {
	keys, err := h.svc.keys.Keys(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"algorithm": "SM2 signature (default user ID 1234567812345678) of the canonical licence content; see docs/LICENCES.md", "keys": keys})
}

func (h *Handler) verification(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.VerifyNumber(r.Context(), r.PathValue("number"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, v)
}

func (h *Handler) verifyPage(w http.ResponseWriter, r *http.Request) {
	number := strings.ToUpper(strings.TrimSpace(r.PathValue("number")))
	v, err := h.svc.VerifyNumber(r.Context(), number)
	status := http.StatusOK
	// verdict picks the page's sentence from the label table: the result,
	// or that the number itself is mistyped.
	verdict := v.Result
	switch {
	case apperr.Is(err, apperr.NotFound):
		v, status, verdict = Verification{Result: Unknown, Number: number, Message: messages[Unknown]}, http.StatusNotFound, Unknown
		if !ValidNumber(number) {
			verdict = "mistyped"
		}
	case err != nil:
		h.fail(w, r, err)
		return
	}
	h.pages.Render(w, r, status, "verify.html", "证照核验", struct {
		Verification
		Verdict string
	}{v, verdict})
}

// QRPath is where the QR code of a licence's verification address is
// served, for pages that list many licences.
func QRPath(number string) string { return "/verify/" + number + "/qr.png" }

// qr serves the QR code of the public verification address of a licence
// number: public, as the address is, and the same for as long as the site
// keeps its address. A string that is no licence number gets none.
func (h *Handler) qr(w http.ResponseWriter, r *http.Request) {
	number := strings.ToUpper(strings.TrimSpace(r.PathValue("number")))
	if !ValidNumber(number) {
		h.fail(w, r, apperr.New(apperr.NotFound, apperr.LicenceNotFound, "%q is not a licence number", number))
		return
	}
	png, err := h.svc.QR(number)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(png)
}

// maxUpload bounds an uploaded licence file; ours are tens of kilobytes.
const maxUpload = 5 << 20

func (h *Handler) verifyFile(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	var body []byte
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		f, _, ferr := r.FormFile("file")
		if ferr != nil {
			h.fail(w, r, apperr.New(apperr.Invalid, apperr.FileMissing, "send the licence file in the form field \"file\""))
			return
		}
		defer f.Close()
		body, err = io.ReadAll(f)
	} else {
		body, err = io.ReadAll(r.Body)
	}
	if err != nil {
		h.fail(w, r, apperr.New(apperr.Invalid, apperr.UploadTooLarge, "the file could not be read or is larger than 5 MB: a licence file is far smaller"))
		return
	}
	v, err := h.svc.VerifyFile(r.Context(), body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, v)
}

func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	p := authz.From(r.Context())
	if err := h.revoker.RevokeLicence(r.Context(), p, r.PathValue("number"), req.Reason); err != nil {
		h.fail(w, r, err)
		return
	}
	l, err := h.svc.ByNumber(r.Context(), r.PathValue("number"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.logger.InfoContext(r.Context(), "licence revoked", "number", l.Content.Number, "by", p.AccountID)
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"number": l.Content.Number, "status": l.Status, "revoked_at": l.EndedAt, "revoke_reason": l.EndReason})
}

// holder is whose licences the principal sees: the enterprise they act for,
// or themself.
func (h *Handler) holder(ctx context.Context, p authz.Principal) (Holder, error) {
	if p.ActingFor != nil {
		return Holder{Kind: hub.Enterprise, ID: p.ActingFor.CreditCode, Name: p.ActingFor.Name}, nil
	}
	if p.PersonID == 0 {
		return Holder{}, apperr.New(apperr.Forbidden, apperr.PersonsOnly, "licences are held by people and enterprises: sign in as one")
	}
	d, err := h.ids.PersonDetails(ctx, h.ids.DB(), p.PersonID)
	if err != nil {
		return Holder{}, err
	}
	return Holder{Kind: hub.Person, ID: d.IDNumber, Name: d.Name}, nil
}

// Summary is a licence in the holder's list.
type Summary struct {
	ID         int64  `json:"id"`
	Number     string `json:"number"`
	Type       string `json:"type"`
	TypeName   string `json:"type_name"`
	Issuer     string `json:"issuer"`
	IssueDate  string `json:"issue_date"`
	ValidUntil string `json:"valid_until"`
	Status     string `json:"status"` // valid, revoked, cancelled, superseded or expired
	// StatusText is the status in words, Chinese and English.
	StatusText catalog.Text `json:"status_text"`
	VerifyURL  string       `json:"verify_url"`
}

func (h *Handler) mine(w http.ResponseWriter, r *http.Request) {
	hd, err := h.holder(r.Context(), authz.From(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ls, err := h.svc.ForHolder(r.Context(), hd)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := []Summary{}
	for _, l := range ls {
		st := l.Status
		if st == Valid && l.Expired(h.svc.now()) {
			st = Expired
		}
		out = append(out, Summary{ID: l.ID, Number: l.Content.Number, Type: l.Content.Type, TypeName: l.Content.TypeName, Issuer: l.Content.Issuer.Name,
			IssueDate: l.Content.IssueDate, ValidUntil: l.Content.ValidUntil, Status: st, StatusText: catalog.Text{Zh: web.Label("zh", "licence", st), En: web.Label("en", "licence", st)},
			VerifyURL: h.svc.VerifyURL(l.Content.Number)})
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"licences": out})
}

// myLicence is the principal's licence named in the path.
func (h *Handler) myLicence(r *http.Request) (Licence, Holder, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return Licence{}, Holder{}, apperr.New(apperr.Invalid, apperr.BadID, "the licence id is a whole number")
	}
	hd, err := h.holder(r.Context(), authz.From(r.Context()))
	if err != nil {
		return Licence{}, Holder{}, err
	}
	l, err := h.svc.holderLicence(r.Context(), hd, id)
	return l, hd, err
}

func (h *Handler) share(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Recipient string `json:"recipient"`
		Purpose   string `json:"purpose"`
		Days      int    `json:"days"`
	}
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	l, hd, err := h.myLicence(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if req.Days == 0 {
		req.Days = 7
	}
	sh, err := h.svc.CreateShare(r.Context(), hd, l.ID, authz.From(r.Context()).AccountID, req.Recipient, req.Purpose, time.Duration(req.Days)*24*time.Hour)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, sh)
}

// shares lists the share links of one of the holder's licences that
// still work.
func (h *Handler) shares(w http.ResponseWriter, r *http.Request) {
	l, hd, err := h.myLicence(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	all, err := h.svc.ActiveShares(r.Context(), hd)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := []Share{}
	for _, sh := range all {
		if sh.LicenceID == l.ID {
			out = append(out, sh)
		}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"shares": out})
}

// revokeShare ends one of the holder's share links before it expires.
func (h *Handler) revokeShare(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("share"), 10, 64)
	if err != nil {
		h.fail(w, r, apperr.New(apperr.Invalid, apperr.BadID, "the share id is a whole number"))
		return
	}
	l, hd, err := h.myLicence(r)
	if err == nil {
		err = h.svc.RevokeShare(r.Context(), hd, l.ID, id, authz.From(r.Context()).AccountID)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type pageData struct {
	View
	QR []byte
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, l Licence, share *Share) {
	v, err := h.svc.View(r.Context(), l, share, web.Lang(w, r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	qr, err := h.svc.QR(l.Content.Number)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.pages.Render(w, r, http.StatusOK, "licence.html", l.Content.TypeName, pageData{View: v, QR: qr})
}

func (h *Handler) writePDF(w http.ResponseWriter, r *http.Request, l Licence, share *Share) {
	v, err := h.svc.View(r.Context(), l, share, web.Lang(w, r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	b, err := h.svc.PDF(v)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="`+l.Content.Number+`.pdf"`)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(b)
}

func (h *Handler) myPage(w http.ResponseWriter, r *http.Request) {
	l, _, err := h.myLicence(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, l, nil)
}

func (h *Handler) myPDF(w http.ResponseWriter, r *http.Request) {
	l, _, err := h.myLicence(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writePDF(w, r, l, nil)
}

func (h *Handler) myFile(w http.ResponseWriter, r *http.Request) {
	l, _, err := h.myLicence(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	b, err := h.svc.Export(l)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="`+l.Content.Number+`.json"`)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(b)
}

// shared opens a share link, rendering the "gone" page itself.
func (h *Handler) shared(w http.ResponseWriter, r *http.Request) (Licence, *Share, bool) {
	l, sh, err := h.svc.Shared(r.Context(), r.PathValue("token"))
	switch {
	case errors.Is(err, ErrShareGone):
		reason := "分享链接已到期。The share link has expired."
		if sh.WithdrawnAt != nil {
			reason = "持证人已撤回该分享链接。The holder withdrew this share link."
		} else if l.Status == Revoked {
			reason = "该证照已被撤销，分享链接失效。The licence was revoked, so the link no longer works."
		} else if l.Status == Cancelled {
			reason = "该证照已注销，分享链接失效。The licence was cancelled, so the link no longer works."
		} else if l.Status == Superseded {
			reason = "该证照已由新证照取代，分享链接失效。The licence was superseded by a newer one, so the link no longer works."
		} else if l.Expired(h.svc.now()) {
			reason = "该证照已过有效期。The licence has expired."
		}
		h.pages.Render(w, r, http.StatusGone, "gone.html", "分享已失效", map[string]string{"Reason": reason, "Number": l.Content.Number})
		return l, nil, false
	case err != nil:
		h.fail(w, r, err)
		return l, nil, false
	}
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	return l, &sh, true
}

func (h *Handler) sharedPage(w http.ResponseWriter, r *http.Request) {
	if l, sh, ok := h.shared(w, r); ok {
		h.render(w, r, l, sh)
	}
}

func (h *Handler) sharedPDF(w http.ResponseWriter, r *http.Request) {
	if l, sh, ok := h.shared(w, r); ok {
		h.writePDF(w, r, l, sh)
	}
}
