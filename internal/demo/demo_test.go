package demo_test

import (
	"context"
	"testing"

	"yiwang/internal/demo"
	"yiwang/internal/org"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

func TestSeedFillsAnEmptyDatabaseOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seeded, err := demo.Seed(ctx, db)
		if err != nil || !seeded {
			t.Fatalf("first Seed = %v, %v; want true", seeded, err)
		}
		deps, err := org.NewStore(db.DB).Departments(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(deps) < 8 {
			t.Errorf("demo has %d departments, want at least 8", len(deps))
		}
		seeded, err = demo.Seed(ctx, db)
		if err != nil || seeded {
			t.Errorf("second Seed = %v, %v; want false", seeded, err)
		}
	})
}

func TestSeedLeavesARealDirectoryAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := org.PutRegion(ctx, db, org.Region{Code: "440304", Level: "district", NameZh: "福田区", NameEn: "Futian"}); err != nil {
			t.Fatal(err)
		}
		if err := org.PutDepartment(ctx, db, org.Department{Code: "own", RegionCode: "440304", NameZh: "本地部门", NameEn: "Local"}); err != nil {
			t.Fatal(err)
		}
		if seeded, err := demo.Seed(ctx, db); err != nil || seeded {
			t.Errorf("Seed on a database with its own departments = %v, %v; want false", seeded, err)
		}
	})
}
