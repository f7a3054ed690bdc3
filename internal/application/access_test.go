package application_test

import (
	"context"
	"strings"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// deferrablePhoto is the senior card decided by people, with a photo that
// may be supplied later (容缺).
func deferrablePhoto(c *catalog.Catalogue) {
	withPhoto(c)
	seniorCardAs(func(it *catalog.Item) {
		it.Approval.Mode = "manual"
		for i := range it.Materials {
			if it.Materials[i].ID == "photo" {
				it.Materials[i].Deferrable = true
			}
		}
	})(c)
}

// walkInAt is the fixture's person taken in by clerk at their hall's window.
func walkInAt(t *testing.T, f fixture, clerk authz.Principal) application.Application {
	t.Helper()
	a, err := f.apps.Drafts.Intake(context.Background(), clerk, application.IntakeRequest{IDNumber: f.idNum, Name: "赵老汉", ItemCode: seniorCard, IdentityChecked: true, Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestClerksSeeTheirHallAndTheWindowNotCitizensDrafts: a window clerk sees
// what was taken in at their hall and what went to the window's acceptance,
// but not a citizen's own draft, nor another hall's walk-in.
func TestClerksSeeTheirHallAndTheWindowNotCitizensDrafts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, seniorCardAs(func(it *catalog.Item) { it.Approval.Mode, it.Steps = "manual", nil }))
		clerk := clerkAt(t, f, db, "clerk.near", "mingde-hall", "910102")
		colleague := clerkAt(t, f, db, "clerk.colleague", "mingde-hall", "910102")
		other := clerkAt(t, f, db, "clerk.other", "other-hall", "910102")

		supervisor := newStaff(t, f.ids, "watcher", "gsdb", authz.Supervisor)

		own := draft(t, f)
		submitted := submitManual(t, f)
		walkIn := walkInAt(t, f, clerk)
		for _, c := range []struct {
			what  string
			clerk authz.Principal
			id    int64
			sees  bool
		}{
			{"a clerk, the citizen's own draft", clerk, own.ID, false},
			{"another hall's clerk, the citizen's own draft", other, own.ID, false},
			{"a clerk, an online application at the window's acceptance", clerk, submitted.ID, true},
			{"another hall's clerk, an online application at the window's acceptance", other, submitted.ID, true},
			{"the clerk who took the walk-in in", clerk, walkIn.ID, true},
			{"a colleague at the same hall, the walk-in's draft", colleague, walkIn.ID, true},
			{"a clerk of another hall, the walk-in's draft", other, walkIn.ID, false},
			{"a supervisor, the citizen's own draft", supervisor, own.ID, false},
			{"a supervisor, a submitted application", supervisor, submitted.ID, true},
			{"a supervisor, the walk-in's draft", supervisor, walkIn.ID, true},
		} {
			v, err := f.apps.Tasks.StaffApplication(ctx, c.clerk, c.id)
			switch {
			case c.sees && (err != nil || v.ID != c.id):
				t.Errorf("%s: %v, want it shown", c.what, err)
			case !c.sees && !apperr.Is(err, apperr.NotFound):
				t.Errorf("%s: shown (%v), want not found", c.what, err)
			}
			_, _, err = f.apps.Drafts.OpenMaterial(ctx, c.clerk, c.id, "photo")
			if !c.sees && !apperr.Is(err, apperr.NotFound) {
				t.Errorf("%s, its material: %v, want not found", c.what, err)
			}
		}
	})
}

// TestOnlyThePersonSignsTheirCommitment: a clerk cannot sign a deferral
// commitment (容缺承诺) on a citizen's own draft, nor on another hall's
// walk-in, and the refusal changes nothing; at their own hall's window the
// clerk records the walk-in's signature, and it says so.
func TestOnlyThePersonSignsTheirCommitment(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, deferrablePhoto)
		clerk := clerkAt(t, f, db, "clerk.near", "mingde-hall", "910102")
		other := clerkAt(t, f, db, "clerk.other", "other-hall", "910102")
		own := draft(t, f)
		walkIn := walkInAt(t, f, clerk)

		for _, c := range []struct {
			what  string
			clerk authz.Principal
			app   application.Application
		}{
			{"a clerk on the citizen's own draft", clerk, own},
			{"a clerk of another hall on a walk-in", other, walkIn},
		} {
			_, err := f.apps.Modes.DeferMaterial(ctx, c.clerk, c.app.ID, 0, "photo", "2099-01-01")
			if e := apperr.As(err); e == nil || e.Kind != apperr.Forbidden || e.Code != apperr.OnlyPersonSigns {
				t.Errorf("%s signing a deferral: %v, want %s", c.what, err, apperr.OnlyPersonSigns)
			}
			after, err := f.apps.Drafts.Get(ctx, f.p, c.app.ID)
			if err != nil {
				t.Fatal(err)
			}
			if after.Revision != c.app.Revision || (after.Modes != nil && len(after.Modes.Deferrals) > 0) {
				t.Errorf("%s: the refusal changed the application: revision %d → %d, %+v", c.what, c.app.Revision, after.Revision, after.Modes)
			}
		}

		// The person signs their own: no clerk named.
		a, err := f.apps.Modes.DeferMaterial(ctx, f.p, own.ID, 0, "photo", "2099-01-01")
		if err != nil {
			t.Fatal(err)
		}
		if d := a.Modes.Deferrals; len(d) != 1 || d[0].RecordedBy != "" {
			t.Errorf("the person's own deferral: %+v", d)
		}

		// At the window: the clerk records the walk-in's signature, marked so.
		a, err = f.apps.Modes.DeferMaterial(ctx, clerk, walkIn.ID, 0, "photo", "2099-01-01")
		if err != nil {
			t.Fatal(err)
		}
		if d := a.Modes.Deferrals; len(d) != 1 || d[0].RecordedBy != "clerk.near" {
			t.Errorf("the deferral signed at the window: %+v, want it recorded by clerk.near", d)
		}
		mine, err := f.apps.Drafts.Get(ctx, f.p, walkIn.ID)
		if err != nil {
			t.Fatal(err)
		}
		last := mine.Timeline[len(mine.Timeline)-1]
		if last.Action != "material_deferred" || last.ActorKind != "staff" || last.ActorName != "clerk.near" || !strings.Contains(last.Note, "窗口签字") {
			t.Errorf("the timeline does not say the signature was recorded at the window: %+v", last)
		}
	})
}
