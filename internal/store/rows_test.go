package store_test

import (
	"context"
	"testing"

	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

func TestAllReadsEveryRowInsideATransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `CREATE TABLE scan_probe (n INTEGER, word TEXT)`); err != nil {
			t.Fatal(err)
		}
		for i, w := range []string{"一", "二", "三"} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO scan_probe VALUES ($1, $2)`, i+1, w); err != nil {
				t.Fatal(err)
			}
		}
		type pair struct {
			n    int
			word string
		}
		got, err := store.All(ctx, tx, func(r store.Scanner) (pair, error) {
			var p pair
			err := r.Scan(&p.n, &p.word)
			return p, err
		}, `SELECT n, word FROM scan_probe WHERE n > $1 ORDER BY n`, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0] != (pair{2, "二"}) || got[1] != (pair{3, "三"}) {
			t.Fatalf("rows = %v, want [{2 二} {3 三}]", got)
		}
		words, err := store.All(ctx, tx, store.Value[string], `SELECT word FROM scan_probe WHERE n = 99`)
		if err != nil || len(words) != 0 {
			t.Fatalf("no rows: %v, %v", words, err)
		}
		if _, err := store.All(ctx, tx, store.Value[string], `SELECT no_such_column FROM scan_probe`); err == nil {
			t.Fatal("a bad query gave no error")
		}
	})
}
