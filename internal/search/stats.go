package search

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
	"yiwang/internal/store"
)

// HotWord is a normalised query with how often it was searched and how many
// results its latest search found.
type HotWord struct {
	Query    string `json:"query"`
	Count    int64  `json:"count"`
	LastHits int    `json:"last_hits"`
}

// Stats counts search queries in the database, for hot words and misses.
type Stats struct {
	db     *sql.DB
	hotMin int
}

// NewStats returns Stats on db.
func NewStats(db *sql.DB) *Stats { return &Stats{db: db, hotMin: HotMinCount} }

// Record counts one search for q that found hits results. q is normalised
// first, so differently spaced or cased spellings count as one query; an
// empty or overlong q is refused like Search refuses it.
func (s *Stats) Record(ctx context.Context, q string, hits int) error {
	q, err := checkQuery(q)
	if err != nil {
		return err
	}
	if looksPersonal(q) {
		return nil // an ID, phone or licence number is nobody's hot word
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO search_queries (query, count, last_at, last_hits) VALUES ($1, 1, $2, $3)
		ON CONFLICT (query) DO UPDATE SET count = search_queries.count + 1, last_at = excluded.last_at, last_hits = excluded.last_hits`,
		q, time.Now().UTC(), max(hits, 0))
	if err != nil {
		return fmt.Errorf("record search query: %w", err)
	}
	return nil
}

// Hot returns the most searched queries, most frequent first and equal
// counts in code-point order. limit is clamped like Search's.
//
// Hot words are public, so a query appears only once HotMinCount searches
// have asked it: one person's one-off search (a name, say) is not shown.
func (s *Stats) Hot(ctx context.Context, limit int) ([]HotWord, error) {
	return s.list(ctx, "hot words", `SELECT query, count, last_hits FROM search_queries WHERE count >= `+strconv.Itoa(s.hotMin)+`
		ORDER BY count DESC, query LIMIT $1`, limit)
}

// HotMinCount is how often a query must be searched to be shown as a hot
// word, unless WithHotMinCount says otherwise.
const HotMinCount = 3

// WithHotMinCount returns s showing queries asked at least n times.
func (s *Stats) WithHotMinCount(n int) *Stats {
	c := *s
	c.hotMin = max(n, 1)
	return &c
}

// looksPersonal reports whether q holds a run of six or more digits, as ID
// numbers, phone numbers and licence numbers do. Such queries are not counted.
func looksPersonal(q string) bool {
	run := 0
	for _, r := range q {
		if r >= '0' && r <= '9' || r >= '０' && r <= '９' {
			run++
			if run >= 6 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// Misses returns the most searched queries whose latest search found
// nothing: words the catalogue's administrators may want to add as keywords.
// It is ordered and limited like Hot.
func (s *Stats) Misses(ctx context.Context, limit int) ([]HotWord, error) {
	return s.list(ctx, "missed searches", `SELECT query, count, last_hits FROM search_queries WHERE last_hits = 0
		ORDER BY count DESC, query LIMIT $1`, limit)
}

func (s *Stats) list(ctx context.Context, what, q string, limit int) ([]HotWord, error) {
	out, err := store.All(ctx, s.db, func(row store.Scanner) (HotWord, error) {
		var w HotWord
		err := row.Scan(&w.Query, &w.Count, &w.LastHits)
		return w, err
	}, q, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	return out, nil
}
