// Package apitest holds HTTP tests to the API contract: every /api/ request a
// test sends and every answer it gets are validated against api/openapi.yaml
// with kin-openapi's openapi3filter, so a field added, renamed or retyped in
// code without the document fails a test. It is for tests only.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"yiwang/api"
)

// Contract is the loaded document and the operations the tests exercised.
// One serves a whole test binary; it is safe for parallel tests.
type Contract struct {
	doc    *openapi3.T
	router routers.Router

	mu   sync.Mutex
	seen map[string]bool // "GET /api/v1/items/{code}"
}

// New loads and validates api/openapi.yaml.
func New() (*Contract, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	closeObjects(doc)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	return &Contract{doc: doc, router: router, seen: map[string]bool{}}, nil
}

// Covered reports whether path is under the contract: the JSON API and the
// probes, not pages and assets.
func Covered(path string) bool {
	return strings.HasPrefix(path, "/api/") || path == "/healthz" || path == "/readyz" || path == "/metrics"
}

// Serve sends req to h and checks the exchange, failing t with the operation,
// the field and the problem when either side breaks the contract. Requests
// outside Covered paths are served unchecked.
func (c *Contract) Serve(t testing.TB, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	// The server may consume or alter the request: check a copy.
	sent := req.Clone(req.Context())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if !Covered(req.URL.Path) {
		return rec
	}
	if err := c.Check(sent, body, rec.Result().StatusCode, rec.Header(), rec.Body.Bytes()); err != nil {
		t.Errorf("API contract: %v", err)
	}
	return rec
}

// Handler wraps h for a real listening server (httptest.NewServer), so that a
// client the test does not write itself, such as the generated one, is held to
// the contract too.
func (c *Contract) Handler(t testing.TB, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := c.Serve(t, h, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

// Check validates one exchange. A request the document refuses must be
// refused by the server too (a 4xx answer); every answer must be documented
// for its status and match its schema.
func (c *Contract) Check(req *http.Request, reqBody []byte, status int, header http.Header, respBody []byte) error {
	req = req.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	req.ContentLength = int64(len(reqBody))
	name := req.Method + " " + req.URL.Path
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return nil // nothing there, and the server says so
		}
		return fmt.Errorf("%s: answered %d but the document has no such operation", name, status)
	}
	op := route.Method + " " + route.Path
	if route.Operation.OperationID != "" {
		op += " (" + route.Operation.OperationID + ")"
	}
	c.mu.Lock()
	c.seen[route.Method+" "+route.Path] = true
	c.mu.Unlock()

	opts := &openapi3filter.Options{
		MultiError:            true,
		IncludeResponseStatus: true,
		// The server checks sessions and tokens itself; the tests of access
		// (cmd/yiwang/access_test.go) hold it to that.
		AuthenticationFunc: func(context.Context, *openapi3filter.AuthenticationInput) error { return nil },
	}
	opts.WithCustomSchemaErrorFunc(schemaProblem)
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	var problems []string
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		if status < 400 || status >= 500 {
			problems = append(problems, fmt.Sprintf("request outside the document was answered %d: %s", status, describe(err)))
		}
	}
	if status >= 500 && route.Operation.Responses.Status(status) == nil {
		// Any operation may fail inside; the document does not list 500 on
		// each, but the answer still has the one error shape.
		if err := c.errorShape(respBody); err != nil {
			problems = append(problems, fmt.Sprintf("response %d: %s", status, describe(err)))
		}
		if len(problems) > 0 {
			return fmt.Errorf("%s as %s: %s", name, op, strings.Join(problems, "; "))
		}
		return nil
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(respBody)),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		problems = append(problems, fmt.Sprintf("response %d: %s", status, describe(err)))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s as %s: %s", name, op, strings.Join(problems, "; "))
	}
	return nil
}

// errorShape checks body against the document's Error schema.
func (c *Contract) errorShape(body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return c.doc.Components.Schemas["Error"].Value.VisitJSON(v, openapi3.MultiErrors(), openapi3.SetSchemaErrorMessageCustomizer(schemaProblem))
}

// schemaProblem words a schema mismatch as the field and the problem, without
// the schema dump kin-openapi appends by default.
func schemaProblem(err *openapi3.SchemaError) string {
	field := "/" + strings.Join(err.JSONPointer(), "/")
	return fmt.Sprintf("field %s: %s", field, err.Reason)
}

// describe flattens kin-openapi's nested and multiple errors into one line.
func describe(err error) string {
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		parts := make([]string, 0, len(multi))
		for _, e := range multi {
			parts = append(parts, describe(e))
		}
		return strings.Join(parts, "; ")
	}
	return err.Error()
}

// Exercised lists the document's operations as "METHOD /path" (sorted), those
// the tests sent a request to and those they did not.
func (c *Contract) Exercised() (seen, unseen []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for path, item := range c.doc.Paths.Map() {
		for method := range item.Operations() {
			key := method + " " + path
			if c.seen[key] {
				seen = append(seen, key)
			} else {
				unseen = append(unseen, key)
			}
		}
	}
	slices.Sort(seen)
	slices.Sort(unseen)
	return seen, unseen
}

// closeObjects makes every object schema that lists its properties refuse
// others (additionalProperties: false), in memory: OpenAPI allows unlisted
// properties by default, which would let a field added or renamed in code
// pass unnoticed. The members of an allOf stay open, as each sees only its
// own part of the object.
func closeObjects(doc *openapi3.T) {
	open := map[*openapi3.Schema]bool{}
	seen := map[*openapi3.Schema]bool{}
	var all []*openapi3.Schema
	var walk func(ref *openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		all = append(all, s)
		for _, m := range s.AllOf {
			if m.Value != nil {
				open[m.Value] = true
			}
			walk(m)
		}
		for _, m := range s.AnyOf {
			walk(m)
		}
		for _, m := range s.OneOf {
			walk(m)
		}
		walk(s.Items)
		walk(s.AdditionalProperties.Schema)
		for _, p := range s.Properties {
			walk(p)
		}
	}
	content := func(c openapi3.Content) {
		for _, mt := range c {
			walk(mt.Schema)
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				content(op.RequestBody.Value.Content)
			}
			for _, r := range op.Responses.Map() {
				if r.Value != nil {
					content(r.Value.Content)
				}
			}
		}
	}
	for _, ref := range doc.Components.Schemas {
		walk(ref)
	}
	refuse := false
	for _, s := range all {
		if len(s.Properties) > 0 && !open[s] && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			s.AdditionalProperties.Has = &refuse
		}
	}
}

// MustNew is New for one test, failing it when the document does not load.
func MustNew(t testing.TB) *Contract {
	t.Helper()
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
