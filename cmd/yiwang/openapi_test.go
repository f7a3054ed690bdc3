package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"yiwang/api"
	"yiwang/internal/apitest"
	"yiwang/internal/authz"
)

// TestOpenAPIErrorResponses derives from the route table which error answers
// each operation can give, so the document lists them: 401 where the route
// needs a signed-in caller, 403 where it needs a permission or (a state
// change) a CSRF token, 404 where the path names an object, 400 where there
// is a body to validate, 409 where an If-Match revision can be stale; and
// public routes say so with security: [].
func TestOpenAPIErrorResponses(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := demoServer(t)
	for _, route := range srv.Router().Routes() {
		method, path, ok := strings.Cut(route.Pattern, " ")
		if !ok || !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		op := doc.Paths.Find(path).GetOperation(method)
		if op == nil {
			continue // TestOpenAPIMatchesRoutes reports it
		}
		public := route.Permission == authz.Public
		if public != (op.Security != nil && len(*op.Security) == 0) {
			t.Errorf("%s: permission %s, but security %v", route.Pattern, route.Permission, op.Security)
		}
		want := map[string]bool{}
		if !public {
			want["401"] = true
			if route.Permission != authz.SignedIn || method != "GET" {
				want["403"] = true
			}
		}
		if strings.Contains(path, "{") {
			want["404"] = true
		}
		if op.RequestBody != nil {
			want["400"] = true
		}
		for _, p := range op.Parameters {
			if p.Value != nil && p.Value.In == "header" && p.Value.Name == "If-Match" {
				want["409"] = true
			}
		}
		for code := range want {
			if op.Responses.Value(code) == nil {
				t.Errorf("%s (%s) does not document its %s answer", route.Pattern, route.Permission, code)
			}
		}
	}
}

// contract holds the harness's /api/ exchanges (call, signIn) to the
// document. One for the test binary: it also counts the operations exercised.
var contract *apitest.Contract

// TestMain loads the contract, runs the tests and reports which documented
// operations they exercised and which not.
func TestMain(m *testing.M) {
	c, err := apitest.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	contract = c
	code := m.Run()
	seen, unseen := contract.Exercised()
	fmt.Printf("API contract: the tests exercised %d of %d documented operations\n", len(seen), len(seen)+len(unseen))
	for _, op := range unseen {
		fmt.Printf("  not exercised: %s\n", op)
	}
	os.Exit(code)
}
