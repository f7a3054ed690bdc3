package application_test

import (
	"encoding/json"
	"testing"
	"time"

	"yiwang/internal/application"
	"yiwang/internal/catalog"
	"yiwang/internal/ident"
)

// FuzzCheckValue feeds form value checking any field definition and any JSON
// value: it never panics, a refusal is worded in both languages, and a value
// it accepts has the Go type and form its field's type promises.
func FuzzCheckValue(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"type":"text","validation":{"min_length":2,"max_length":5,"pattern":"^[a-z]+$"}}`, `"abc"`},
		{`{"type":"number","validation":{"min":0,"max":100}}`, `42`},
		{`{"type":"number"}`, `"42"`},
		{`{"type":"bool"}`, `true`},
		{`{"type":"table"}`, `[{"a":1}]`},
		{`{"type":"date"}`, `"2026-02-29"`},
		{`{"type":"enum","options":[{"value":"a"},{"value":"b"}]}`, `"b"`},
		{`{"type":"id_number"}`, `"11010519491231002x"`},
		{`{"type":"id_number"}`, `"１１０１０５１９４９１２３１００２Ｘ"`},
		{`{"type":"credit_code"}`, `"91350100M000100Y43"`},
		{`{"type":"phone"}`, `"13800000000"`},
		{`{"type":"text","validation":{"pattern":"("}}`, `"x"`},
		{`{"type":"text"}`, `null`},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, field, value string) {
		var fd catalog.Field
		var v any
		if json.Unmarshal([]byte(field), &fd) != nil || json.Unmarshal([]byte(value), &v) != nil {
			return
		}
		if w := application.CheckValue(fd, v); w != nil {
			if w.Zh == "" || w.En == "" {
				t.Fatalf("refusal of %s for %s is not worded in both languages: %+v", value, field, *w)
			}
			return
		}
		var ok bool
		switch fd.Type {
		case "number":
			_, ok = v.(float64)
		case "bool":
			_, ok = v.(bool)
		case "table":
			_, ok = v.([]any)
		default:
			var s string
			if s, ok = v.(string); !ok {
				break
			}
			switch fd.Type {
			case "date":
				_, err := time.Parse(time.DateOnly, s)
				ok = err == nil
			case "id_number":
				_, err := ident.ParseIDNumber(ident.NormalizeIDNumber(s))
				ok = err == nil
			case "credit_code":
				ok = ident.ValidateCreditCode(s) == nil
			}
		}
		if !ok {
			t.Fatalf("accepted %s for %s", value, field)
		}
	})
}
