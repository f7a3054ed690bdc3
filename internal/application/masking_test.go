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
