package catalog

import (
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/httpx"
	"yiwang/internal/org"
	"yiwang/internal/search"
	"yiwang/internal/web"
	"yiwang/internal/workday"
)

//go:embed templates/*.html
var templateFS embed.FS

// Handler serves the catalogue: public guides (我要看) and search (我要查),
// and the administration API for importing, publishing and retiring.
type Handler struct {
	store   *Store
	schemas *Schemas
	org     *org.Store
	indexer *Indexer
	index   *search.Index
	stats   *search.Stats
	logger  *slog.Logger
	pages   *web.Renderer

	// Calendar, when set, gives the working-day calendar the guide page
	// counts "apply today, decided by" on; Now, when set, is the clock
	// (tests).
	Calendar func(context.Context) (*workday.Calendar, error)
	Now      func() time.Time
}

// NewHandler returns the catalogue's HTTP handler.
func NewHandler(s *Store, schemas *Schemas, o *org.Store, indexer *Indexer, index *search.Index, stats *search.Stats, logger *slog.Logger) (*Handler, error) {
	sub, _ := fs.Sub(templateFS, "templates")
	pages, err := web.NewRenderer(sub, nil, logger)
	if err != nil {
		return nil, err
	}
	return &Handler{store: s, schemas: schemas, org: o, indexer: indexer, index: index, stats: stats, logger: logger, pages: pages}, nil
}

// Register adds the catalogue's routes.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("GET /api/v1/items", authz.Public, h.listItems)
	r.HandleFunc("GET /api/v1/items/{code}", authz.Public, h.getItem)
	r.HandleFunc("GET /api/v1/catalog/schema.json", authz.Public, h.schema)
	r.HandleFunc("POST /api/v1/admin/catalog/import", authz.CatalogManage, h.importZip)
	r.HandleFunc("GET /api/v1/admin/catalog/items/{code}/versions", authz.CatalogManage, h.listVersions)
	r.HandleFunc("GET /api/v1/admin/catalog/items/{code}/versions/{version}", authz.CatalogManage, h.getVersion)
	r.HandleFunc("POST /api/v1/admin/catalog/items/{code}/versions/{version}/publish", authz.CatalogManage, h.publish)
	r.HandleFunc("POST /api/v1/admin/catalog/items/{code}/retire", authz.CatalogManage, h.retire)
	r.HandleFunc("GET /api/v1/admin/catalog/items/{code}/diff", authz.CatalogManage, h.diff)
	r.HandleFunc("GET /items", authz.Public, h.itemsPage)
	r.HandleFunc("GET /items/{code}", authz.Public, h.guidePage)
	r.HandleFunc("GET /search", authz.Public, h.searchPage)
}

// ItemSummary is an item in a list.
type ItemSummary struct {
	Code         string `json:"code"`
	NameZh       string `json:"name_zh"`
	NameEn       string `json:"name_en"`
	Kind         string `json:"kind"`
	Department   string `json:"department"`
	Target       string `json:"target"`
	ApprovalMode string `json:"approval_mode"`
	Visits       int    `json:"visits"`
	PromisedDays int    `json:"promised_days"`
	Version      int    `json:"version"`
}

func (h *Handler) published(r *http.Request) ([]ItemSummary, error) {
	versions, err := h.store.Published(r.Context())
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	out := []ItemSummary{}
	for _, v := range versions {
		it := v.Item
		if d := q.Get("department"); d != "" && it.Department != d {
			continue
		}
		if k := q.Get("kind"); k != "" && it.Kind != k {
			continue
		}
		if t := q.Get("target"); t != "" && it.Target != t && it.Target != "both" {
			continue
		}
		out = append(out, ItemSummary{Code: it.Code, NameZh: it.Name.Zh, NameEn: it.Name.In("en"), Kind: it.Kind, Department: it.Department,
			Target: it.Target, ApprovalMode: it.Approval.Mode, Visits: it.Visits, PromisedDays: it.TimeLimit.PromisedDays, Version: v.Version})
	}
	return out, nil
}

func (h *Handler) listItems(w http.ResponseWriter, r *http.Request) {
	items, err := h.published(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": items})
}

// Guide is an item as applicants see it: the version in service and the
// department that implements it.
type Guide struct {
	VersionID  int64          `json:"version_id"`
	Version    int            `json:"version"`
	Department org.Department `json:"department"`
	// Departments names every department the item's steps involve.
	Departments map[string]org.Department `json:"departments"`
	Item        Item                      `json:"item"`
}

func (h *Handler) guide(r *http.Request) (Guide, error) {
	v, err := h.store.Current(r.Context(), r.PathValue("code"))
	if err != nil {
		return Guide{}, err
	}
	g := Guide{VersionID: v.ID, Version: v.Version, Item: v.Item, Departments: map[string]org.Department{}}
	for _, code := range append([]string{v.Item.Department}, stepDepartments(v.Item)...) {
		if _, done := g.Departments[code]; done {
			continue
		}
		d, err := h.org.Department(r.Context(), code)
		if err != nil {
			return Guide{}, err
		}
		g.Departments[code] = d
	}
	g.Department = g.Departments[v.Item.Department]
	return g, nil
}

func stepDepartments(it Item) []string {
	var out []string
	for _, s := range it.Steps {
		out = append(out, s.Department)
	}
	return out
}

func (h *Handler) getItem(w http.ResponseWriter, r *http.Request) {
	g, err := h.guide(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, g)
}

func (h *Handler) schema(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/schema+json")
	w.Write(SchemaJSON())
}

// maxUpload bounds an uploaded catalogue archive.
const maxUpload = 32 << 20

// importZip imports a zip of a catalogue folder. Problems come back in
// details as file:line:col entries and nothing is imported.
func (h *Handler) importZip(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpload))
	if err != nil {
		httpx.WriteError(w, r, h.logger, apperr.New(apperr.Invalid, apperr.UploadTooLarge, "the archive is larger than %d MiB", maxUpload>>20))
		return
	}
	fsys, err := OpenZip(body)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	c, problems := h.schemas.LoadFS(fsys)
	if len(problems) > 0 {
		httpx.WriteError(w, r, h.logger, apperr.New(apperr.Invalid, apperr.CatalogueInvalid, "the catalogue has %d problem(s); nothing was imported", len(problems)).WithDetails(problems))
		return
	}
	res, err := h.store.Import(r.Context(), c, actor(r))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	h.logger.InfoContext(r.Context(), "catalogue imported", "created", len(res.Created), "updated", len(res.Updated), "unchanged", res.Unchanged)
	httpx.WriteJSON(w, http.StatusOK, res)
}

func pathSplit(p string) (dir, name string) {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[:i], p[i+1:]
		}
	}
	return "", p
}

func (h *Handler) listVersions(w http.ResponseWriter, r *http.Request) {
	vs, err := h.store.Versions(r.Context(), r.PathValue("code"))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"versions": vs})
}

func versionParam(r *http.Request, name string) (int, error) {
	s := r.PathValue(name)
	if s == "" {
		s = r.URL.Query().Get(name)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, apperr.New(apperr.Invalid, apperr.BadVersion, "%s must be a version number (1, 2, …), not %q", name, s)
	}
	return n, nil
}

func (h *Handler) getVersion(w http.ResponseWriter, r *http.Request) {
	n, err := versionParam(r, "version")
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	v, err := h.store.Version(r.Context(), r.PathValue("code"), n)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"version": v, "source_yaml": v.SourceYAML})
}

func (h *Handler) publish(w http.ResponseWriter, r *http.Request) {
	n, err := versionParam(r, "version")
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	ref, err := h.store.Publish(r.Context(), r.PathValue("code"), n, actor(r))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	h.refreshIndex(r)
	httpx.WriteJSON(w, http.StatusOK, ref)
}

func (h *Handler) retire(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if err := h.store.Retire(r.Context(), code, actor(r)); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	h.refreshIndex(r)
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"code": code, "status": StatusRetired})
}

// refreshIndex updates search after a change; a failure only delays it
// until the indexer's next round.
func (h *Handler) refreshIndex(r *http.Request) {
	if err := h.indexer.Refresh(r.Context()); err != nil {
		h.logger.WarnContext(r.Context(), "search index refresh failed", "err", err)
	}
}

func (h *Handler) diff(w http.ResponseWriter, r *http.Request) {
	from, err := versionParam(r, "from")
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	to, err := versionParam(r, "to")
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	code := r.PathValue("code")
	a, err := h.store.Version(r.Context(), code, from)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	b, err := h.store.Version(r.Context(), code, to)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	changes, err := Diff(a.Item, b.Item)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	if changes == nil {
		changes = []Change{} // a list, as documented, even when the versions are alike
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"code": code, "from": from, "to": to, "changes": changes})
}

// itemsPage lists the items in service, optionally of one department.
func (h *Handler) itemsPage(w http.ResponseWriter, r *http.Request) {
	items, err := h.published(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	depts, err := h.org.Departments(r.Context())
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	lang := web.Lang(w, r)
	h.pages.Render(w, r, http.StatusOK, "items.html", pick(lang, "办事指南", "Service guides"), map[string]any{
		"Items": items, "Departments": depts, "Selected": r.URL.Query().Get("department"),
	})
}

func (h *Handler) guidePage(w http.ResponseWriter, r *http.Request) {
	g, err := h.guide(r)
	lang := web.Lang(w, r)
	if apperr.Is(err, apperr.NotFound) {
		h.pages.Render(w, r, http.StatusNotFound, "notfound.html", pick(lang, "未找到事项", "Service not found"), r.PathValue("code"))
		return
	}
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	page := guideView{Guide: g}
	if h.Calendar != nil {
		// The line is a help, not the guide: without a calendar the page
		// still shows, with its time limits in working days.
		cal, err := h.Calendar(r.Context())
		if err == nil {
			var due workday.Due
			if due, err = cal.Due(workday.DateOf(h.now()), g.Item.TimeLimit.Days()); err == nil {
				page.Due = &due
			}
		}
		if err != nil {
			h.logger.WarnContext(r.Context(), "guide without its due date", "item", g.Item.Code, "err", err)
		}
	}
	h.pages.Render(w, r, http.StatusOK, "guide.html", g.Item.Name.In(lang), page)
}

// guideView is what the guide page shows: the guide, and the day an
// application made today is decided by at the latest.
type guideView struct {
	Guide
	Due *workday.Due
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// searchPage is 我要查: results for ?q=, or hot words when there is no query.
func (h *Handler) searchPage(w http.ResponseWriter, r *http.Request) {
	lang := web.Lang(w, r)
	q := r.URL.Query().Get("q")
	data := map[string]any{"Query": q}
	if q != "" {
		hits, err := h.index.Search(r.Context(), q, search.DefaultLimit)
		if err != nil && !apperr.Is(err, apperr.Invalid) {
			httpx.WriteError(w, r, h.logger, err)
			return
		}
		if err != nil {
			data["Error"] = web.ErrorText(lang, apperr.As(err))
		} else {
			bundles, err := h.store.Bundles(r.Context())
			if err != nil {
				httpx.WriteError(w, r, h.logger, err)
				return
			}
			data["Bundles"] = MatchBundles(bundles, q)
			data["Hits"] = hits
			if err := h.stats.Record(r.Context(), q, len(hits)); err != nil {
				h.logger.WarnContext(r.Context(), "search not counted", "err", err)
			}
		}
	}
	hot, err := h.stats.Hot(r.Context(), 10)
	if err != nil {
		h.logger.WarnContext(r.Context(), "hot words unavailable", "err", err)
	}
	data["Hot"] = hot
	h.pages.Render(w, r, http.StatusOK, "search.html", pick(lang, "搜索", "Search"), data)
}

// actor names who made a change, for the version history.
func actor(r *http.Request) string {
	p := authz.From(r.Context())
	return fmt.Sprintf("%s:%d", p.Kind, p.AccountID)
}

func pick(lang, zh, en string) string {
	if lang == "en" {
		return en
	}
	return zh
}
