package catalog_test

import (
	"context"
	"testing"

	"yiwang/internal/audit"
	"yiwang/internal/catalog"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// Publishing and retiring an item are on the audit trail, with who did it.
func TestPublishAndRetireAreAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := fixture(t, db)
		cs := catalog.NewStore(db)
		code := c.Items[0].Code
		if _, err := cs.Import(ctx, c, "staff:7"); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Publish(ctx, code, 0, "staff:7"); err != nil {
			t.Fatal(err)
		}
		if err := cs.Retire(ctx, code, "cli:root"); err != nil {
			t.Fatal(err)
		}
		entries, err := audit.Since(ctx, db, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Action+" "+e.ObjectID+" "+e.ActorKind+":"+e.ActorID+e.ActorName+" "+string(e.Detail))
		}
		want := []string{"catalog.publish " + code + ` staff:7 {"version":1}`, "catalog.retire " + code + ` cli:root {"version":1}`}
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("audit entries %q, want %q", got, want)
		}
	})
}
