package main

import (
	"log/slog"

	"yiwang/internal/catalog"
	"yiwang/internal/httpx"
	"yiwang/internal/org"
	"yiwang/internal/portal"
	"yiwang/internal/search"
	"yiwang/internal/server"
	"yiwang/internal/store"
)

// app is the platform's domains wired together over one database. serve
// runs it; tests build the same one, so they check the routes people get.
type app struct {
	routes  []server.Routes
	indexer *catalog.Indexer
	index   *search.Index
}

func newApp(db *store.DB, adminToken string, logger *slog.Logger) (*app, error) {
	orgStore := org.NewStore(db.DB)
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		return nil, err
	}
	index, err := search.NewIndex()
	if err != nil {
		return nil, err
	}
	catalogStore := catalog.NewStore(db)
	indexer := catalog.NewIndexer(catalogStore, orgStore, index, logger)
	stats := search.NewStats(db.DB)
	admin := httpx.AdminToken{Token: adminToken, Logger: logger}
	catalogHandler, err := catalog.NewHandler(catalogStore, schemas, orgStore, indexer, index, stats, admin, logger)
	if err != nil {
		return nil, err
	}
	portalHandler, err := portal.NewHandler(orgStore, logger)
	if err != nil {
		return nil, err
	}
	return &app{
		routes: []server.Routes{
			org.NewHandler(orgStore, logger),
			catalogHandler,
			search.NewHandler(index, stats, logger),
			portalHandler,
		},
		indexer: indexer,
		index:   index,
	}, nil
}
