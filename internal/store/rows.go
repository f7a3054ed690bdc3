package store

import (
	"context"
	"database/sql"
)

// Querier is what reads rows: a *sql.DB, a *DB or a *sql.Tx. Functions that
// read take a Querier so they run inside the caller's transaction when there
// is one, and never reach for a second pooled connection while it is open.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Execer is a Querier that also writes.
type Execer interface {
	Querier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Scanner is one row being read: a *sql.Row or a *sql.Rows positioned on a row.
type Scanner interface {
	Scan(dest ...any) error
}

// All runs query and returns every row turned into a T by scan. It is the
// one loop over rows in the code base: it closes the rows and reports the
// error that ended the iteration, which a hand-written loop easily forgets.
func All[T any](ctx context.Context, q Querier, scan func(Scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return Collect(rows, scan)
}

// Collect turns every remaining row of rows into a T by scan and closes rows.
func Collect[T any](rows *sql.Rows, scan func(Scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Value scans a row of one column into a T; with All it reads a list of
// codes, ids or names.
func Value[T any](row Scanner) (T, error) {
	var v T
	err := row.Scan(&v)
	return v, err
}
