package loadtest

import (
	"reflect"
	"testing"
)

// TestOneCallFillsOnlyWhatNoRegistryFills: without a draft, the one-call
// flow sends the required fields that have no prefill source and leaves
// the prefilled ones (name, ID number, phone) to the server.
func TestOneCallFillsOnlyWhatNoRegistryFills(t *testing.T) {
	src := func(s string) *struct {
		Source string `json:"source"`
	} {
		return &struct {
			Source string `json:"source"`
		}{s}
	}
	p := plan{fields: []field{
		{ID: "name", Type: "text", Required: true, Prefill: src("population.name")},
		{ID: "id_number", Type: "id_number", Required: true, Prefill: src("population.id_number")},
		{ID: "delivery", Type: "enum", Required: true, Options: []option{{"electronic"}, {"post"}}},
		{ID: "agree", Type: "bool", Required: true, Prefill: src("")},
	}}
	got := p.unsourced("910102196005121232")
	want := map[string]any{"delivery": "electronic", "agree": true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("unsourced = %v, want %v", got, want)
	}
	k := newOneCallKeys()
	if a, b := k.next(), k.next(); a == b {
		t.Errorf("two Idempotency-Keys alike: %s", a)
	}
}
