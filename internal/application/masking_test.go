package application_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestStaffSeeMaskedDataUnlessTheyStateAPurpose: a reviewer's view of an
// application (form, provenance, timeline) has the applicant's ID number,
// phone, address and name masked; a full view needs a stated purpose, is logged
// with it, and is refused without one, to staff of another department and
// to staff without the permission, leaving no log entry.
func TestStaffSeeMaskedDataUnlessTheyStateAPurpose(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, parallelSteps)
		st := makeStaff(t, f.ids)
		if err := f.apps.Decisions.SetMachineSuspended(ctx, st.head, seniorCard, true, "test"); err != nil {
			t.Fatal(err)
		}
		a := submitManual(t, f)
		const phone, street = "13900000001", "幸福路1号"
		full := []string{f.idNum, phone, street, "赵老汉"}
		shown := func(v application.StaffView) string {
			raw, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			return string(raw)
		}
		log := pii.NewAccessLog(db.DB)
		logged := func() []pii.Access {
			entries, err := log.List(ctx, pii.Filter{SubjectPerson: f.p.PersonID})
			if err != nil {
				t.Fatal(err)
			}
			return entries
		}

		v, err := f.apps.Tasks.StaffApplication(ctx, st.civil, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		raw := shown(v)
		for _, s := range full {
			if strings.Contains(raw, s) {
				t.Errorf("the reviewer's view shows %s in full:\n%s", s, raw)
			}
		}
		if !v.Masked || !strings.Contains(raw, pii.MaskIDNumber(f.idNum)) || !strings.Contains(raw, pii.MaskPhone(phone)) || v.Form["name"] != pii.MaskName("赵老汉") {
			t.Errorf("the reviewer's view lacks the masked values:\n%s", raw)
		}

		// Refused: no purpose, too short a purpose, another department's
		// reviewer, a supervisor (no permission to see data in full).
		other := newStaff(t, f.ids, "psb.reviewer", "psb", authz.Reviewer)
		supervisor := newStaff(t, f.ids, "watcher", "civil", authz.Supervisor)
		for _, tt := range []struct {
			who     authz.Principal
			purpose string
			code    apperr.Code
		}{
			{st.civil, "", apperr.PurposeRequired},
			{st.civil, " 查看 ", apperr.PurposeRequired},
			{other, "核对身份证件原件", apperr.ApplicationNotFound},
			{supervisor, "核对身份证件原件", ""},
		} {
			v, err := f.apps.Tasks.RevealApplication(ctx, tt.who, a.ID, tt.purpose, "req-refused")
			if err == nil || (tt.code != "" && apperr.As(err).Code != tt.code) || (tt.code == "" && !apperr.Is(err, apperr.Forbidden)) {
				t.Errorf("%s revealing with purpose %q: %v, want %s", tt.who.Name, tt.purpose, err, tt.code)
			}
			if raw := shown(v); strings.Contains(raw, f.idNum) {
				t.Errorf("a refused view shows the ID number: %s", raw)
			}
		}
		if e := logged(); len(e) != 0 {
			t.Errorf("refused views were logged: %+v", e)
		}

		v, err = f.apps.Tasks.RevealApplication(ctx, st.civil, a.ID, "核对身份证件原件", "req-42")
		if err != nil {
			t.Fatal(err)
		}
		raw = shown(v)
		for _, s := range full {
			if !strings.Contains(raw, s) {
				t.Errorf("the full view lacks %s:\n%s", s, raw)
			}
		}
		if v.Masked || v.Purpose != "核对身份证件原件" {
			t.Errorf("full view: masked %v, purpose %q", v.Masked, v.Purpose)
		}
		e := logged()
		if len(e) != 1 || e[0].StaffAccount != st.civil.AccountID || e[0].Purpose != "核对身份证件原件" || e[0].RequestID != "req-42" ||
			!slices.Contains(e[0].Fields, "form.id_number") || !slices.Contains(e[0].Fields, "form.phone") {
			t.Errorf("access log after a full view = %+v", e)
		}

		// The applicant's own view stays whole.
		mine, err := f.apps.Drafts.Get(ctx, f.p, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if mine.Form["id_number"] != f.idNum || mine.Form["phone"] != phone {
			t.Errorf("the applicant's own form = %v", mine.Form)
		}
	})
}

// TestFullViewIsLoggedForEachCoParty: a full view shows the co-parties'
// names too, so each co-party finds it in their own access log, not only
// the applicant.
func TestFullViewIsLoggedForEachCoParty(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, seniorCardAs(func(it *catalog.Item) {
			it.Parties = []catalog.Party{{Role: "elder", Label: catalog.Text{Zh: "老年人", En: "Senior"}}, {Role: "spouse", Label: catalog.Text{Zh: "配偶", En: "Spouse"}}}
		}))
		st := makeStaff(t, f.ids)
		if err := f.apps.Decisions.SetMachineSuspended(ctx, st.head, seniorCard, true, "test"); err != nil {
			t.Fatal(err)
		}
		spouse, spouseID := person(t, f, "19620505", "246", "钱老太")
		a := draft(t, f)
		a, err := f.apps.Modes.NameParties(ctx, f.p, a.ID, 0, "elder", []application.PartyRequest{{Role: "spouse", IDNumber: spouseID, Name: "钱老太"}})
		if err == nil {
			a, err = f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, "")
		}
		if err == nil {
			_, err = f.apps.Modes.AnswerInvitation(ctx, spouse, a.ID, true, "")
		}
		if err != nil {
			t.Fatal(err)
		}
		v, err := f.apps.Tasks.RevealApplication(ctx, st.civil, a.ID, "核对共同申请人", "req-parties")
		if err != nil {
			t.Fatal(err)
		}
		if v.Modes == nil || !slices.ContainsFunc(v.Modes.Parties, func(p application.Party) bool { return p.Name == "钱老太" }) {
			t.Fatalf("the full view does not show the spouse's name: %+v", v.Modes)
		}
		log := pii.NewAccessLog(db.DB)
		for _, who := range []struct {
			what   string
			person int64
		}{{"the applicant", f.p.PersonID}, {"the spouse", spouse.PersonID}} {
			entries, err := log.List(ctx, pii.Filter{SubjectPerson: who.person})
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Purpose != "核对共同申请人" || entries[0].RequestID != "req-parties" {
				t.Errorf("%s's access log after a full view: %+v, want one entry with its purpose", who.what, entries)
			}
		}
	})
}
