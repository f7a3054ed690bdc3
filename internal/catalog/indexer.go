package catalog

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"yiwang/internal/org"
	"yiwang/internal/search"
)

// Indexer keeps a process's search index in step with the published
// catalogue. Publishing in this process refreshes it at once; Run catches
// publications made by other processes sharing the database.
type Indexer struct {
	store  *Store
	org    *org.Store
	index  *search.Index
	logger *slog.Logger

	mu  sync.Mutex
	gen string
}

// NewIndexer returns an indexer feeding index from the catalogue.
func NewIndexer(s *Store, o *org.Store, index *search.Index, logger *slog.Logger) *Indexer {
	return &Indexer{store: s, org: o, index: index, logger: logger}
}

// Refresh rebuilds the index if the published catalogue changed since the
// last build.
func (ix *Indexer) Refresh(ctx context.Context) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	gen, err := ix.store.Generation(ctx)
	if err != nil || gen == ix.gen {
		return err
	}
	versions, err := ix.store.Published(ctx)
	if err != nil {
		return err
	}
	depts, err := ix.org.Departments(ctx)
	if err != nil {
		return err
	}
	names := map[string]org.Department{}
	for _, d := range depts {
		names[d.Code] = d
	}
	docs := make([]search.Doc, 0, len(versions))
	for _, v := range versions {
		docs = append(docs, SearchDoc(v.Item, names[v.Item.Department]))
	}
	if err := ix.index.Replace(docs); err != nil {
		return err
	}
	ix.gen = gen
	ix.logger.InfoContext(ctx, "search index rebuilt", "items", len(docs))
	return nil
}

// RefreshEvery is how often serve checks the published catalogue's
// generation (one cheap query) and rebuilds the search index when another
// process sharing the database published or retired an item: the most a
// search through one process lags a publication through another, plus the
// rebuild (under a second for the demo catalogue). Pages and the API read
// items from the database, so they show a publication at once everywhere.
const RefreshEvery = 2 * time.Second

// Run refreshes the index every interval until ctx ends.
func (ix *Indexer) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := ix.Refresh(ctx); err != nil && ctx.Err() == nil {
				ix.logger.WarnContext(ctx, "search index refresh failed; serving the previous index", "err", err)
			}
		}
	}
}

// SearchDoc is what the search index knows of an item.
func SearchDoc(it Item, dept org.Department) search.Doc {
	d := search.Doc{
		Code: it.Code, NameZh: it.Name.Zh, NameEn: it.Name.En,
		DepartmentCode: it.Department, DepartmentZh: dept.NameZh, DepartmentEn: dept.NameEn,
		Kind: it.Kind, Keywords: it.Keywords, Summary: it.Summary.Zh + " " + it.Summary.En,
	}
	for _, f := range it.FAQ {
		d.FAQ = append(d.FAQ, f.Q.Zh, f.A.Zh, f.Q.En, f.A.En)
	}
	return d
}
