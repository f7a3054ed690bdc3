package httpconn_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// Check reports how an answer breaks the contract, in one attempt, without
// the breaker, and never with a secret in what it says.
func TestCheckReportsEachBreachOnce(t *testing.T) {
	for _, c := range []struct {
		name  string
		known bool
		reply func(w http.ResponseWriter)
		want  []string // substrings, one per problem; none for a kept contract
	}{
		{"404 for a subject it does not hold", false, func(w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound) }, nil},
		{"404 for the subject given", true, func(w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound) },
			[]string{"HTTP 404 for the subject given with --subject"}},
		{"a system that fails", true, func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) },
			[]string{"HTTP 503: want HTTP 200 with the record, or 404"}},
		{"credentials refused", false, func(w http.ResponseWriter) { w.WriteHeader(http.StatusUnauthorized) },
			[]string{"HTTP 401: the system refused our credentials"}},
		{"not an object", true, func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`["a"]`))
		},
			[]string{"want a JSON object, got an array"}},
		{"not JSON", true, func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(`<html>`))
		}, []string{`Content-Type is "text/html"`, "malformed JSON"}},
		{"nulls, a nested null and a secret echoed back", true, func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"xm": null, "csrq": "1960-03-15", "hukou": null, "spouse": {"name": null}, "children": 2, "alive": true,
				"id_number": null, "gender": "` + personKey + `", "ethnicity": null, "address": null, "phone": null, "household": null,
				"household_status": "normal", "residence_region": null, "marital_status": "married", "spouse_id_number": null,
				"death_date": null, "no_criminal_record": true, "drug_record": false, "parents_ethnicity": null, "birth_event": null, "parent_id_numbers": null}`))
		}, []string{`field gender: "***" is not one of male, female`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fx := newFixture(t, func(_ int64, w http.ResponseWriter, _ *http.Request) { c.reply(w) }, nil)
			got := fx.conn.Check(context.Background(), "population", person, c.known)
			if len(got) != len(c.want) {
				t.Fatalf("Check = %q, want %d problem(s) %q", got, len(c.want), c.want)
			}
			for i, w := range c.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want %q", i, got[i], w)
				}
				checkNoSecrets(t, "problem", got[i])
			}
			if n := fx.hits.Load(); n != 1 {
				t.Errorf("%d calls, want one attempt", n)
			}
			if s := fx.conn.State("population"); s != "closed" {
				t.Errorf("the breaker is %s after a check", s)
			}
		})
	}
}
