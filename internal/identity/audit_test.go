package identity_test

import (
	"strconv"
	"strings"
	"testing"

	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/identity"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// brief is an entry as the tests compare it.
func brief(e audit.Entry) string {
	return strings.Join([]string{e.Action, e.ActorKind, e.ActorID, map[bool]string{true: "person", false: "machine"}[e.Human], e.ObjectKind, e.ObjectID, string(e.Detail)}, " ")
}

// Sign-ins, right and refused, role grants and revocations and disabled
// accounts are on the audit trail, with the account or the masked name
// typed, never a resident ID number in clear.
func TestSignInsAndRolesAreAudited(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		admin := f.staff(t, "admin", authz.SysAdmin)
		other := f.staff(t, "other", authz.Reviewer)
		id := idNumber(t, "19600315", "123")
		citizen := f.person(t, id, "张三")
		before, err := audit.Since(f.ctx, db, 0)
		if err != nil {
			t.Fatal(err)
		}
		last := int64(0)
		if len(before) > 0 {
			last = before[len(before)-1].ID
		}
		if _, err := f.ids.Login(f.ctx, "admin", password); err != nil {
			t.Fatal(err)
		}
		f.ids.Login(f.ctx, "admin", "wrong-password-1")
		f.ids.Login(f.ctx, "nobody-here", "wrong-password-1")
		unknown := idNumber(t, "19700101", "456")
		f.ids.Login(f.ctx, unknown, "wrong-password-1")
		if _, err := f.ids.Login(f.ctx, id, password); err != nil {
			t.Fatal(err)
		}
		if err := f.ids.GrantRole(f.ctx, other.ID, authz.Head, admin.ID); err != nil {
			t.Fatal(err)
		}
		third, err := f.ids.CreateStaff(f.ctx, identity.NewStaff{Username: "third", DisplayName: "职员 third", Password: password,
			Department: testDept, Region: testRegion}, admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.ids.RevokeRole(f.ctx, other.ID, authz.Head, admin.ID); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second finds it disabled already: no entry
			if err := f.ids.DisableAccount(f.ctx, other.ID, admin.ID); err != nil {
				t.Fatal(err)
			}
		}
		entries, err := audit.Since(f.ctx, db, last)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, brief(e))
			for _, s := range []string{e.ActorName, e.ObjectID, string(e.Detail)} {
				if strings.Contains(s, id) || strings.Contains(s, unknown) {
					t.Errorf("an ID number in clear in %s", brief(e))
				}
			}
		}
		itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
		aid, oid, cid := itoa(admin.ID), itoa(other.ID), itoa(citizen.ID)
		want := []string{
			"identity.sign_in account " + aid + " person account " + aid + " {}",
			`identity.sign_in_failed account ` + aid + ` person account ` + aid + ` {"reason":"bad_credentials"}`,
			`identity.sign_in_failed anonymous  person account  {"login":"nobody-here","reason":"bad_credentials"}`,
			`identity.sign_in_failed anonymous  person account  {"login":"` + pii.MaskIDNumber(unknown) + `","reason":"bad_credentials"}`,
			"identity.sign_in account " + cid + " person account " + cid + " {}",
			`identity.role_grant staff ` + aid + ` person account ` + oid + ` {"role":"head"}`,
			`identity.account_create staff ` + aid + ` person account ` + itoa(third.ID) + ` {"kind":"staff"}`,
			`identity.role_revoke staff ` + aid + ` person account ` + oid + ` {"role":"head"}`,
			`identity.account_disable staff ` + aid + ` person account ` + oid + ` {}`,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}
