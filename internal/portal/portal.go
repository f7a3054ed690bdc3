// Package portal serves the citizen service site (我要看/查/办/问/评/我的):
// the home page, the apply wizard, my applications with corrections,
// withdrawal and rating, my licences, notifications and who read my data.
// Pages call the domain services directly; other domains serve their own
// pages (catalogue guides, search, sign-in, licences) through the shared
// web layout.
package portal

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/bundle"
	"yiwang/internal/catalog"
	"yiwang/internal/httpx"
	"yiwang/internal/identity"
	"yiwang/internal/licence"
	"yiwang/internal/notify"
	"yiwang/internal/org"
	"yiwang/internal/rating"
	"yiwang/internal/search"
	"yiwang/internal/store"
	"yiwang/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Deps are the services the portal's pages show and act on.
type Deps struct {
	DB          *store.DB
	Org         *org.Store
	Catalog     *catalog.Store
	Stats       *search.Stats       // hot search words
	Drafts      *application.Drafts // the applicant's side of applications
	Modes       *application.Modes  // commitments, co-parties and deferred materials
	Bundles     *bundle.Service     // my bundle cases (一件事); may be nil
	Licences    *licence.Service
	Identities  *identity.Store
	Outbox      *notify.Outbox
	Ratings     *rating.Service       // 好差评: the rating block of a finished application
	Calendars   application.Calendars // working days, for the deadline light
	WarningDays int                   // working days left at which a deadline turns yellow
	Secure      bool                  // cookies are marked Secure (the site is served over TLS)
	Logger      *slog.Logger
}

// Handler serves the portal pages.
type Handler struct {
	Deps
	pages *web.Renderer
	cache itemCache
}

// NewHandler parses the embedded templates.
func NewHandler(d Deps) (*Handler, error) {
	sub, _ := fs.Sub(templateFS, "templates")
	funcs := template.FuncMap{}
	maps.Copy(funcs, rating.Funcs)
	maps.Copy(funcs, pageFuncs)
	pages, err := web.NewRenderer(sub, funcs, d.Logger, rating.Partials())
	if err != nil {
		return nil, err
	}
	return &Handler{Deps: d, pages: pages}, nil
}

// Register adds the portal's routes, including the shared static assets.
func (h *Handler) Register(r *httpx.Router) {
	r.Handle("GET /static/", authz.Public, web.Static())
	r.HandleFunc("GET /{$}", authz.Public, h.home)
	r.HandleFunc("POST /elder", authz.Public, h.elder)
	r.HandleFunc("GET /apply/{code}", authz.ActForOwn, h.applyPage)
	r.HandleFunc("POST /apply/{code}", authz.ActForOwn, h.applyStart)
	r.HandleFunc("GET /me/applications", authz.ActForOwn, h.myApplications)
	r.HandleFunc("GET /me/applications/{id}", authz.ActForOwn, h.myApplication)
	r.HandleFunc("GET /applications/{id}", authz.ActForOwn, h.applicationLink)
	r.HandleFunc("POST /me/applications/{id}/form", authz.ActForOwn, h.saveForm)
	r.HandleFunc("POST /me/applications/{id}/materials/{material}", authz.ActForOwn, h.upload)
	r.HandleFunc("POST /me/applications/{id}/materials/{material}/pledge", authz.ActForOwn, h.pledge)
	r.HandleFunc("POST /me/applications/{id}/materials/{material}/deferral", authz.ActForOwn, h.deferMaterial)
	r.HandleFunc("POST /me/applications/{id}/parties", authz.ActForOwn, h.nameParties)
	r.HandleFunc("POST /me/applications/{id}/submit", authz.ActForOwn, h.submit)
	r.HandleFunc("POST /me/applications/{id}/correction", authz.ActForOwn, h.correction)
	r.HandleFunc("POST /me/applications/{id}/withdraw", authz.ActForOwn, h.withdraw)
	r.HandleFunc("POST /me/applications/{id}/decline", authz.ActForOwn, h.decline)
	r.HandleFunc("GET /me/licences", authz.ActForOwn, h.myLicences)
	r.HandleFunc("POST /me/licences/{id}/share", authz.ActForOwn, h.share)
	r.HandleFunc("POST /me/licences/{id}/shares/{share}/revoke", authz.ActForOwn, h.withdrawShare)
	r.HandleFunc("GET /me/notifications", authz.SignedIn, h.notifications)
	r.HandleFunc("POST /me/notifications/{id}/read", authz.SignedIn, h.markRead)
	r.HandleFunc("GET /me/data-reads", authz.ActForOwn, h.dataReads)
	r.HandleFunc("GET /me/eligible", authz.ActForOwn, h.eligiblePage)
	r.HandleFunc("POST /me/eligible", authz.ActForOwn, h.eligible)
}

// title picks a page title in the request's language.
func title(w http.ResponseWriter, r *http.Request, zh, en string) string {
	if web.Lang(w, r) == "en" {
		return en
	}
	return zh
}

// fail shows an error as a page a person can act on: the message, and a
// way back. Internal errors are logged and shown only by request ID.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) { h.pages.Fail(w, r, err) }

// pathID reads a whole-number id from the path.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id < 1 {
		return 0, apperr.New(apperr.Invalid, apperr.BadID, "the %s in the address must be a whole number", name)
	}
	return id, nil
}

// load reads the principal's application named in the path and the item
// version it was made under; on failure it has shown the error page.
func (h *Handler) load(w http.ResponseWriter, r *http.Request) (application.Application, catalog.Item, bool) {
	id, err := pathID(r, "id")
	var a application.Application
	if err == nil {
		a, err = h.Drafts.Get(r.Context(), authz.From(r.Context()), id)
	}
	var v catalog.Version
	if err == nil {
		v, err = h.Catalog.VersionByID(r.Context(), a.VersionID)
	}
	if err != nil {
		h.fail(w, r, err)
		return a, catalog.Item{}, false
	}
	return a, v.Item, true
}

// localPath keeps a redirect on this site: next must be a path, not an address.
func localPath(next, fallback string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return fallback
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return fallback
	}
	return next
}

// elder turns elder mode (长者模式) on or off and returns to the page.
func (h *Handler) elder(w http.ResponseWriter, r *http.Request) {
	web.SetElder(w, r.PostFormValue("on") == "1", h.Secure)
	http.Redirect(w, r, localPath(r.PostFormValue("next"), "/"), http.StatusSeeOther)
}
