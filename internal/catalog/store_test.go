package catalog_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/catalog"
	"yiwang/internal/org"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// fixture loads the bundled demo catalogue into db's directory region.
func fixture(t *testing.T, db *store.DB) *catalog.Catalogue {
	t.Helper()
	c, problems := schemas(t).LoadFS(os.DirFS("../../catalog"))
	if len(problems) > 0 {
		t.Fatalf("demo catalogue: %v", problems[0])
	}
	for _, r := range []org.Region{{Code: "910100", Level: "city", NameZh: "示范市", NameEn: "Demo City"}, {Code: "910102", ParentCode: "910100", Level: "district", NameZh: "明德区", NameEn: "Mingde"}} {
		if err := org.PutRegion(context.Background(), db, r); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func TestVersionLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := fixture(t, db)
		cs := catalog.NewStore(db)
		code := c.Items[0].Code

		res, err := cs.Import(ctx, c, "admin:test")
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Created) != len(c.Items) || res.Unchanged != 0 {
			t.Fatalf("first import: %+v", res)
		}
		if _, err := cs.Current(ctx, code); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("a draft is in service before publishing: %v", err)
		}
		if _, err := cs.Publish(ctx, code, 0, "admin:test"); err != nil {
			t.Fatal(err)
		}
		v1, err := cs.Current(ctx, code)
		if err != nil || v1.Version != 1 || v1.Item.Name.Zh != c.Items[0].Name.Zh {
			t.Fatalf("current after publish = %+v, %v", v1, err)
		}

		// Re-importing the same files changes nothing.
		res, err = cs.Import(ctx, c, "admin:test")
		if err != nil || len(res.Created)+len(res.Updated) != 0 || res.Unchanged != len(c.Items) {
			t.Fatalf("identical import: %+v, %v", res, err)
		}

		// A changed item becomes a new draft; the published version stays in service.
		c.Items[0].TimeLimit.PromisedDays = 0
		c.Items[0].Keywords = append(c.Items[0].Keywords, "新关键词")
		res, err = cs.Import(ctx, c, "admin:test")
		if err != nil || len(res.Created) != 1 || res.Created[0].Version != 2 {
			t.Fatalf("changed import: %+v, %v", res, err)
		}
		if cur, _ := cs.Current(ctx, code); cur.Version != 1 {
			t.Errorf("importing a draft changed the version in service to %d", cur.Version)
		}
		// Changing the draft again replaces the draft rather than piling up versions.
		c.Items[0].Keywords = append(c.Items[0].Keywords, "再改")
		res, _ = cs.Import(ctx, c, "admin:test")
		if len(res.Updated) != 1 || res.Updated[0].Version != 2 {
			t.Fatalf("second change to a draft: %+v", res)
		}

		a, _ := cs.Version(ctx, code, 1)
		b, _ := cs.Version(ctx, code, 2)
		changes, err := catalog.Diff(a.Item, b.Item)
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, ch := range changes {
			paths = append(paths, ch.Path)
		}
		got := strings.Join(paths, " ")
		if !strings.Contains(got, "time_limit.promised_days") || !strings.Contains(got, "keywords[") {
			t.Errorf("diff paths = %s", got)
		}

		if _, err := cs.Publish(ctx, code, 2, "admin:test"); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Publish(ctx, code, 2, "admin:test"); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("publishing a published version: %v", err)
		}
		// An application pinned to v1 still reads v1's terms, now superseded.
		pinned, err := cs.VersionByID(ctx, v1.ID)
		if err != nil || pinned.Item.TimeLimit.PromisedDays != v1.Item.TimeLimit.PromisedDays {
			t.Errorf("pinned v1 = %+v, %v", pinned.Item.TimeLimit, err)
		}
		if old, err := cs.Version(ctx, code, 1); err != nil || old.Status != catalog.StatusSuperseded {
			t.Errorf("v1 after v2's publication = %s, %v", old.Status, err)
		}
		// Published content cannot be changed, even by SQL.
		if _, err := db.ExecContext(ctx, `UPDATE catalog_versions SET content_json = '{}' WHERE id = $1`, v1.ID); err == nil || !strings.Contains(err.Error(), "immutable") {
			t.Errorf("changing a published version's content: %v", err)
		}
		if _, err := db.ExecContext(ctx, `DELETE FROM catalog_versions WHERE id = $1`, v1.ID); err == nil {
			t.Error("deleting a published version succeeded")
		}

		// Retiring hides the item from new applications but keeps its versions.
		if err := cs.Retire(ctx, code, "admin:test"); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Current(ctx, code); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("retired item still in service: %v", err)
		}
		if err := cs.Retire(ctx, code, "admin:test"); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("retiring twice: %v", err)
		}
		if _, err := cs.VersionByID(ctx, v1.ID); err != nil {
			t.Errorf("retired item's old version unreadable: %v", err)
		}
		versions, err := cs.Versions(ctx, code)
		if err != nil || len(versions) != 2 || versions[0].Status != catalog.StatusRetired {
			t.Errorf("versions = %+v, %v", versions, err)
		}
	})
}

func TestImportIsAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := fixture(t, db)
		c.Departments[len(c.Departments)-1].Region = "999999" // not in the directory
		_, err := catalog.NewStore(db).Import(ctx, c, "admin:test")
		if !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), "999999") {
			t.Fatalf("import with an unknown region: %v", err)
		}
		var n int
		db.QueryRowContext(ctx, `SELECT count(*) FROM departments`).Scan(&n)
		if n != 0 {
			t.Errorf("%d departments were written by a failed import", n)
		}
	})
}

// TestImportPutsHalls checks that the halls departments.yaml declares,
// for manual routes to name, are in the directory after an import, and
// that a later import leaves the windows an administrator added.
func TestImportPutsHalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := fixture(t, db)
		cs := catalog.NewStore(db)
		if _, err := cs.Import(ctx, c, "admin:test"); err != nil {
			t.Fatal(err)
		}
		dir := org.NewStore(db.DB)
		if err := dir.PutWindow(ctx, "fuan-street", org.Window{Number: "3", NameZh: "民政窗口"}); err != nil {
			t.Fatal(err)
		}
		res, err := cs.Import(ctx, c, "admin:test")
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Warnings) != 0 {
			t.Errorf("the demo catalogue imports with warnings: %v", res.Warnings)
		}
		halls, err := dir.Halls(ctx)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(halls, func(h org.Hall) bool { return h.Code == "fuan-street" })
		if i < 0 {
			t.Fatalf("halls = %+v, want fuan-street", halls)
		}
		if h := halls[i]; h.RegionCode != "910102001" || h.NameZh != "福安街道党群服务中心" || len(h.Windows) != 1 {
			t.Errorf("fuan-street = %+v, want in Fu'an street with its window kept", h)
		}
	})
}
