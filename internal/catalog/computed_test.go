package catalog_test

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"yiwang/internal/catalog"
)

// TestComputedFieldChecks: a computed field is read from YAML with its
// expression and note, and what cannot be computed is refused where it is
// written: beside a prefill, on a table or file field, on a table column,
// or with an expression that does not parse.
func TestComputedFieldChecks(t *testing.T) {
	seed, err := os.ReadFile("../../catalog/items/civil/senior_card.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const anchor = "form:\n"
	if !strings.Contains(string(seed), anchor) {
		t.Fatal("the senior card has no form")
	}
	fsys := fstest.MapFS{}
	for _, name := range []string{"departments.yaml", "licences.yaml"} {
		b, err := os.ReadFile("../../catalog/" + name)
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: b}
	}
	// load loads a catalogue of the senior card with field first in its form.
	load := func(field string) (*catalog.Catalogue, []catalog.Problem) {
		fsys["items/senior_card.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(string(seed), anchor, anchor+field, 1))}
		return schemas(t).LoadFS(fsys)
	}

	c, problems := load(`  - id: band
    label: {zh: 档次}
    type: text
    computed: {expr: 'applicant.age >= 70 ? "70岁以上" : "60至69岁"', note: {zh: 按年龄确定。, en: By age.}}
`)
	if len(problems) > 0 || len(c.Items) != 1 {
		t.Fatalf("a computed text field: %v", problems)
	}
	if f := c.Items[0].Form[0]; f.Computed == nil || !strings.Contains(f.Computed.Expr, "applicant.age") || f.Computed.Note == nil || f.Computed.Note.En != "By age." {
		t.Errorf("computed field read as %+v", f)
	}

	for _, tt := range []struct{ name, field, want string }{
		{"beside a prefill", "  - {id: band, label: {zh: 档次}, type: text, prefill: {source: population.name}, computed: {expr: '\"A\"'}}\n", "either computed or prefilled"},
		{"on a file field", "  - {id: band, label: {zh: 档次}, type: file, computed: {expr: '\"A\"'}}\n", "a file field cannot be computed"},
		{"on a table column", "  - {id: rows, label: {zh: 表}, type: table, columns: [{id: c, label: {zh: 列}, type: text, computed: {expr: '\"A\"'}}]}\n", "table column cannot be computed"},
		{"an expression that does not parse", "  - {id: band, label: {zh: 档次}, type: text, computed: {expr: 'applicant.age >='}}\n", "rule expression"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := load(tt.field)
			var all []string
			for _, p := range problems {
				all = append(all, p.String())
			}
			if len(problems) == 0 || !strings.Contains(strings.Join(all, "\n"), tt.want) {
				t.Errorf("problems %q; want one mentioning %q", all, tt.want)
			}
		})
	}
}
