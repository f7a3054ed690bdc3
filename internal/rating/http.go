package rating

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/skip2/go-qrcode"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/httpx"
	"yiwang/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Partials is the block other domains' pages show a party's rating with:
// {{template "party" (partyArgs .Lang .CSRF $party $action $verdictAction)}}.
func Partials() fs.FS {
	sub, _ := fs.Sub(templateFS, "templates")
	return sub
}

// partyArgs are what the "party" block shows and where its forms post.
type partyArgs struct {
	Lang, CSRF            string
	Party                 Party
	Action, VerdictAction string
}

// Handler serves the rating pages and API.
type Handler struct {
	svc    *Service
	logger *slog.Logger
	pages  *web.Renderer
	// StaffSees refuses staff who may not see application id (the
	// application service's check), before the workbench shows its QR code.
	StaffSees func(ctx context.Context, p authz.Principal, id int64) error
}

// NewHandler returns the handler; staffSees is the application service's
// check of who among staff may see an application.
func NewHandler(svc *Service, staffSees func(ctx context.Context, p authz.Principal, id int64) error, logger *slog.Logger) (*Handler, error) {
	sub, _ := fs.Sub(templateFS, "templates")
	pages, err := web.NewRenderer(sub, Funcs, logger)
	if err != nil {
		return nil, err
	}
	return &Handler{svc: svc, logger: logger, pages: pages, StaffSees: staffSees}, nil
}

// Funcs are the template functions of the rating pages, which the portal's
// application page uses too.
var Funcs = template.FuncMap{
	"levels":    func() []Level { return Levels },
	"levelName": func(lang string, stars int) string { return LevelName(stars).In(lang) },
	"deref":     func(b *bool) bool { return b != nil && *b },
	// dict makes a block's arguments from pairs of name and value.
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"partyArgs": func(lang, csrf string, pt Party, action, verdictAction string) partyArgs {
		return partyArgs{lang, csrf, pt, action, verdictAction}
	},
	// pct writes a rate as a percentage, or a dash when it is of nothing.
	"pct": func(rate float64, of int) string {
		if of == 0 {
			return "—"
		}
		return strconv.FormatFloat(rate*100, 'f', 1, 64) + "%"
	},
}

// Register adds the routes.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("GET /ratings", authz.Public, h.summaryPage)
	r.HandleFunc("GET /api/v1/ratings/summary", authz.Public, h.summary)
	r.HandleFunc("GET /rate/{token}", authz.Public, h.tokenPage)
	r.HandleFunc("POST /rate/{token}", authz.Public, h.rateByToken)
	r.HandleFunc("POST /rate/{token}/verdict", authz.Public, h.verdictByToken)
	r.HandleFunc("GET /rate/{token}/qr", authz.Public, h.tokenQR)
	r.HandleFunc("GET /kiosk/rate/{token}", authz.Public, h.tokenPage)
	r.HandleFunc("POST /kiosk/rate/{token}", authz.Public, h.rateByToken)
	r.HandleFunc("POST /me/applications/{id}/rating", authz.ActForOwn, h.rateOnline)
	r.HandleFunc("POST /me/applications/{id}/rating/verdict", authz.ActForOwn, h.verdictOnline)
	r.HandleFunc("POST /api/v1/me/applications/{id}/rating", authz.ActForOwn, h.rateAPI)
	r.HandleFunc("GET /workbench/applications/{id}/rating-qr", authz.SignedIn, h.staffQR)
	r.HandleFunc("GET /workbench/rectifications", authz.SignedIn, h.listPage)
	r.HandleFunc("GET /workbench/rectifications/{id}", authz.SignedIn, h.detailPage)
	r.HandleFunc("POST /workbench/rectifications/{id}/answer", authz.Rectify, h.answerPage)
	r.HandleFunc("POST /workbench/rectifications/{id}/callback", authz.Supervise, h.callbackPage)
	r.HandleFunc("POST /workbench/ratings/phone", authz.RatePhone, h.phonePage)
	r.HandleFunc("GET /api/v1/rectifications", authz.SignedIn, h.list)
	r.HandleFunc("POST /api/v1/rectifications/{id}/answer", authz.Rectify, h.answer)
	r.HandleFunc("POST /api/v1/rectifications/{id}/callback", authz.Supervise, h.callback)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) { h.pages.Fail(w, r, err) }

func title(w http.ResponseWriter, r *http.Request, zh, en string) string {
	return catalog.Text{Zh: zh, En: en}.In(web.Lang(w, r))
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, apperr.New(apperr.Invalid, apperr.BadID, "the id in the address must be a whole number")
	}
	return id, nil
}

// formInput reads a rating form: no level is chosen until the person
// chooses one.
func formInput(r *http.Request) Input {
	stars, _ := strconv.Atoi(r.PostFormValue("stars"))
	return Input{Stars: stars, Comment: r.PostFormValue("comment")}
}

func (h *Handler) summaryPage(w http.ResponseWriter, r *http.Request) {
	period := r.URL.Query().Get("period")
	sum, err := h.svc.Summary(r.Context(), period)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.pages.Render(w, r, http.StatusOK, "summary.html", title(w, r, "好差评公开", "Service ratings"), sum)
}

func (h *Handler) summary(w http.ResponseWriter, r *http.Request) {
	sum, err := h.svc.Summary(r.Context(), r.URL.Query().Get("period"))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, sum)
}

// tokenData is the rating page of a token: the party's rating, and where
// its form posts (the kiosk's address records the kiosk channel).
type tokenData struct {
	Party
	Action string
	Done   bool
}

func (h *Handler) tokenPage(w http.ResponseWriter, r *http.Request) {
	pt, err := h.svc.ByToken(r.Context(), r.PathValue("token"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	action := "/rate/" + pt.Token
	if strings.HasPrefix(r.URL.Path, "/kiosk/") {
		action = "/kiosk" + action
	}
	h.pages.Render(w, r, http.StatusOK, "rate.html", title(w, r, "评价本次服务", "Rate this service"), tokenData{Party: pt, Action: action, Done: r.URL.Query().Get("done") == "1"})
}

func (h *Handler) rateByToken(w http.ResponseWriter, r *http.Request) {
	channel, back := Window, "/rate/"
	if strings.HasPrefix(r.URL.Path, "/kiosk/") {
		channel, back = Kiosk, "/kiosk/rate/"
	}
	token := r.PathValue("token")
	if _, err := h.svc.RateByToken(r.Context(), token, channel, formInput(r)); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, back+token+"?done=1", http.StatusSeeOther)
}

func (h *Handler) verdictByToken(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if err := h.svc.VerdictByToken(r.Context(), token, r.PostFormValue("verdict")); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/rate/"+token, http.StatusSeeOther)
}

// tokenQR is the QR code of a token's rating page, for the applicant's
// page, the receipt and the window's screen.
func (h *Handler) tokenQR(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if _, _, err := h.svc.parseToken(token); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	h.qr(w, r, token)
}

func (h *Handler) qr(w http.ResponseWriter, r *http.Request, token string) {
	png, err := qrcode.Encode(h.svc.Site+"/rate/"+token, qrcode.Medium, 256)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Write(png)
}

// staffQR is the QR code a clerk shows the applicant of a finished
// application, to rate it at the window without an account.
func (h *Handler) staffQR(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = h.StaffSees(r.Context(), authz.From(r.Context()), id)
	}
	var token string
	if err == nil {
		token, err = h.svc.ApplicantToken(r.Context(), id)
	}
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	h.qr(w, r, token)
}

func (h *Handler) rateOnline(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		_, err = h.svc.RateOnline(r.Context(), authz.From(r.Context()), id, formInput(r))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/me/applications/%d#rating", id), http.StatusSeeOther)
}

func (h *Handler) verdictOnline(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = h.svc.VerdictOnline(r.Context(), authz.From(r.Context()), id, r.PostFormValue("verdict"))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/me/applications/%d#rating", id), http.StatusSeeOther)
}

func (h *Handler) rateAPI(w http.ResponseWriter, r *http.Request) {
	var in Input
	id, err := pathID(r)
	if err == nil {
		err = httpx.DecodeJSON(w, r, &in)
	}
	var rt Rating
	if err == nil {
		rt, err = h.svc.RateOnline(r.Context(), authz.From(r.Context()), id, in)
	}
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, rt)
}

// listData is the workbench's list of rectifications.
type listData struct {
	Items       []Rectification
	Filter      Filter
	Supervisor  bool
	Phone       bool // the user records phone ratings
	Departments []Department
}

func (h *Handler) listPage(w http.ResponseWriter, r *http.Request) {
	p := authz.From(r.Context())
	f := Filter{Department: r.URL.Query().Get("department"), State: r.URL.Query().Get("state")}
	xs, err := h.svc.List(r.Context(), p, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := listData{Items: xs, Filter: f, Supervisor: p.Can(authz.Supervise), Phone: p.Can(authz.RatePhone)}
	if d.Supervisor {
		if d.Departments, err = h.svc.Departments(r.Context()); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.pages.Render(w, r, http.StatusOK, "rectifications.html", title(w, r, "差评整改", "Rectifications"), d)
}

// detailData is one rectification's page, with the forms the user may use.
type detailData struct {
	Rectification
	CanAnswer   bool // the user answers for the department
	CanCallback bool // the user calls back and closes
}

func (h *Handler) detailPage(w http.ResponseWriter, r *http.Request) {
	p := authz.From(r.Context())
	id, err := pathID(r)
	var x Rectification
	if err == nil {
		x, err = h.svc.Get(r.Context(), p, id)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := detailData{Rectification: x, CanAnswer: x.Status == Open && p.Can(authz.Rectify) && p.Department == x.Department,
		CanCallback: x.Status == Answered && p.Can(authz.Supervise)}
	h.pages.Render(w, r, http.StatusOK, "rectification.html", title(w, r, "差评整改", "Rectification"), d)
}

func (h *Handler) answerPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = h.svc.Answer(r.Context(), authz.From(r.Context()), id, r.PostFormValue("answer"))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/workbench/rectifications/%d", id), http.StatusSeeOther)
}

func (h *Handler) callbackPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = h.svc.Callback(r.Context(), authz.From(r.Context()), id, r.PostFormValue("note"), r.PostFormValue("resolved") == "yes")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/workbench/rectifications/%d", id), http.StatusSeeOther)
}

func (h *Handler) phonePage(w http.ResponseWriter, r *http.Request) {
	if _, err := h.svc.RatePhone(r.Context(), authz.From(r.Context()), r.PostFormValue("number"), formInput(r)); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/workbench/rectifications?recorded=1", http.StatusSeeOther)
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	xs, err := h.svc.List(r.Context(), authz.From(r.Context()), Filter{Department: r.URL.Query().Get("department"), State: r.URL.Query().Get("state")})
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"rectifications": xs})
}

func (h *Handler) answer(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Answer string `json:"answer"`
	}
	id, err := pathID(r)
	if err == nil {
		err = httpx.DecodeJSON(w, r, &req)
	}
	if err == nil {
		err = h.svc.Answer(r.Context(), authz.From(r.Context()), id, req.Answer)
	}
	h.writeRectification(w, r, id, err)
}

func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Note     string `json:"note"`
		Resolved bool   `json:"resolved"`
	}
	id, err := pathID(r)
	if err == nil {
		err = httpx.DecodeJSON(w, r, &req)
	}
	if err == nil {
		err = h.svc.Callback(r.Context(), authz.From(r.Context()), id, req.Note, req.Resolved)
	}
	h.writeRectification(w, r, id, err)
}

// writeRectification answers an API action with the rectification as it is now.
func (h *Handler) writeRectification(w http.ResponseWriter, r *http.Request, id int64, err error) {
	var x Rectification
	if err == nil {
		x, err = h.svc.Get(r.Context(), authz.From(r.Context()), id)
	}
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, x)
}
