package identity_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/identity"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

func TestPutEnterpriseRefusesBadCreditCodes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		good := creditCode(t, "91910102MA5D3M1Q0")
		other := "0123456789ABCDEFGHJKLMNPQRTUWXY"
		wrong := good[:17] + string(other[(strings.IndexByte(other, good[17])+1)%len(other)])
		tests := []struct{ name, code string }{
			{"empty", ""},
			{"17 characters", good[:17]},
			{"19 characters", good + "1"},
			{"wrong check character", wrong},
			{"letter in the region part", good[:4] + "A" + good[5:]},
			{"a letter credit codes never use", good[:10] + "I" + good[11:]},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.ids.PutEnterprise(f.ctx, db, tt.code, "某某有限公司", 0)
				wantErr(t, "PutEnterprise", err, apperr.Invalid, "bad_credit_code")
			})
		}
		if n := f.count(t, "enterprises", ""); n != 0 {
			t.Errorf("%d enterprises stored after only refused codes", n)
		}

		for _, name := range []string{"", "\u200b\u200c\u200d", "\u202e\u2066\ufeff", "示范\u202e公司", strings.Repeat("公", 101)} {
			_, err := f.ids.PutEnterprise(f.ctx, db, good, name, 0)
			wantErr(t, fmt.Sprintf("PutEnterprise named %q", name), err, apperr.Invalid, "bad_enterprise_name")
		}
		if n := f.count(t, "enterprises", ""); n != 0 {
			t.Errorf("%d enterprises stored after only refused names", n)
		}

		// A valid code typed in lower case with spaces is the same enterprise.
		id, err := f.ids.PutEnterprise(f.ctx, db, " "+strings.ToLower(good)+" ", "示范科技有限公司", 0)
		if err != nil {
			t.Fatal(err)
		}
		again, err := f.ids.PutEnterprise(f.ctx, db, good, "示范科技股份有限公司", 0)
		if err != nil || again != id {
			t.Errorf("PutEnterprise again = %d, %v; want the same id %d", again, err, id)
		}
		e, err := f.ids.EnterpriseByCode(f.ctx, strings.ToLower(good))
		if err != nil || e.ID != id || e.CreditCode != good || e.Name != "示范科技股份有限公司" || e.Status != "active" {
			t.Errorf("EnterpriseByCode = %+v, %v", e, err)
		}
		_, err = f.ids.EnterpriseByCode(f.ctx, creditCode(t, "91910102MA5D3M1Q1"))
		wantErr(t, "EnterpriseByCode of an unknown code", err, apperr.NotFound, "enterprise_not_found")
	})
}

// company is an enterprise with its legal representative and a stranger,
// each signed in with a session.
type company struct {
	code                           string
	id                             int64
	rep, agent, stranger           identity.Account
	repToken, agentToken, strToken string
	agentID                        string // the agent's ID number
}

func newCompany(t *testing.T, f *fixture, first17, seqPrefix string) company {
	t.Helper()
	c := company{code: creditCode(t, first17)}
	repID := idNumber(t, "19600315", "0"+seqPrefix+"1")
	c.agentID = idNumber(t, "19920708", "0"+seqPrefix+"2")
	c.rep = f.person(t, repID, "法人"+seqPrefix)
	c.agent = f.person(t, c.agentID, "代理人"+seqPrefix)
	c.stranger = f.person(t, idNumber(t, "19880101", "0"+seqPrefix+"3"), "路人"+seqPrefix)
	var err error
	if c.id, err = f.ids.PutEnterprise(f.ctx, f.db, c.code, "公司"+seqPrefix, c.rep.PersonID); err != nil {
		t.Fatal(err)
	}
	c.repToken, _ = f.session(t, c.rep.ID)
	c.agentToken, _ = f.session(t, c.agent.ID)
	c.strToken, _ = f.session(t, c.stranger.ID)
	return c
}

// actAsRep switches the representative's session to the company and returns
// the principal that now acts for it.
func (c company) actAsRep(t *testing.T, f *fixture) authz.Principal {
	t.Helper()
	ent, err := f.ids.ActFor(f.ctx, f.principal(t, c.repToken), c.repToken, c.code)
	if err != nil {
		t.Fatalf("the legal representative's ActFor: %v", err)
	}
	if ent.Via != "legal_representative" {
		t.Fatalf("legal representative acts via %q", ent.Via)
	}
	return f.principal(t, c.repToken)
}

func TestActForAsLegalRepresentative(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := newCompany(t, f, "91910102MA5D3M1Q0", "1")
		ent, err := f.ids.ActFor(f.ctx, f.principal(t, c.repToken), c.repToken, strings.ToLower(c.code))
		if err != nil {
			t.Fatal(err)
		}
		if ent.ID != c.id || ent.CreditCode != c.code || ent.Name != "公司1" || ent.Via != "legal_representative" || ent.Scope != nil {
			t.Errorf("ActFor = %+v", ent)
		}
		// The session remembers it.
		p := f.principal(t, c.repToken)
		if p.ActingFor == nil || p.ActingFor.ID != c.id || p.ActingFor.CreditCode != c.code || p.ActingFor.Via != "legal_representative" {
			t.Errorf("session acting for %+v, want %+v", p.ActingFor, ent)
		}
		if !p.SeesEnterprise(c.id) {
			t.Error("the representative does not see the enterprise's records")
		}
		// …only that session: another of the same person's sessions acts for themself.
		other, _ := f.session(t, c.rep.ID)
		if p := f.principal(t, other); p.ActingFor != nil {
			t.Errorf("another session acts for %+v", p.ActingFor)
		}
		// An empty code goes back to acting for oneself.
		if ent, err := f.ids.ActFor(f.ctx, p, c.repToken, ""); err != nil || ent != nil {
			t.Fatalf("ActFor(\"\") = %+v, %v", ent, err)
		}
		if p := f.principal(t, c.repToken); p.ActingFor != nil || p.SeesEnterprise(c.id) {
			t.Errorf("after ActFor(\"\") the session still acts for %+v", p.ActingFor)
		}
	})
}

func TestActForRefusals(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := newCompany(t, f, "91910102MA5D3M1Q0", "1")
		clerk := f.staff(t, "clerk", authz.Clerk)
		clerkToken, clerkP := f.session(t, clerk.ID)
		system, err := f.ids.CreateSystem(f.ctx, "partner-system", []authz.Role{authz.Applicant}, 0)
		if err != nil {
			t.Fatal(err)
		}
		secret, _, err := f.ids.IssueToken(f.ctx, system.ID, "apply", []authz.Permission{authz.ActForOwn}, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		tokenP, err := f.ids.TokenPrincipal(f.ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		// A person's principal arriving by token may not act for anyone either.
		repByToken := f.principal(t, c.repToken)
		repByToken.Via = "token"

		tests := []struct {
			name  string
			p     authz.Principal
			token string
			code  string
			kind  apperr.Kind
			want  string
		}{
			{"stranger", f.principal(t, c.strToken), c.strToken, c.code, apperr.Forbidden, "not_authorised"},
			{"agent without an authorisation yet", f.principal(t, c.agentToken), c.agentToken, c.code, apperr.Forbidden, "not_authorised"},
			{"unknown enterprise", f.principal(t, c.repToken), c.repToken, creditCode(t, "91910102MA5D3M1Q1"), apperr.NotFound, "enterprise_not_found"},
			{"staff", clerkP, clerkToken, c.code, apperr.Forbidden, "persons_only"},
			{"system token", tokenP, "", c.code, apperr.Forbidden, "persons_only"},
			{"representative by token", repByToken, c.repToken, c.code, apperr.Forbidden, "persons_only"},
			{"anonymous", authz.Anonymous, "", c.code, apperr.Forbidden, "persons_only"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ent, err := f.ids.ActFor(f.ctx, tt.p, tt.token, tt.code)
				wantErr(t, "ActFor", err, tt.kind, tt.want)
				if ent != nil {
					t.Errorf("refused ActFor returned %+v", ent)
				}
			})
		}
		for _, tok := range []string{c.strToken, c.agentToken, clerkToken} {
			if p := f.principal(t, tok); p.ActingFor != nil {
				t.Errorf("after a refused ActFor a session acts for %+v", p.ActingFor)
			}
		}

		// A suspended enterprise cannot be acted for, even by its representative.
		if _, err := db.ExecContext(f.ctx, `UPDATE enterprises SET status = 'suspended' WHERE id = $1`, c.id); err != nil {
			t.Fatal(err)
		}
		_, err = f.ids.ActFor(f.ctx, f.principal(t, c.repToken), c.repToken, c.code)
		wantErr(t, "ActFor a suspended enterprise", err, apperr.Forbidden, "enterprise_not_active")
	})
}

func TestAuthorisationLetsTheAgentActWithinScope(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := newCompany(t, f, "91910102MA5D3M1Q0", "1")
		rep := c.actAsRep(t, f)

		expires := f.clock.Now().AddDate(0, 6, 0)
		a, err := f.ids.Authorise(f.ctx, rep, identity.NewAuthorisation{AgentIDNumber: strings.ToLower(c.agentID), AgentName: "代理人1",
			Scope: []string{"civil.marriage", "tax.invoice"}, ExpiresAt: expires})
		if err != nil {
			t.Fatal(err)
		}
		wantMasked := c.agentID[:4] + strings.Repeat("*", 10) + c.agentID[14:]
		if a.ID == 0 || a.Enterprise != c.code || a.AgentName != "代理人1" || a.AgentMasked != wantMasked ||
			!slices.Equal(a.Scope, []string{"civil.marriage", "tax.invoice"}) || !a.ExpiresAt.Equal(expires) || a.RevokedAt != nil {
			t.Errorf("Authorise = %+v", a)
		}

		ent, err := f.ids.ActFor(f.ctx, f.principal(t, c.agentToken), c.agentToken, c.code)
		if err != nil {
			t.Fatalf("the authorised agent's ActFor: %v", err)
		}
		if ent.ID != c.id || ent.Via != "authorisation" || !slices.Equal(ent.Scope, []string{"civil.marriage", "tax.invoice"}) {
			t.Errorf("agent acts for %+v; want via authorisation, scope civil.marriage and tax.invoice", ent)
		}
		p := f.principal(t, c.agentToken)
		if p.ActingFor == nil || p.ActingFor.Via != "authorisation" || !slices.Equal(p.ActingFor.Scope, ent.Scope) {
			t.Errorf("agent's session acts for %+v", p.ActingFor)
		}
		// The authorisation is the agent's alone.
		_, err = f.ids.ActFor(f.ctx, f.principal(t, c.strToken), c.strToken, c.code)
		wantErr(t, "stranger's ActFor", err, apperr.Forbidden, "not_authorised")

		// The list shows it, masked.
		list, err := f.ids.Authorisations(f.ctx, rep)
		if err != nil || len(list) != 1 || list[0].ID != a.ID {
			t.Fatalf("Authorisations = %+v, %v", list, err)
		}
		for _, got := range list {
			if strings.Contains(got.AgentMasked, c.agentID[6:14]) {
				t.Errorf("the list shows the agent's birth date: %q", got.AgentMasked)
			}
		}
	})
}

func TestAuthorisationForEverything(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := newCompany(t, f, "91910102MA5D3M1Q0", "1")
		rep := c.actAsRep(t, f)
		for _, scope := range [][]string{nil, {"*"}, {"civil.marriage", "*"}} {
			a, err := f.ids.Authorise(f.ctx, rep, identity.NewAuthorisation{AgentIDNumber: c.agentID, AgentName: "代理人1",
				Scope: scope, ExpiresAt: f.clock.Now().Add(24 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Scope, []string{"*"}) {
				t.Errorf("scope %v stored as %v, want [*]", scope, a.Scope)
			}
		}
		ent, err := f.ids.ActFor(f.ctx, f.principal(t, c.agentToken), c.agentToken, c.code)
		if err != nil || ent.Via != "authorisation" || ent.Scope != nil {
			t.Errorf("ActFor under an authorisation for everything = %+v, %v; want no scope limit", ent, err)
		}
	})
}

func TestAuthoriseChecksItsInput(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := newCompany(t, f, "91910102MA5D3M1Q0", "1")
		rep := c.actAsRep(t, f)
		now := f.clock.Now()
		repID := idNumber(t, "19600315", "011")
		tests := []struct {
			name string
			n    identity.NewAuthorisation
			code string
		}{
			{"expired already", identity.NewAuthorisation{AgentIDNumber: c.agentID, AgentName: "代理人1", ExpiresAt: now.Add(-time.Hour)}, "bad_expiry"},
			{"no expiry", identity.NewAuthorisation{AgentIDNumber: c.agentID, AgentName: "代理人1"}, "bad_expiry"},
			{"over three years", identity.NewAuthorisation{AgentIDNumber: c.agentID, AgentName: "代理人1", ExpiresAt: now.AddDate(3, 0, 0).Add(time.Second)}, "bad_expiry"},
			{"bad agent ID number", identity.NewAuthorisation{AgentIDNumber: wrongCheck(c.agentID), AgentName: "代理人1", ExpiresAt: now.Add(time.Hour)}, "bad_id_number"},
			{"no agent name", identity.NewAuthorisation{AgentIDNumber: c.agentID, AgentName: " ", ExpiresAt: now.Add(time.Hour)}, "bad_name"},
			{"the representative themself", identity.NewAuthorisation{AgentIDNumber: repID, AgentName: "法人1", ExpiresAt: now.Add(time.Hour)}, "self_authorisation"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.ids.Authorise(f.ctx, rep, tt.n)
				wantErr(t, "Authorise", err, apperr.Invalid, tt.code)
			})
		}
		if n := f.count(t, "authorisations", ""); n != 0 {
			t.Errorf("%d authorisations stored after only refused ones", n)
		}
		// A new agent unknown to the platform becomes a person.
		newAgent := idNumber(t, "19750505", "222")
		a, err := f.ids.Authorise(f.ctx, rep, identity.NewAuthorisation{AgentIDNumber: newAgent, AgentName: "新代理人", ExpiresAt: now.AddDate(3, 0, 0)})
		if err != nil {
			t.Fatalf("authorising for exactly three years: %v", err)
		}
		if p, err := f.ids.PersonByIDNumber(f.ctx, f.ids.DB(), newAgent); err != nil || p.Name != "新代理人" || a.AgentName != "新代理人" {
			t.Errorf("new agent = %+v, %v", p, err)
		}
	})
}

func TestExpiredAndRevokedAuthorisationsStopWorking(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := newCompany(t, f, "91910102MA5D3M1Q0", "1")
		rep := c.actAsRep(t, f)

		t.Run("expired", func(t *testing.T) {
			if _, err := f.ids.Authorise(f.ctx, rep, identity.NewAuthorisation{AgentIDNumber: c.agentID, AgentName: "代理人1",
				ExpiresAt: f.clock.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.ids.ActFor(f.ctx, f.principal(t, c.agentToken), c.agentToken, c.code); err != nil {
				t.Fatalf("ActFor before expiry: %v", err)
			}
			f.clock.Advance(59 * time.Minute)
			if p := f.principal(t, c.agentToken); p.ActingFor == nil {
				t.Error("the agent's session stopped acting for the company before the authorisation expired")
			}
			f.clock.Advance(2 * time.Minute)
			// The session still lives, but no longer acts for the company.
			if p := f.principal(t, c.agentToken); p.ActingFor != nil || p.SeesEnterprise(c.id) {
				t.Errorf("after expiry the agent's session acts for %+v", p.ActingFor)
			}
			_, err := f.ids.ActFor(f.ctx, f.principal(t, c.agentToken), c.agentToken, c.code)
			wantErr(t, "ActFor after expiry", err, apperr.Forbidden, "not_authorised")
		})

		t.Run("revoked", func(t *testing.T) {
			a, err := f.ids.Authorise(f.ctx, rep, identity.NewAuthorisation{AgentIDNumber: c.agentID, AgentName: "代理人1",
				ExpiresAt: f.clock.Now().AddDate(1, 0, 0)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.ids.ActFor(f.ctx, f.principal(t, c.agentToken), c.agentToken, c.code); err != nil {
				t.Fatalf("ActFor before revocation: %v", err)
			}
			if err := f.ids.RevokeAuthorisation(f.ctx, rep, a.ID); err != nil {
				t.Fatal(err)
			}
			if p := f.principal(t, c.agentToken); p.ActingFor != nil {
				t.Errorf("after revocation the agent's session acts for %+v", p.ActingFor)
			}
			_, err = f.ids.ActFor(f.ctx, f.principal(t, c.agentToken), c.agentToken, c.code)
			wantErr(t, "ActFor after revocation", err, apperr.Forbidden, "not_authorised")
			wantErr(t, "revoking twice", f.ids.RevokeAuthorisation(f.ctx, rep, a.ID), apperr.NotFound, "authorisation_not_found")

			list, err := f.ids.Authorisations(f.ctx, rep)
			if err != nil {
				t.Fatal(err)
			}
			var found bool
			for _, got := range list {
				if got.ID == a.ID {
					found = true
					if got.RevokedAt == nil || !got.RevokedAt.Equal(f.clock.Now()) {
						t.Errorf("revoked authorisation listed with revoked_at %v, want %v", got.RevokedAt, f.clock.Now())
					}
				}
			}
			if !found {
				t.Errorf("revoked authorisation %d missing from the list %+v", a.ID, list)
			}
		})
	})
}

func TestOnlyTheLegalRepresentativeManagesAuthorisations(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := newCompany(t, f, "91910102MA5D3M1Q0", "1")
		rep := c.actAsRep(t, f)
		a, err := f.ids.Authorise(f.ctx, rep, identity.NewAuthorisation{AgentIDNumber: c.agentID, AgentName: "代理人1",
			ExpiresAt: f.clock.Now().AddDate(1, 0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.ids.ActFor(f.ctx, f.principal(t, c.agentToken), c.agentToken, c.code); err != nil {
			t.Fatal(err)
		}
		agent := f.principal(t, c.agentToken)
		repForSelf := f.principal(t, c.repToken)
		repForSelf.ActingFor = nil
		clerk := f.staff(t, "clerk", authz.Clerk)
		_, clerkP := f.session(t, clerk.ID)

		for _, tt := range []struct {
			name string
			p    authz.Principal
		}{
			{"authorised agent", agent},
			{"representative not acting for the company", repForSelf},
			{"stranger", f.principal(t, c.strToken)},
			{"staff", clerkP},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.ids.Authorise(f.ctx, tt.p, identity.NewAuthorisation{AgentIDNumber: idNumber(t, "19880101", "013"), AgentName: "路人1",
					ExpiresAt: f.clock.Now().AddDate(1, 0, 0)})
				wantErr(t, "Authorise", err, apperr.Forbidden, "legal_representative_only")
				_, err = f.ids.Authorisations(f.ctx, tt.p)
				wantErr(t, "Authorisations", err, apperr.Forbidden, "legal_representative_only")
				err = f.ids.RevokeAuthorisation(f.ctx, tt.p, a.ID)
				wantErr(t, "RevokeAuthorisation", err, apperr.Forbidden, "legal_representative_only")
			})
		}
		if _, err := f.ids.ActFor(f.ctx, f.principal(t, c.strToken), c.strToken, c.code); err == nil {
			t.Error("a refused Authorise let the stranger act for the company")
		}
		if _, err := f.ids.ActFor(f.ctx, agent, c.agentToken, c.code); err != nil {
			t.Errorf("a refused revocation ended the authorisation: %v", err)
		}
	})
}

func TestRevokingAnotherEnterprisesAuthorisationIsNotFound(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		one := newCompany(t, f, "91910102MA5D3M1Q0", "1")
		two := newCompany(t, f, "91910102MA5D3M2Q0", "2")
		repOne := one.actAsRep(t, f)
		repTwo := two.actAsRep(t, f)
		theirs, err := f.ids.Authorise(f.ctx, repTwo, identity.NewAuthorisation{AgentIDNumber: two.agentID, AgentName: "代理人2",
			ExpiresAt: f.clock.Now().AddDate(1, 0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		err = f.ids.RevokeAuthorisation(f.ctx, repOne, theirs.ID)
		wantErr(t, "revoking another enterprise's authorisation", err, apperr.NotFound, "authorisation_not_found")
		wantErr(t, "revoking an unknown authorisation", f.ids.RevokeAuthorisation(f.ctx, repOne, 9999), apperr.NotFound, "authorisation_not_found")

		// It still works, and the other enterprise's list does not show it.
		if _, err := f.ids.ActFor(f.ctx, f.principal(t, two.agentToken), two.agentToken, two.code); err != nil {
			t.Errorf("the other enterprise's authorisation stopped working: %v", err)
		}
		list, err := f.ids.Authorisations(f.ctx, repOne)
		if err != nil || len(list) != 0 {
			t.Errorf("the first enterprise lists %+v, %v; want none", list, err)
		}
		// Nor does the other enterprise's agent get to act for the first.
		_, err = f.ids.ActFor(f.ctx, f.principal(t, two.agentToken), two.agentToken, one.code)
		wantErr(t, "agent of another enterprise", err, apperr.Forbidden, "not_authorised")
	})
}
