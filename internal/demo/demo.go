// Package demo fills an empty database with a demonstration government: the
// bundled demo catalogue (catalog/), with its fictional city and district
// (region codes in the unused 91 range), departments and items, published —
// so that a fresh `yiwang serve` shows a working platform. Everything it
// creates is fictional and marked as demo.
package demo

import (
	"context"
	"fmt"
	"slices"
	"time"

	democatalog "yiwang/catalog"
	"yiwang/internal/catalog"
	"yiwang/internal/store"
)

// seededKey is the settings key recording when demo data was seeded.
const seededKey = "demo_seeded_at"

// Seed fills db with demo data if it holds nothing else, and reports whether
// it did. Every step is idempotent and the "seeded" marker is written last,
// so a seed interrupted by a crash completes on the next start. A database
// with departments or catalogue versions of its own is left alone.
func Seed(ctx context.Context, db *store.DB) (bool, error) {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM settings WHERE key = $1`, seededKey).Scan(&n); err != nil || n > 0 {
		return false, err
	}
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		return false, err
	}
	c, problems := schemas.LoadFS(democatalog.Demo)
	if len(problems) > 0 {
		return false, fmt.Errorf("the bundled demo catalogue has %d problem(s), the first: %s", len(problems), problems[0])
	}
	if foreign, err := hasOwnData(ctx, db, c); err != nil || foreign {
		return false, err
	}
	cs := catalog.NewStore(db)
	if _, err := cs.Import(ctx, c, Actor); err != nil {
		return false, fmt.Errorf("seed demo catalogue: %w", err)
	}
	if _, err := cs.PublishAllDrafts(ctx, Actor); err != nil {
		return false, fmt.Errorf("publish demo catalogue: %w", err)
	}
	now := time.Now().UTC()
	if _, err := db.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`,
		seededKey, now.Format(time.RFC3339), now); err != nil {
		return false, err
	}
	return true, nil
}

// hasOwnData reports whether db holds departments or catalogue versions that
// did not come from the demo.
func hasOwnData(ctx context.Context, db *store.DB, demo *catalog.Catalogue) (bool, error) {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM catalog_versions WHERE imported_by <> $1`, Actor).Scan(&n); err != nil || n > 0 {
		return n > 0, err
	}
	rows, err := db.QueryContext(ctx, `SELECT code FROM departments`)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		var code string
		if err := rows.Scan(&code); err != nil {
			return false, err
		}
		if !slices.ContainsFunc(demo.Departments, func(d catalog.Department) bool { return d.Code == code }) {
			return true, nil
		}
	}
	return false, rows.Err()
}

// Actor is who demo data is recorded as created by.
const Actor = "system:demo"
