package portal

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"yiwang/internal/catalog"
	"yiwang/internal/org"
	"yiwang/internal/search"
	"yiwang/internal/store"
)

// itemCard is an item as the home page lists it.
type itemCard struct {
	Code    string
	Name    catalog.Text
	Summary catalog.Text
	Auto    bool // decided by machine (秒批)
	Visits  int
	Target  string
}

func card(it catalog.Item) itemCard {
	return itemCard{Code: it.Code, Name: it.Name, Summary: it.Summary, Auto: it.Approval.Mode == "auto", Visits: it.Visits, Target: it.Target}
}

// theme is a life event (一件事) and the items a person needs for it. The
// catalogue has no themes of its own, so they are drawn from the
// departments that serve each life event and the items' target.
type theme struct {
	Zh, En      string
	Departments []string
	Target      string // person or enterprise
	Items       []itemCard
}

// themes in the order the home page shows them.
func themes() []theme {
	return []theme{
		{Zh: "养老与社会救助", En: "Old age and social assistance", Departments: []string{"civil", "disabled"}, Target: "person"},
		{Zh: "户籍与证件", En: "Residence and identity papers", Departments: []string{"psb", "traffic", "transport"}, Target: "person"},
		{Zh: "就业、社保与医保", En: "Work, social and medical insurance", Departments: []string{"hrss", "medins", "fund"}, Target: "person"},
		{Zh: "生育与健康", En: "Birth and health", Departments: []string{"health", "drug"}, Target: "person"},
		{Zh: "住房与不动产", En: "Housing and property", Departments: []string{"housing", "realestate", "planning"}, Target: "person"},
		{Zh: "开办和经营企业", En: "Starting and running a business", Target: "enterprise"},
	}
}

type homeData struct {
	Hot         []search.HotWord
	Popular     []itemCard
	Themes      []theme
	Departments []org.Department
	Bundles     []catalog.Bundle // 一件事一次办
}

// popularLimit is how many popular items the home page shows.
const popularLimit = 6

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	d, err := h.homeData(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.pages.Render(w, r, http.StatusOK, "home.html", title(w, r, "首页", "Home"), d)
}

// Warm does once what the first visit to the home page would find cold:
// decoding the catalogue's items, counting the most applied-for, and the
// home page's templates, which html/template prepares on their first use.
// serve runs it in the background at start, so that the first visitor
// waits for none of it.
func (h *Handler) Warm(ctx context.Context) error {
	d, err := h.homeData(ctx)
	if err != nil {
		return err
	}
	r, err := http.NewRequestWithContext(ctx, "GET", "/", nil)
	if err != nil {
		return err
	}
	w := &discard{header: http.Header{}}
	h.pages.Render(w, r, http.StatusOK, "home.html", "首页", d)
	if w.status != http.StatusOK {
		return fmt.Errorf("warm the home page: rendered %d", w.status)
	}
	return nil
}

// discard is a ResponseWriter that keeps only the status.
type discard struct {
	header http.Header
	status int
}

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(status int)      { d.status = status }

// homeData is what the home page shows.
func (h *Handler) homeData(ctx context.Context) (homeData, error) {
	deps, err := h.Org.Departments(ctx)
	if err != nil {
		return homeData{}, err
	}
	d := homeData{Departments: deps}
	if d.Bundles, err = h.Catalog.Bundles(ctx); err != nil {
		return d, err
	}
	if d.Hot, err = h.Stats.Hot(ctx, 8); err != nil {
		return d, err
	}
	items, err := h.published(ctx)
	if err != nil {
		return d, err
	}
	if d.Popular, err = h.popular(ctx, items); err != nil {
		return d, err
	}
	for _, th := range themes() {
		for _, it := range items {
			if it.Target == th.Target && (th.Departments == nil || slices.Contains(th.Departments, it.Department)) {
				th.Items = append(th.Items, card(it))
			}
		}
		if len(th.Items) > 0 {
			d.Themes = append(d.Themes, th)
		}
	}
	return d, nil
}

// popular is the most applied-for items; while few have applications, the
// items decided at once (秒批) and needing no visit fill the list.
func (h *Handler) popular(ctx context.Context, items []catalog.Item) ([]itemCard, error) {
	byCode := map[string]catalog.Item{}
	for _, it := range items {
		byCode[it.Code] = it
	}
	codes, err := h.mostApplied(ctx)
	if err != nil {
		return nil, err
	}
	var out []itemCard
	seen := map[string]bool{}
	for _, code := range codes {
		if it, ok := byCode[code]; ok {
			out, seen[code] = append(out, card(it)), true
		}
	}
	for _, it := range items {
		if len(out) >= popularLimit {
			break
		}
		if !seen[it.Code] && it.Approval.Mode == "auto" && it.Visits == 0 {
			out, seen[it.Code] = append(out, card(it)), true
		}
	}
	return out, nil
}

// itemCache holds what the home page shows of the catalogue: the items in
// service, kept until the catalogue's generation changes (decoding every item
// on each visit would cost the home page most of its time), and the most
// applied-for items, recounted every popularTTL.
type itemCache struct {
	mu    sync.Mutex
	gen   string
	items []catalog.Item
	// popular are the most applied-for items' codes, counted at popularAt.
	popular   []string
	popularAt time.Time
}

// published returns the items in service, from the cache while the
// catalogue is unchanged.
func (h *Handler) published(ctx context.Context) ([]catalog.Item, error) {
	gen, err := h.Catalog.Generation(ctx)
	if err != nil {
		return nil, err
	}
	h.cache.mu.Lock()
	defer h.cache.mu.Unlock()
	if h.cache.items != nil && h.cache.gen == gen {
		return h.cache.items, nil
	}
	vs, err := h.Catalog.Published(ctx)
	if err != nil {
		return nil, err
	}
	items := make([]catalog.Item, 0, len(vs))
	for _, v := range vs {
		items = append(items, v.Item)
	}
	h.cache.gen, h.cache.items = gen, items
	return items, nil
}

// popularTTL is how long the most applied-for items are reused: counting
// a month's applications is too much for each visit to the home page.
const popularTTL = 10 * time.Minute

// popularWindow is how far back the most applied-for items are counted:
// what people apply for now, and a count that does not grow with the
// years of applications behind it (read from an index alone, migration
// 0019: a count over every application took seconds at a million).
const popularWindow = 30 * 24 * time.Hour

// mostApplied returns the codes of the items with the most applications
// submitted in the last popularWindow, counted at most once every
// popularTTL.
func (h *Handler) mostApplied(ctx context.Context) ([]string, error) {
	h.cache.mu.Lock()
	defer h.cache.mu.Unlock()
	if h.cache.popular != nil && time.Since(h.cache.popularAt) < popularTTL {
		return h.cache.popular, nil
	}
	codes, err := store.All(ctx, h.DB, store.Value[string], `SELECT item_code FROM applications WHERE submitted_at >= $1
		GROUP BY item_code ORDER BY count(*) DESC, item_code LIMIT $2`, time.Now().Add(-popularWindow), popularLimit)
	if err != nil {
		return nil, err
	}
	if codes == nil {
		codes = []string{}
	}
	h.cache.popular, h.cache.popularAt = codes, time.Now()
	return codes, nil
}
