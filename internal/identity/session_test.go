package identity_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

func TestSessionRoundTrip(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		staff := f.staff(t, "head.civil", authz.Reviewer, authz.Head)
		id := idNumber(t, "19600315", "123")
		person := f.person(t, id, "张三")

		sess, err := f.ids.StartSession(f.ctx, staff.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(sess.Token, "ys_") || sess.CSRF == "" || sess.CSRF == sess.Token {
			t.Errorf("session = %+v; want a ys_ token and a separate CSRF token", sess)
		}
		p, csrf, err := f.ids.SessionPrincipal(f.ctx, sess.Token)
		if err != nil {
			t.Fatal(err)
		}
		if csrf != sess.CSRF {
			t.Errorf("CSRF = %q, want the session's %q", csrf, sess.CSRF)
		}
		if p.AccountID != staff.ID || p.Kind != "staff" || p.Via != "session" || p.Department != testDept || p.Region != testRegion ||
			p.Name != staff.DisplayName || p.RealNameLevel != 3 || p.PersonID != 0 || p.Scopes != nil {
			t.Errorf("staff principal = %+v", p)
		}
		if !slices.Equal(p.Roles, []authz.Role{authz.Head, authz.Reviewer}) {
			t.Errorf("roles = %v, want [head reviewer]", p.Roles)
		}
		if !p.Can(authz.Decide) || !p.Can(authz.ReviewTasks) || p.Can(authz.AccountsManage) {
			t.Errorf("a head and reviewer's permissions are wrong: decide %v, review %v, accounts %v",
				p.Can(authz.Decide), p.Can(authz.ReviewTasks), p.Can(authz.AccountsManage))
		}

		// The token is stored only as a hash.
		mustNotContain(t, "sessions row", rawRows(t, db.DB, `SELECT token_hash, account_id, created_at FROM sessions`), sess.Token, sess.Token[3:])

		_, pp := f.session(t, person.ID)
		if pp.AccountID != person.ID || pp.Kind != "person" || pp.PersonID != person.PersonID || pp.RealNameLevel != 1 ||
			!slices.Equal(pp.Roles, []authz.Role{authz.Applicant}) || pp.Department != "" {
			t.Errorf("person principal = %+v", pp)
		}

		// Every sign-in makes a new session; the others live on.
		other, err := f.ids.StartSession(f.ctx, staff.ID)
		if err != nil {
			t.Fatal(err)
		}
		if other.Token == sess.Token || other.CSRF == sess.CSRF {
			t.Error("two sign-ins got the same session")
		}
		if err := f.ids.EndSession(f.ctx, other.Token); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.ids.SessionPrincipal(f.ctx, sess.Token); err != nil {
			t.Errorf("ending one session ended another: %v", err)
		}
	})
}

func TestEndedAndForgedSessionsAreRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		staff := f.staff(t, "clerk", authz.Clerk)
		sess, err := f.ids.StartSession(f.ctx, staff.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.ids.EndSession(f.ctx, sess.Token); err != nil {
			t.Fatal(err)
		}
		live, err := f.ids.StartSession(f.ctx, staff.ID)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct{ name, token string }{
			{"signed out, replayed", sess.Token},
			{"forged", "ys_" + "garbagegarbagegarbagegarbagegarbagegarbage1"},
			{"short garbage", "ys_x"},
			{"empty", ""},
			{"no prefix", strings.TrimPrefix(live.Token, "ys_")},
			{"live token with a character changed", live.Token[:len(live.Token)-1] + string(live.Token[len(live.Token)-1]^1)},
			{"live token with something appended", live.Token + "A"},
			{"the CSRF token instead", live.CSRF},
			{"too long", "ys_" + strings.Repeat("a", 200)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p, csrf, err := f.ids.SessionPrincipal(f.ctx, tt.token)
				if err == nil || p.SignedIn() || csrf != "" {
					t.Errorf("SessionPrincipal(%q) = %+v, %q, %v; want refused and anonymous", tt.token, p, csrf, err)
				}
			})
		}
		if _, _, err := f.ids.SessionPrincipal(f.ctx, live.Token); err != nil {
			t.Errorf("the live session was affected: %v", err)
		}
		// Disabling an account ends its sessions.
		f.disable(t, staff.ID)
		if p, _, err := f.ids.SessionPrincipal(f.ctx, live.Token); err == nil || p.SignedIn() {
			t.Errorf("session of a disabled account accepted: %+v", p)
		}
	})
}

func TestSessionIdleAndMaximumLifetime(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		staff := f.staff(t, "clerk", authz.Clerk)

		t.Run("idle for over two hours", func(t *testing.T) {
			sess, err := f.ids.StartSession(f.ctx, staff.ID)
			if err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(2*time.Hour - time.Minute)
			if _, _, err := f.ids.SessionPrincipal(f.ctx, sess.Token); err != nil {
				t.Fatalf("session idle 1h59m refused: %v", err)
			}
			f.clock.Advance(2*time.Hour + time.Minute)
			if p, _, err := f.ids.SessionPrincipal(f.ctx, sess.Token); err == nil || p.SignedIn() {
				t.Errorf("session idle 2h01m accepted: %+v", p)
			}
			// Refused for good, not only while idle.
			if _, _, err := f.ids.SessionPrincipal(f.ctx, sess.Token); err == nil {
				t.Error("an idle session came back")
			}
		})

		t.Run("used often but older than twelve hours", func(t *testing.T) {
			sess, err := f.ids.StartSession(f.ctx, staff.ID)
			if err != nil {
				t.Fatal(err)
			}
			for age := 110 * time.Minute; age < 12*time.Hour; age += 110 * time.Minute {
				f.clock.Advance(110 * time.Minute)
				if _, _, err := f.ids.SessionPrincipal(f.ctx, sess.Token); err != nil {
					t.Fatalf("session used every 1h50m refused at age %v: %v", age, err)
				}
			}
			// Now 11h00m old, last used just now.
			f.clock.Advance(61 * time.Minute)
			if p, _, err := f.ids.SessionPrincipal(f.ctx, sess.Token); err == nil || p.SignedIn() {
				t.Errorf("session 12h01m old accepted: %+v", p)
			}
		})
	})
}

// tokenFixture is a system account holding the catalogue admin role only.
func tokenFixture(t *testing.T, f *fixture) (system int64, admin int64) {
	t.Helper()
	a, err := f.ids.CreateSystem(f.ctx, "records-bureau", []authz.Role{authz.CatalogAdmin}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != "system" {
		t.Fatalf("CreateSystem made a %s account", a.Kind)
	}
	return a.ID, f.staff(t, "sysadmin", authz.SysAdmin).ID
}

func TestIssueTokenChecksItsInput(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		system, admin := tokenFixture(t, f)
		person := f.person(t, idNumber(t, "19600315", "123"), "张三")
		later := f.clock.Now().Add(24 * time.Hour)
		tests := []struct {
			name    string
			account int64
			tname   string
			scopes  []authz.Permission
			expires time.Time
			kind    apperr.Kind
			code    string
		}{
			{"staff account", admin, "sync", []authz.Permission{authz.CatalogManage}, later, apperr.Invalid, "not_a_system_account"},
			{"person account", person.ID, "sync", []authz.Permission{authz.CatalogManage}, later, apperr.Invalid, "not_a_system_account"},
			{"unknown account", 9999, "sync", []authz.Permission{authz.CatalogManage}, later, apperr.NotFound, "account_not_found"},
			{"no scopes", system, "sync", nil, later, apperr.Invalid, "scopes_required"},
			{"unknown scope", system, "sync", []authz.Permission{"catalog:everything"}, later, apperr.Invalid, "unknown_scope"},
			{"pii:view is not a token scope", system, "sync", []authz.Permission{authz.PersonalDataRaw}, later, apperr.Invalid, "unknown_scope"},
			{"accounts:manage is not a token scope", system, "sync", []authz.Permission{authz.CatalogManage, authz.AccountsManage}, later, apperr.Invalid, "unknown_scope"},
			{"no name", system, "  ", []authz.Permission{authz.CatalogManage}, later, apperr.Invalid, "name_required"},
			{"expiry in the past", system, "sync", []authz.Permission{authz.CatalogManage}, f.clock.Now().Add(-time.Second), apperr.Invalid, "bad_expiry"},
			{"expiry now", system, "sync", []authz.Permission{authz.CatalogManage}, f.clock.Now(), apperr.Invalid, "bad_expiry"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				secret, _, err := f.ids.IssueToken(f.ctx, tt.account, tt.tname, tt.scopes, tt.expires, admin)
				wantErr(t, "IssueToken", err, tt.kind, tt.code)
				if secret != "" {
					t.Errorf("a refused token has a secret: %q", secret)
				}
			})
		}
		list, err := f.ids.Tokens(f.ctx)
		if err != nil || len(list) != 0 {
			t.Errorf("Tokens after only refused issues = %+v, %v; want none", list, err)
		}
	})
}

func TestTokenPrincipal(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		system, admin := tokenFixture(t, f)
		secret, tok, err := f.ids.IssueToken(f.ctx, system, "catalogue sync", []authz.Permission{authz.CatalogManage}, time.Time{}, admin)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, "yt_") || tok.Name != "catalogue sync" || tok.AccountID != system ||
			!slices.Equal(tok.Scopes, []authz.Permission{authz.CatalogManage}) || tok.ExpiresAt != nil || tok.RevokedAt != nil {
			t.Errorf("IssueToken = %q, %+v", secret, tok)
		}
		p, err := f.ids.TokenPrincipal(f.ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		if p.AccountID != system || p.Kind != "system" || p.Via != "token" || !slices.Equal(p.Scopes, []authz.Permission{authz.CatalogManage}) {
			t.Errorf("token principal = %+v", p)
		}
		if !p.Can(authz.CatalogManage) {
			t.Error("a catalog:manage token cannot manage the catalogue")
		}

		// The secret is stored only as a hash and never listed again.
		mustNotContain(t, "api_tokens row", rawRows(t, db.DB, `SELECT * FROM api_tokens`), secret, secret[3:])
		list, err := f.ids.Tokens(f.ctx)
		if err != nil || len(list) != 1 || list[0].ID != tok.ID {
			t.Fatalf("Tokens = %+v, %v", list, err)
		}
		if list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(f.clock.Now()) {
			t.Errorf("last used = %v, want %v", list[0].LastUsedAt, f.clock.Now())
		}
		js, _ := json.Marshal(list)
		if strings.Contains(string(js), secret[3:]) {
			t.Errorf("the token list shows the secret: %s", js)
		}
	})
}

func TestTokenNeverExceedsItsScopesNorItsRoles(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		admin := f.staff(t, "sysadmin", authz.SysAdmin).ID
		broad, err := f.ids.CreateSystem(f.ctx, "broad-system", []authz.Role{authz.CatalogAdmin, authz.SysAdmin, authz.Clerk}, admin)
		if err != nil {
			t.Fatal(err)
		}
		narrow, err := f.ids.CreateSystem(f.ctx, "narrow-system", []authz.Role{authz.CatalogAdmin}, admin)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name    string
			account int64
			scopes  []authz.Permission
			can     []authz.Permission
			cannot  []authz.Permission
		}{
			{"catalogue scope on a broad account", broad.ID, []authz.Permission{authz.CatalogManage},
				[]authz.Permission{authz.CatalogManage, authz.SignedIn, authz.Public},
				[]authz.Permission{authz.OrgManage, authz.AccountsManage, authz.PersonalDataRaw, authz.WindowIntake, authz.PersonalAudit}},
			{"org scope on a broad account", broad.ID, []authz.Permission{authz.OrgManage},
				[]authz.Permission{authz.OrgManage},
				[]authz.Permission{authz.CatalogManage, authz.AccountsManage, authz.PersonalDataRaw}},
			{"scope the account's roles lack", narrow.ID, []authz.Permission{authz.OrgManage, authz.CatalogManage},
				[]authz.Permission{authz.CatalogManage},
				[]authz.Permission{authz.OrgManage, authz.ActForOwn}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				secret, _, err := f.ids.IssueToken(f.ctx, tt.account, tt.name, tt.scopes, time.Time{}, admin)
				if err != nil {
					t.Fatal(err)
				}
				p, err := f.ids.TokenPrincipal(f.ctx, secret)
				if err != nil {
					t.Fatal(err)
				}
				for _, perm := range tt.can {
					if !p.Can(perm) {
						t.Errorf("token cannot %s", perm)
					}
				}
				for _, perm := range tt.cannot {
					if p.Can(perm) {
						t.Errorf("token scoped %v can %s", tt.scopes, perm)
					}
					if err := authz.Require(p, perm); apperr.KindOf(err) != apperr.Forbidden {
						t.Errorf("Require(%s) = %v, want forbidden", perm, err)
					}
				}
			})
		}
	})
}

func TestRefusedTokens(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		system, admin := tokenFixture(t, f)
		issue := func(expires time.Time) (string, int64) {
			t.Helper()
			secret, tok, err := f.ids.IssueToken(f.ctx, system, "sync", []authz.Permission{authz.CatalogManage}, expires, admin)
			if err != nil {
				t.Fatal(err)
			}
			return secret, tok.ID
		}
		revoked, revokedID := issue(time.Time{})
		if err := f.ids.RevokeToken(f.ctx, revokedID, 0); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "revoking twice", f.ids.RevokeToken(f.ctx, revokedID, 0), apperr.Conflict, "already_revoked")
		wantErr(t, "revoking an unknown token", f.ids.RevokeToken(f.ctx, 9999, 0), apperr.NotFound, "token_not_found")

		expiring, _ := issue(f.clock.Now().Add(24 * time.Hour))
		if _, err := f.ids.TokenPrincipal(f.ctx, expiring); err != nil {
			t.Fatalf("token before its expiry: %v", err)
		}
		live, _ := issue(time.Time{})
		session, err := f.ids.StartSession(f.ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(24*time.Hour + time.Second)

		tests := []struct{ name, secret, code string }{
			{"revoked", revoked, "token_revoked"},
			{"expired", expiring, "token_expired"},
			{"garbage", "garbage", "bad_token"},
			{"garbage with the prefix", "yt_garbage", "bad_token"},
			{"empty", "", "bad_token"},
			{"live token altered", live[:len(live)-1] + string(live[len(live)-1]^1), "bad_token"},
			{"a session token", session.Token, "bad_token"},
			{"too long", "yt_" + strings.Repeat("a", 200), "bad_token"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p, err := f.ids.TokenPrincipal(f.ctx, tt.secret)
				wantErr(t, "TokenPrincipal", err, apperr.Unauthenticated, tt.code)
				if p.SignedIn() {
					t.Errorf("refused token gave principal %+v", p)
				}
			})
		}
		if _, err := f.ids.TokenPrincipal(f.ctx, live); err != nil {
			t.Errorf("a live token never expiring was refused: %v", err)
		}
		f.disable(t, system)
		_, err = f.ids.TokenPrincipal(f.ctx, live)
		wantErr(t, "token of a disabled account", err, apperr.Unauthenticated, "account_disabled")
	})
}
