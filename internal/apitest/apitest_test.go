package apitest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"yiwang/internal/apitest"
)

// TestCheckNamesOperationFieldAndProblem: a field the document does not list,
// a field of the wrong type and an undocumented status each fail, worded
// with the operation and the field; a documented answer passes.
func TestCheckNamesOperationFieldAndProblem(t *testing.T) {
	c := apitest.MustNew(t)
	json := http.Header{"Content-Type": {"application/json"}}
	get := httptest.NewRequest("GET", "/api/v1/search/hot", nil)
	if err := c.Check(get, nil, 200, json, []byte(`{"hot":[{"query":"老人","count":3}]}`)); err != nil {
		t.Errorf("a documented answer: %v", err)
	}
	for body, want := range map[string]string{
		`{"hot":[],"extra":1}`:  `property "extra" is unsupported`,
		`{"hot":[{"query":7}]}`: "field /hot/0/query",
		`{"hot":"none"}`:        "field /hot",
	} {
		err := c.Check(get, nil, 200, json, []byte(body))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "hotWords") {
			t.Errorf("%s: %v, want it to name hotWords and %q", body, err, want)
		}
	}
	if err := c.Check(get, nil, 418, json, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "status is not supported") {
		t.Errorf("an undocumented status: %v", err)
	}
	// An internal failure need not be listed, but keeps the error shape.
	if err := c.Check(get, nil, 500, json, []byte(`{"error":{"code":"internal","message":"x","request_id":"r"}}`)); err != nil {
		t.Errorf("a 500 in the error shape: %v", err)
	}
	if err := c.Check(get, nil, 500, json, []byte(`{"oops":1}`)); err == nil {
		t.Error("a 500 outside the error shape passed")
	}
	// A request the document refuses must be refused.
	post := httptest.NewRequest("POST", "/api/v1/session", strings.NewReader(`{"login":1}`))
	post.Header.Set("Content-Type", "application/json")
	if err := c.Check(post, []byte(`{"login":1}`), 200, json, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "request outside the document") {
		t.Errorf("an invalid request answered 200: %v", err)
	}
	seen, unseen := c.Exercised()
	if len(seen) != 2 || len(unseen) == 0 {
		t.Errorf("exercised %v, %d not", seen, len(unseen))
	}
}
