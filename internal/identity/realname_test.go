package identity_test

import (
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/hub"
	"yiwang/internal/identity"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// Self-registration is checked against the population source: the same
// name earns level 2, no record level 1, another name is refused.
func TestRegistrationIsCheckedWithThePopulationSource(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		b := f.registry(t, nil)
		known, unknown, other := idNumber(t, "19800101", "011"), idNumber(t, "19800101", "021"), idNumber(t, "19800101", "031")
		for id, name := range map[string]string{known: "张三", other: "李四"} {
			if err := b.Put(f.ctx, db, "population", hub.Subject{Kind: hub.Person, Key: id}, hub.Record{"name": name, "id_number": id}); err != nil {
				t.Fatal(err)
			}
		}
		a, err := f.ids.RegisterPerson(f.ctx, known, "张三", "", password)
		if err != nil || a.RealNameLevel != 2 {
			t.Errorf("registering under the registry's name: level %d, %v", a.RealNameLevel, err)
		}
		a, err = f.ids.RegisterPerson(f.ctx, unknown, "王五", "", password)
		if err != nil || a.RealNameLevel != 1 {
			t.Errorf("registering an ID number the registry does not hold: level %d, %v", a.RealNameLevel, err)
		}
		_, err = f.ids.RegisterPerson(f.ctx, other, "王五", "", password)
		wantErr(t, "registering under another name than the registry's", err, apperr.Invalid, "name_mismatch")
		if n := f.count(t, "persons", ""); n != 2 {
			t.Errorf("%d persons recorded, want 2: the refused one is not", n)
		}
		// Each check is in the person's read log, the refused one too.
		if n := f.count(t, "data_reads", "source = 'population'"); n != 3 {
			t.Errorf("%d population reads logged, want 3", n)
		}
	})
}

func TestRegistrationWhileThePopulationSourceIsDown(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.registry(t, func(c hub.Connector) hub.Connector { return sourceDown{c, "population"} })
		a, err := f.ids.RegisterPerson(f.ctx, idNumber(t, "19800101", "011"), "张三", "", password)
		if err != nil || a.RealNameLevel != 1 {
			t.Errorf("registering with the population source down: level %d, %v", a.RealNameLevel, err)
		}
		if n := f.count(t, "data_reads", "source = 'population' AND outcome = 'unavailable'"); n != 1 {
			t.Errorf("%d unavailable reads logged, want 1", n)
		}
	})
}

// A clerk at a hall window checks a person's identity card: their account
// rises to level 3, on the audit trail; nobody else can do it.
func TestWindowClerkRaisesTheRealNameLevel(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		told := &toldHolders{}
		f.ids.SetNotifier(told)
		id := idNumber(t, "19800101", "011")
		person := f.person(t, id, "张三")
		token, _ := f.session(t, person.ID)
		neighbour := f.person(t, idNumber(t, "19800101", "021"), "李四")
		if _, err := db.ExecContext(f.ctx, `INSERT INTO halls (code, region_code, name_zh, name_en) VALUES ('mingde-hall', $1, '明德大厅', 'Mingde hall')`, testRegion); err != nil {
			t.Fatal(err)
		}
		var hall int64
		if err := db.QueryRowContext(f.ctx, `SELECT id FROM halls WHERE code = 'mingde-hall'`).Scan(&hall); err != nil {
			t.Fatal(err)
		}
		clerkAt := func(username string, hall int64) authz.Principal {
			a, err := f.ids.CreateStaff(f.ctx, identity.NewStaff{Username: username, DisplayName: "窗口", Password: password, Department: testDept, Region: testRegion, HallID: hall, Roles: []authz.Role{authz.Clerk}}, 0)
			if err != nil {
				t.Fatal(err)
			}
			p, err := f.ids.StaffPrincipal(f.ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		clerk, backOffice := clerkAt("clerk.window", hall), clerkAt("clerk.nohall", 0)
		reviewer := f.staff(t, "reviewer", authz.Reviewer)
		_, reviewerP := f.session(t, reviewer.ID)

		for _, c := range []struct {
			what string
			p    authz.Principal
			id   string
			name string
			kind apperr.Kind
		}{
			{"a person checking themselves", f.principal(t, token), id, "张三", apperr.Forbidden},
			{"a reviewer", reviewerP, id, "张三", apperr.Forbidden},
			{"a clerk posted to no hall", backOffice, id, "张三", apperr.Forbidden},
			{"a name not on record", clerk, id, "张四", apperr.Invalid},
			{"an ID number without an account", clerk, idNumber(t, "19800101", "031"), "王五", apperr.NotFound},
		} {
			if _, err := f.ids.VerifyInPerson(f.ctx, c.p, c.id, c.name); !apperr.Is(err, c.kind) {
				t.Errorf("%s: %v, want %v", c.what, err, c.kind)
			}
		}
		if p := f.principal(t, token); p.RealNameLevel != 1 {
			t.Fatalf("refused checks raised the level to %d", p.RealNameLevel)
		}

		a, err := f.ids.VerifyInPerson(f.ctx, clerk, id, "张三")
		if err != nil || a.ID != person.ID || a.RealNameLevel != 3 {
			t.Fatalf("the clerk's check: %+v, %v", a, err)
		}
		if p := f.principal(t, token); p.RealNameLevel != 3 || authz.RequireRealName(p, 3) != nil {
			t.Errorf("the person's session after the check: level %d", p.RealNameLevel)
		}
		if n, _ := f.ids.Account(f.ctx, neighbour.ID); n.RealNameLevel != 1 {
			t.Errorf("another person's level moved to %d", n.RealNameLevel)
		}
		if n := f.count(t, "audit_entries", "action = 'identity.real_name_verify'"); n != 1 {
			t.Errorf("%d audit entries for the check, want 1", n)
		}
		if len(told.to) != 1 || told.to[0].AccountID != person.ID {
			t.Errorf("the holder was told %+v", told.to)
		}
		// Again: nothing more to record.
		if _, err := f.ids.VerifyInPerson(f.ctx, clerk, id, "张三"); err != nil {
			t.Fatal(err)
		}
		if n := f.count(t, "audit_entries", "action = 'identity.real_name_verify'"); n != 1 {
			t.Errorf("%d audit entries after checking twice, want 1", n)
		}
	})
}
