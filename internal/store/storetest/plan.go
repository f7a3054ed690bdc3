package storetest

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"yiwang/internal/store"
)

// Indexed fails t if the backend would read any of tables in full to answer
// query: the test that a list is served by an index. Each entry is a table
// as the query names it, "tasks" or "tasks t" with its alias. On SQLite,
// which plans without statistics (nobody runs ANALYZE), the plan of an
// empty database is the plan of a full one; a row "SCAN t" without an
// index is a full scan. PostgreSQL plans by cost, and on a small table a
// sequential scan is cheapest, so it is asked with sequential scans
// disabled: a "Seq Scan" it still chooses is one no index can replace. It
// returns the plan, for the failure message or a closer look.
func Indexed(t testing.TB, db *store.DB, tables []string, query string, args ...any) []string {
	t.Helper()
	ctx := context.Background()
	var plan []string
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		explain := `EXPLAIN QUERY PLAN `
		if db.Backend == store.Postgres {
			if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
				return err
			}
			explain = `EXPLAIN `
		}
		rows, err := tx.QueryContext(ctx, explain+query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			for i := range vals {
				vals[i] = new(sql.NullString)
			}
			if err := rows.Scan(vals...); err != nil {
				return err
			}
			plan = append(plan, vals[len(vals)-1].(*sql.NullString).String) // SQLite's detail, PostgreSQL's line
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	for _, line := range plan {
		for _, table := range tables {
			name, alias, _ := strings.Cut(table, " ")
			if alias == "" {
				alias = name
			}
			full := false
			if db.Backend == store.Postgres {
				full = strings.Contains(line, "Seq Scan on "+name+" ") || strings.HasSuffix(line, "Seq Scan on "+name)
			} else {
				detail := strings.TrimSpace(line)
				full = (detail == "SCAN "+alias || detail == "SCAN "+name) && !strings.Contains(detail, "USING")
			}
			if full {
				t.Errorf("%s reads %s in full:\n%s\nplan:\n%s", db.Backend, name, query, strings.Join(plan, "\n"))
			}
		}
	}
	return plan
}
