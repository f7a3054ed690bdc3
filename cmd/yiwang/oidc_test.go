package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"

	"yiwang/internal/demo"
	"yiwang/internal/logging"
	"yiwang/internal/oidc"
	"yiwang/internal/oidc/oidctest"
	"yiwang/internal/store/storetest"
)

// TestSignInWithTheUnifiedIdentityPlatform signs in end to end through an
// in-process OpenID Connect provider: the person arrives with real-name level
// from the platform and a masked ID number.
func TestSignInWithTheUnifiedIdentityPlatform(t *testing.T) {
	provider := oidctest.Start(t, oidctest.WithUser(oidctest.User{Subject: "sub-wangwu", Name: "王五", IDNumber: demo.WangWu, RealNameLevel: 3}))
	db := storetest.SQLite(t)
	ctx := context.Background()
	logger := logging.New(io.Discard, "text", 0)

	// The site's address is known only once it listens.
	var handler http.Handler
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	defer site.Close()
	opts := testOptions(t)
	opts.oidc = &oidc.Config{Issuer: provider.URL, ClientID: oidctest.DefaultClientID, ClientSecret: oidctest.DefaultClientSecret,
		RedirectURL: site.URL + oidc.CallbackPath, CookieKey: make([]byte, 32)}
	a, err := newApp(ctx, db, opts, logger)
	if err != nil {
		t.Fatal(err)
	}
	handler = a.server(db, logger).Handler()

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.Get(site.URL + oidc.LoginPath + "?next=/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var me struct {
		Kind          string `json:"kind"`
		RealNameLevel int    `json:"real_name_level"`
		Roles         []string
		Person        struct {
			IDNumber string `json:"id_number"`
		} `json:"person"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&me); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after sign-in: %d %v", resp.StatusCode, err)
	}
	if me.Kind != "person" || me.RealNameLevel != 3 || me.Person.IDNumber != "9101**********"+demo.WangWu[14:] {
		t.Errorf("signed in as %+v", me)
	}

	// The second sign-in finds the same account through the link.
	resp2, err := client.Get(site.URL + oidc.LoginPath + "?next=/api/v1/me")
	if err != nil || resp2.StatusCode != 200 {
		t.Fatalf("second sign-in: %v %v", resp2, err)
	}
	resp2.Body.Close()
	var accounts int
	db.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE kind = 'person'`).Scan(&accounts)
	if accounts != 1 {
		t.Errorf("%d person accounts after two sign-ins, want 1", accounts)
	}
}
