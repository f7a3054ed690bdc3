package demo_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"yiwang/internal/demo"
	"yiwang/internal/org"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

func TestSeedFillsAnEmptyDatabaseOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fills := 0
		opts := demo.Options{OnPostgres: true, Fill: func(context.Context) error { fills++; return nil }}
		if got, err := demo.Seed(ctx, db, opts); err != nil || got != demo.Seeded {
			t.Fatalf("first Seed = %v, %v; want Seeded", got, err)
		}
		deps, err := org.NewStore(db.DB).Departments(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(deps) < 8 {
			t.Errorf("demo has %d departments, want at least 8", len(deps))
		}
		if got, err := demo.Seed(ctx, db, opts); err != nil || got != demo.Present {
			t.Errorf("second Seed = %v, %v; want Present", got, err)
		}
		if fills != 1 {
			t.Errorf("Fill ran %d times, want once", fills)
		}
	})
}

// Without --demo only the embedded SQLite database gets demo data: an empty
// PostgreSQL database is most likely a production one not yet filled.
func TestSeedLeavesPostgresAloneWithoutDemoFlag(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		got, err := demo.Seed(context.Background(), db, demo.Options{})
		want := demo.Seeded
		if db.Backend == store.Postgres {
			want = demo.Skipped
		}
		if err != nil || got != want {
			t.Errorf("Seed without --demo = %v, %v; want %v", got, err, want)
		}
	})
}

func TestSeedLeavesADatabaseWithItsOwnDataAlone(t *testing.T) {
	own := map[string]func(ctx context.Context, db *store.DB) error{
		"a department": func(ctx context.Context, db *store.DB) error {
			if err := org.PutRegion(ctx, db, org.Region{Code: "440304", Level: "district", NameZh: "福田区", NameEn: "Futian"}); err != nil {
				return err
			}
			return org.PutDepartment(ctx, db, org.Department{Code: "own", RegionCode: "440304", NameZh: "本地部门", NameEn: "Local"})
		},
		"a system account": func(ctx context.Context, db *store.DB) error {
			_, err := db.ExecContext(ctx, `INSERT INTO accounts (kind, username, display_name, created_at, updated_at) VALUES ('system', 'own.system', '本地系统', $1, $1)`, time.Now().UTC())
			return err
		},
	}
	for name, put := range own {
		t.Run(name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				if err := put(ctx, db); err != nil {
					t.Fatal(err)
				}
				filled := false
				got, err := demo.Seed(ctx, db, demo.Options{OnPostgres: true, Fill: func(context.Context) error { filled = true; return nil }})
				if err != nil || got != demo.Declined || filled {
					t.Errorf("Seed on a database with %s = %v, %v (accounts made: %v); want Declined, none", name, got, err, filled)
				}
				var n int
				if err := db.QueryRowContext(ctx, `SELECT count(*) FROM catalog_versions`).Scan(&n); err != nil || n != 0 {
					t.Errorf("demo catalogue versions = %d, %v; want none", n, err)
				}
			})
		})
	}
}

// Two processes starting at once on an empty database: one seeds, the other
// waits for it, and neither fails.
func TestConcurrentSeedersSeedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var fills atomic.Int32
		opts := demo.Options{OnPostgres: true, Lease: 3 * time.Second, Fill: func(context.Context) error {
			fills.Add(1)
			time.Sleep(200 * time.Millisecond) // long enough for the other to find the claim
			return nil
		}}
		var wg sync.WaitGroup
		got := make([]demo.Outcome, 2)
		errs := make([]error, 2)
		for i := range got {
			wg.Go(func() { got[i], errs[i] = demo.Seed(ctx, db, opts) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if fills.Load() != 1 || got[0] == got[1] || (got[0] != demo.Seeded && got[1] != demo.Seeded) || (got[0] != demo.Present && got[1] != demo.Present) {
			t.Errorf("outcomes %v, Fill ran %d times; want one Seeded, one Present, one fill", got, fills.Load())
		}
	})
}

// A seeder that died leaves its claim behind; once the claim's lease runs out
// the next start seeds the database after all.
func TestSeedTakesOverFromADeadSeeder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		crash := errors.New("crash")
		lease := 300 * time.Millisecond
		if _, err := demo.Seed(ctx, db, demo.Options{OnPostgres: true, Lease: lease, Fill: func(context.Context) error { return crash }}); !errors.Is(err, crash) {
			t.Fatalf("seed that fails = %v; want the failure", err)
		}
		// A failed seed's claim stays until its lease ends, as a dead process's would.
		got, err := demo.Seed(ctx, db, demo.Options{OnPostgres: true, Lease: lease})
		if err != nil || got != demo.Seeded {
			t.Errorf("seed after the dead one = %v, %v; want Seeded", got, err)
		}
	})
}
