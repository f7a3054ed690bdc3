package identity_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/identity"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// accepts fails the test unless ids takes the session token, and returns
// its principal.
func (f *fixture) accepts(t *testing.T, ids *identity.Store, token, what string) authz.Principal {
	t.Helper()
	p, _, err := ids.SessionPrincipal(f.ctx, token)
	if err != nil {
		t.Errorf("%s: refused: %v", what, err)
	}
	return p
}

// refuses fails the test unless ids refuses the session token.
func (f *fixture) refuses(t *testing.T, ids *identity.Store, token, what string) {
	t.Helper()
	if p, csrf, err := ids.SessionPrincipal(f.ctx, token); err == nil || p.SignedIn() || csrf != "" {
		t.Errorf("%s: accepted as %+v", what, p)
	}
}

// A remembered session stops working at once when it is signed out through
// the same store, and through another process's store within RecheckEvery.
func TestSignOutOfARememberedSession(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		other := f.otherProcess()
		staff := f.staff(t, "clerk", authz.Clerk)
		here, _ := f.session(t, staff.ID)
		there, _ := f.session(t, staff.ID)
		for _, tok := range []string{here, there} {
			f.accepts(t, other, tok, "a new session, through the other process")
		}
		if n := f.ids.Remembered(); n != 2 {
			t.Errorf("the store remembers %d sessions, want 2", n)
		}

		// Signed out here: refused here at once.
		if err := f.ids.EndSession(f.ctx, here); err != nil {
			t.Fatal(err)
		}
		f.refuses(t, f.ids, here, "a remembered session signed out")
		// The other process trusts what it read for RecheckEvery, no longer.
		f.clock.Advance(identity.RecheckEvery - time.Millisecond)
		f.accepts(t, other, here, "the other process, within RecheckEvery of the sign-out (from memory)")
		f.clock.Advance(time.Millisecond)
		f.refuses(t, other, here, "the other process, RecheckEvery after the sign-out")

		// Signed out there: refused there at once, and here after the interval.
		f.accepts(t, f.ids, there, "a live session")
		if err := other.EndSession(f.ctx, there); err != nil {
			t.Fatal(err)
		}
		f.refuses(t, other, there, "signed out through the other process, there")
		f.clock.Advance(identity.RecheckEvery)
		f.refuses(t, f.ids, there, "signed out through the other process, here after RecheckEvery")
		if n := f.ids.Remembered(); n != 0 {
			t.Errorf("the store remembers %d sessions after both were signed out, want 0", n)
		}
	})
}

// A disabled account's sessions and tokens are refused at once through the
// store that disabled it, and through another process's store within
// RecheckEvery.
func TestDisabledAccountWhileRemembered(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		other := f.otherProcess()
		staff := f.staff(t, "clerk", authz.Clerk)
		colleague := f.staff(t, "colleague", authz.Clerk)
		system, admin := tokenFixture(t, f)
		secret, _, err := f.ids.IssueToken(f.ctx, system, "sync", []authz.Permission{authz.CatalogManage}, time.Time{}, admin)
		if err != nil {
			t.Fatal(err)
		}
		sess, _ := f.session(t, staff.ID)
		other1, _ := f.session(t, colleague.ID)
		for _, ids := range []*identity.Store{f.ids, other} {
			f.accepts(t, ids, sess, "a live session")
			f.accepts(t, ids, other1, "a live session")
			if _, err := ids.TokenPrincipal(f.ctx, secret); err != nil {
				t.Fatal(err)
			}
		}

		if err := f.ids.DisableAccount(f.ctx, staff.ID, admin); err != nil {
			t.Fatal(err)
		}
		if err := f.ids.DisableAccount(f.ctx, system, admin); err != nil {
			t.Fatal(err)
		}
		f.refuses(t, f.ids, sess, "the session of an account just disabled")
		_, err = f.ids.TokenPrincipal(f.ctx, secret)
		wantErr(t, "the token of an account just disabled", err, apperr.Unauthenticated, "account_disabled")
		f.accepts(t, f.ids, other1, "the session of another account")

		f.clock.Advance(identity.RecheckEvery)
		f.refuses(t, other, sess, "the other process, the disabled account's session after RecheckEvery")
		_, err = other.TokenPrincipal(f.ctx, secret)
		wantErr(t, "the other process, the disabled account's token after RecheckEvery", err, apperr.Unauthenticated, "account_disabled")
		wantErr(t, "disabling an unknown account", f.ids.DisableAccount(f.ctx, 9999, admin), apperr.NotFound, "account_not_found")
	})
}

// A remembered session is refused at its expiry and after its idle
// timeout, to the second, however long the store trusts what it read.
func TestRememberedSessionEndsOnTime(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.ids.SetRecheckEvery(24 * time.Hour) // never read again within the test
		staff := f.staff(t, "clerk", authz.Clerk)

		sess, _ := f.session(t, staff.ID)
		for range 6 { // used every 1h50m: 11h00m old
			f.clock.Advance(110 * time.Minute)
			f.accepts(t, f.ids, sess, "a session in use")
		}
		f.clock.Advance(time.Hour - time.Second)
		f.accepts(t, f.ids, sess, "a second before the session's end")
		f.clock.Advance(2 * time.Second)
		f.refuses(t, f.ids, sess, "a second after the session's end")
		if n := f.count(t, "sessions", ""); n != 0 {
			t.Errorf("%d sessions stored after the remembered one ended, want 0", n)
		}

		idle, _ := f.session(t, staff.ID)
		f.clock.Advance(2 * time.Hour)
		f.accepts(t, f.ids, idle, "a session idle exactly 2h")
		f.clock.Advance(2*time.Hour + time.Second)
		f.refuses(t, f.ids, idle, "a remembered session idle 2h00m01s")
		if n := f.ids.Remembered(); n != 0 {
			t.Errorf("the store remembers %d ended sessions", n)
		}
	})
}

// A session that seems idle to one process is read again before it is
// ended: another process may have used it meanwhile.
func TestIdleCheckReadsWhatOtherProcessesSaw(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		other := f.otherProcess()
		f.ids.SetRecheckEvery(24 * time.Hour)
		staff := f.staff(t, "clerk", authz.Clerk)
		sess, _ := f.session(t, staff.ID)
		f.clock.Advance(110 * time.Minute)
		f.accepts(t, other, sess, "used through the other process")
		f.clock.Advance(20 * time.Minute) // 2h10m since this store saw it used
		f.accepts(t, f.ids, sess, "a session used 20 minutes ago through another process")
	})
}

// Switching the enterprise a session acts for, and revoking the
// authorisation an agent acts under, show at once through the same store.
func TestActingForChangesWhileRemembered(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		other := f.otherProcess()
		c := newCompany(t, f, "91910102MA5D3M1Q0", "1")
		if p := f.principal(t, c.repToken); p.ActingFor != nil {
			t.Fatalf("a new session acts for %+v", p.ActingFor)
		}
		rep := c.actAsRep(t, f) // fails unless the switch shows at once
		if _, err := f.ids.ActFor(f.ctx, rep, c.repToken, ""); err != nil {
			t.Fatal(err)
		}
		if p := f.principal(t, c.repToken); p.ActingFor != nil {
			t.Errorf("after switching back the session acts for %+v", p.ActingFor)
		}
		rep = c.actAsRep(t, f)

		until := f.clock.Now().Add(time.Hour)
		a, err := f.ids.Authorise(f.ctx, rep, identity.NewAuthorisation{AgentIDNumber: c.agentID, AgentName: "代理人1", ExpiresAt: until})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.ids.ActFor(f.ctx, f.principal(t, c.agentToken), c.agentToken, c.code); err != nil {
			t.Fatal(err)
		}
		if p := f.principal(t, c.agentToken); p.ActingFor == nil || p.ActingFor.Via != "authorisation" {
			t.Fatalf("the agent's session acts for %+v", p.ActingFor)
		}
		if p := f.accepts(t, other, c.agentToken, "the agent's session, through the other process"); p.ActingFor == nil {
			t.Fatal("through the other process the agent acts for nobody")
		}
		if err := f.ids.RevokeAuthorisation(f.ctx, rep, a.ID); err != nil {
			t.Fatal(err)
		}
		if p := f.principal(t, c.agentToken); p.ActingFor != nil {
			t.Errorf("after revocation the agent's remembered session acts for %+v", p.ActingFor)
		}
		f.clock.Advance(identity.RecheckEvery)
		if p := f.accepts(t, other, c.agentToken, "the agent's session after revocation"); p.ActingFor != nil {
			t.Errorf("after revocation and RecheckEvery the other process has the agent act for %+v", p.ActingFor)
		}

		// An authorisation ends at its expiry to the second, though remembered.
		f.ids.SetRecheckEvery(24 * time.Hour)
		until = f.clock.Now().Add(time.Hour)
		if _, err := f.ids.Authorise(f.ctx, rep, identity.NewAuthorisation{AgentIDNumber: c.agentID, AgentName: "代理人1", ExpiresAt: until}); err != nil {
			t.Fatal(err)
		}
		if p := f.principal(t, c.agentToken); p.ActingFor == nil {
			t.Fatal("a new authorisation does not show at once")
		}
		f.clock.Advance(time.Hour - time.Second)
		if p := f.principal(t, c.agentToken); p.ActingFor == nil {
			t.Error("the agent stopped acting a second before the authorisation expired")
		}
		f.clock.Advance(time.Second)
		if p := f.principal(t, c.agentToken); p.ActingFor != nil {
			t.Errorf("the agent acts for %+v at the authorisation's expiry", p.ActingFor)
		}
	})
}

// Roles, the real-name level and revoked tokens show at once through the
// store that changed them.
func TestAccountChangesWhileRemembered(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		other := f.otherProcess()
		staff := f.staff(t, "clerk", authz.Clerk)
		admin := f.staff(t, "admin", authz.SysAdmin)
		sess, _ := f.session(t, staff.ID)

		if err := f.ids.GrantRole(f.ctx, staff.ID, authz.Reviewer, admin.ID); err != nil {
			t.Fatal(err)
		}
		if p := f.principal(t, sess); !slices.Equal(p.Roles, []authz.Role{authz.Clerk, authz.Reviewer}) {
			t.Errorf("roles after a grant = %v", p.Roles)
		}
		f.accepts(t, other, sess, "a live session, through the other process")
		if err := f.ids.RevokeRole(f.ctx, staff.ID, authz.Clerk, admin.ID); err != nil {
			t.Fatal(err)
		}
		if p := f.principal(t, sess); !slices.Equal(p.Roles, []authz.Role{authz.Reviewer}) {
			t.Errorf("roles after a revocation = %v", p.Roles)
		}
		f.clock.Advance(identity.RecheckEvery)
		if p := f.accepts(t, other, sess, "after RecheckEvery"); !slices.Equal(p.Roles, []authz.Role{authz.Reviewer}) {
			t.Errorf("roles through the other process after RecheckEvery = %v", p.Roles)
		}

		person := f.person(t, idNumber(t, "19600315", "123"), "张三")
		psess, _ := f.session(t, person.ID)
		if err := f.ids.SetRealNameLevel(f.ctx, person.ID, 3); err != nil {
			t.Fatal(err)
		}
		if p := f.principal(t, psess); p.RealNameLevel != 3 {
			t.Errorf("real-name level after raising it = %d", p.RealNameLevel)
		}

		system, _ := tokenFixture(t, f)
		secret, tok, err := f.ids.IssueToken(f.ctx, system, "sync", []authz.Permission{authz.CatalogManage}, time.Time{}, admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, ids := range []*identity.Store{f.ids, other} {
			if _, err := ids.TokenPrincipal(f.ctx, secret); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.ids.RevokeToken(f.ctx, tok.ID, admin.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.ids.TokenPrincipal(f.ctx, secret)
		wantErr(t, "a remembered token just revoked", err, apperr.Unauthenticated, "token_revoked")
		f.clock.Advance(identity.RecheckEvery)
		_, err = other.TokenPrincipal(f.ctx, secret)
		wantErr(t, "the other process, a revoked token after RecheckEvery", err, apperr.Unauthenticated, "token_revoked")
	})
}

// Only live sessions and tokens are remembered: forged, signed-out,
// expired and revoked ones cost a database read each, and no memory.
func TestRefusedCredentialsAreNotRemembered(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		system, admin := tokenFixture(t, f)
		staff := f.staff(t, "clerk", authz.Clerk)
		for i := range 200 {
			forged := "ys_" + strings.Repeat(string(rune('a'+i%26)), 20+i%40)
			f.refuses(t, f.ids, forged, "a forged session")
			if _, err := f.ids.TokenPrincipal(f.ctx, "yt_"+forged[3:]); err == nil {
				t.Fatalf("forged token accepted")
			}
		}
		ended, err := f.ids.StartSession(f.ctx, staff.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.ids.EndSession(f.ctx, ended.Token); err != nil {
			t.Fatal(err)
		}
		revoked, tok, err := f.ids.IssueToken(f.ctx, system, "sync", []authz.Permission{authz.CatalogManage}, time.Time{}, admin)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.ids.RevokeToken(f.ctx, tok.ID, admin); err != nil {
			t.Fatal(err)
		}
		expiring, _, err := f.ids.IssueToken(f.ctx, system, "sync", []authz.Permission{authz.CatalogManage}, f.clock.Now().Add(time.Hour), admin)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Hour + time.Second)
		for range 3 {
			f.refuses(t, f.ids, ended.Token, "a signed-out session")
			if _, err := f.ids.TokenPrincipal(f.ctx, revoked); err == nil {
				t.Error("revoked token accepted")
			}
			_, err := f.ids.TokenPrincipal(f.ctx, expiring)
			wantErr(t, "expired token", err, apperr.Unauthenticated, "token_expired")
		}
		if n := f.ids.Remembered(); n != 0 {
			t.Errorf("the store remembers %d refused credentials, want 0", n)
		}
	})
}

// Requests, sign-outs and role changes at once, for the race detector.
func TestRememberedPrincipalsUnderConcurrency(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	f := newFixture(t, db)
	staff := f.staff(t, "clerk", authz.Clerk)
	admin := f.staff(t, "admin", authz.SysAdmin)
	var tokens []string
	for range 4 {
		tok, _ := f.session(t, staff.ID)
		tokens = append(tokens, tok)
	}
	var wg sync.WaitGroup
	for _, tok := range tokens {
		wg.Go(func() {
			for range 50 {
				f.ids.SessionPrincipal(f.ctx, tok)
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			f.ids.GrantRole(f.ctx, staff.ID, authz.Reviewer, admin.ID)
			f.ids.RevokeRole(f.ctx, staff.ID, authz.Reviewer, admin.ID)
		}
		f.ids.EndSession(f.ctx, tokens[0])
	})
	wg.Wait()
	f.refuses(t, f.ids, tokens[0], "a session signed out while others were read")
	if p := f.principal(t, tokens[1]); !slices.Equal(p.Roles, []authz.Role{authz.Clerk}) {
		t.Errorf("roles after the grants and revocations = %v, want [clerk]", p.Roles)
	}
}

// BenchmarkSessionPrincipal resolves a staff member's session cookie on
// SQLite: from memory (read from the database once every RecheckEvery) and
// from the database on every call, as before the cache.
func BenchmarkSessionPrincipal(b *testing.B) {
	f := newFixture(b, storetest.SQLite(b))
	staff := f.staff(b, "clerk", authz.Clerk, authz.Reviewer)
	tok, _ := f.session(b, staff.ID)
	for _, bc := range []struct {
		name  string
		every time.Duration
	}{{"cached", identity.RecheckEvery}, {"uncached", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			f.ids.SetRecheckEvery(bc.every)
			for b.Loop() {
				if _, _, err := f.ids.SessionPrincipal(f.ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
