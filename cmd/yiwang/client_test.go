package main

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strconv"
	"testing"

	"yiwang/api/client"
	"yiwang/internal/authz"
	"yiwang/internal/demo"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestGeneratedClientJourney runs a whole integration through the Go client
// that oapi-codegen generates from api/openapi.yaml, and nothing else: the
// system administrator gives another government system an API token, the system reads the catalogue with it, a resident signs in, applies
// for the senior card, reads the machine's decision, and finds and verifies
// the licence. If the document and the server disagree, the client cannot
// express a call or decode an answer, and the journey fails here.
func TestGeneratedClientJourney(t *testing.T) {
	storetest.Each(t, testGeneratedClientJourney)
}

func testGeneratedClientJourney(t *testing.T, db *store.DB) {
	h, a := citizenServerOn(t, db)
	srv := httptest.NewServer(contract.Handler(t, h))
	defer srv.Close()
	ctx := context.Background()

	// The operator registers the system on the command line (yiwang token
	// create --system does this); the administrator gives it its token.
	system, err := a.identities.CreateSystem(ctx, "province-sync", []authz.Role{authz.CatalogAdmin}, 0)
	if err != nil {
		t.Fatal(err)
	}
	admin := newGeneratedClient(t, srv.URL)
	admin.signIn(t, "sysadmin", demo.Password)
	issued, err := admin.IssueTokenWithResponse(ctx, client.IssueTokenJSONRequestBody{
		AccountId: int(system.ID), Name: "catalogue sync",
		Scopes: []client.IssueTokenJSONBodyScopes{"catalog:manage"},
	})
	must(t, "issue the token", issued.HTTPResponse, issued.Body, err, http.StatusCreated)

	withToken, err := client.NewClientWithResponses(srv.URL, client.WithRequestEditorFn(bearer(*issued.JSON201.Secret)))
	if err != nil {
		t.Fatal(err)
	}
	versions, err := withToken.ListVersionsWithResponse(ctx, seniorCard)
	must(t, "the system lists the senior card's versions", versions.HTTPResponse, versions.Body, err, http.StatusOK)
	if versions.JSON200 == nil || versions.JSON200.Versions == nil || len(*versions.JSON200.Versions) == 0 {
		t.Fatalf("the system sees no versions of %s: %s", seniorCard, versions.Body)
	}
	anonymous, err := client.NewClientWithResponses(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	refused, err := anonymous.ListVersionsWithResponse(ctx, seniorCard)
	must(t, "listing versions without the token", refused.HTTPResponse, refused.Body, err, http.StatusUnauthorized)

	person := newGeneratedClient(t, srv.URL)
	me := person.signIn(t, demo.ZhangSan, demo.Password)
	if me.Kind == nil || *me.Kind != "person" {
		t.Fatalf("Zhang San signed in as %v", me.Kind)
	}
	startKey, submitKey := "start-"+strconv.Itoa(*me.AccountId), "submit-"+strconv.Itoa(*me.AccountId)
	started, err := person.StartApplicationWithResponse(ctx, &client.StartApplicationParams{IdempotencyKey: &startKey},
		client.StartApplicationJSONRequestBody{ItemCode: seniorCard, Consent: true})
	must(t, "start the application", started.HTTPResponse, started.Body, err, http.StatusCreated)
	draft := started.JSON201
	if draft.FieldsPrefilled == nil || *draft.FieldsPrefilled == 0 {
		t.Errorf("nothing was prefilled from the registries (秒报): %s", started.Body)
	}
	filled, err := person.UpdateApplicationFormWithResponse(ctx, *draft.Id, client.UpdateApplicationFormJSONRequestBody{"delivery": "electronic"})
	must(t, "fill the form", filled.HTTPResponse, filled.Body, err, http.StatusOK)
	revision := strconv.Itoa(*filled.JSON200.Revision)
	submitted, err := person.SubmitApplicationWithResponse(ctx, *draft.Id, &client.SubmitApplicationParams{IdempotencyKey: &submitKey, IfMatch: &revision})
	must(t, "submit", submitted.HTTPResponse, submitted.Body, err, http.StatusOK)

	read, err := person.GetApplicationWithResponse(ctx, *draft.Id)
	must(t, "read the application", read.HTTPResponse, read.Body, err, http.StatusOK)
	decided := read.JSON200
	if decided.Status == nil || *decided.Status != "licence_issued" || decided.Number == nil {
		t.Fatalf("after submitting, the application is %v: %s", decided.Status, read.Body)
	}
	if decided.Decision == nil || decided.Decision.Outcome == nil || *decided.Decision.Outcome != "approve" {
		t.Fatalf("the machine's decision is missing: %s", read.Body)
	}

	mine, err := person.MyLicencesWithResponse(ctx)
	must(t, "list my licences", mine.HTTPResponse, mine.Body, err, http.StatusOK)
	var number string
	for _, l := range *mine.JSON200.Licences {
		if l.TypeName != nil && *l.TypeName == "老年人优待证" {
			number = *l.Number
		}
	}
	if number == "" {
		t.Fatalf("the senior card is not among my licences: %s", mine.Body)
	}
	verdict, err := anonymous.VerifyLicenceWithResponse(ctx, number)
	must(t, "verify the licence", verdict.HTTPResponse, verdict.Body, err, http.StatusOK)
	if verdict.JSON200.Result == nil || *verdict.JSON200.Result != "valid" {
		t.Errorf("licence %s verifies as %v: %s", number, verdict.JSON200.Result, verdict.Body)
	}
}

// generatedClient is the generated client with a cookie jar and the CSRF token of
// its session, as a browser-less caller signs in.
type generatedClient struct {
	*client.ClientWithResponses
	csrf string
}

func newGeneratedClient(t *testing.T, url string) *generatedClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &generatedClient{}
	var err error
	c.ClientWithResponses, err = client.NewClientWithResponses(url,
		client.WithHTTPClient(&http.Client{Jar: jar}),
		client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			if c.csrf != "" {
				req.Header.Set("X-CSRF-Token", c.csrf)
			}
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *generatedClient) signIn(t *testing.T, login, password string) *client.Me {
	t.Helper()
	res, err := c.SignInWithResponse(context.Background(), client.SignInJSONRequestBody{Login: login, Password: password})
	must(t, "sign in as "+login, res.HTTPResponse, res.Body, err, http.StatusOK)
	c.csrf = *res.JSON200.CsrfToken
	return res.JSON200
}

func bearer(secret string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+secret)
		return nil
	}
}

// must fails the test when the call did not get through or answered another status.
func must(t *testing.T, what string, res *http.Response, body []byte, err error, want int) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if res.StatusCode != want {
		t.Fatalf("%s: %s, want %d\n%s", what, res.Status, want, body)
	}
}

// TestOneCallApplication applies for the senior card in one request through
// the generated client: decided and licensed at once, a retry with the same
// key answers the same application without a second licence, and what the
// call cannot do is refused in words.
func TestOneCallApplication(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h, _ := citizenServerOn(t, db)
		srv := httptest.NewServer(contract.Handler(t, h))
		defer srv.Close()
		ctx := context.Background()
		person := newGeneratedClient(t, srv.URL)
		person.signIn(t, demo.ZhangSan, demo.Password)
		form := map[string]any{"delivery": "electronic"}
		body := client.ApplyJSONRequestBody{ItemCode: seniorCard, Consent: true, Form: &form}

		first, err := person.ApplyWithResponse(ctx, &client.ApplyParams{IdempotencyKey: "senior-card-1"}, body)
		must(t, "apply in one call", first.HTTPResponse, first.Body, err, http.StatusCreated)
		a := first.JSON201
		if *a.Status != "licence_issued" || a.Number == nil || a.Decision == nil || *a.Decision.Outcome != "approve" {
			t.Fatalf("one call did not end in an issued licence: %s", first.Body)
		}
		again, err := person.ApplyWithResponse(ctx, &client.ApplyParams{IdempotencyKey: "senior-card-1"}, body)
		must(t, "retry with the same key", again.HTTPResponse, again.Body, err, http.StatusCreated)
		if *again.JSON201.Id != *a.Id || *again.JSON201.Number != *a.Number {
			t.Errorf("a retry made application %d (%s), want %d (%s)", *again.JSON201.Id, *again.JSON201.Number, *a.Id, *a.Number)
		}
		mine, err := person.MyLicencesWithResponse(ctx)
		must(t, "list my licences", mine.HTTPResponse, mine.Body, err, http.StatusOK)
		if n := len(*mine.JSON200.Licences); n != 1 {
			t.Errorf("after a retried one-call application Zhang San holds %d licences, want 1: %s", n, mine.Body)
		}

		mobile := client.ApplyJSONBodyChannel("mobile")
		other := body
		other.Channel = &mobile
		reused, err := person.ApplyWithResponse(ctx, &client.ApplyParams{IdempotencyKey: "senior-card-1"}, other)
		must(t, "the same key with another request", reused.HTTPResponse, reused.Body, err, http.StatusConflict)
		for _, c := range []struct {
			name, key, code string
			body            client.ApplyJSONRequestBody
		}{
			{"no key", "", "idempotency_key_required", body},
			{"no consent", "senior-card-2", "consent_required", client.ApplyJSONRequestBody{ItemCode: seniorCard, Form: &form}},
			{"a required field missing", "senior-card-3", "incomplete", client.ApplyJSONRequestBody{ItemCode: seniorCard, Consent: true}},
		} {
			res, err := person.ApplyWithResponse(ctx, &client.ApplyParams{IdempotencyKey: c.key}, c.body)
			must(t, c.name, res.HTTPResponse, res.Body, err, http.StatusBadRequest)
			if res.JSON400 == nil || res.JSON400.Error.Code != c.code {
				t.Errorf("%s: %s, want %s", c.name, res.Body, c.code)
			}
		}
	})
}
