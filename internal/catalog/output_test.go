package catalog_test

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

// TestOutputNamesWhatExists: an item's output may name the co-party who
// holds its licence and the licence it cancels or supersedes; a role the
// item lacks, an undeclared type, a supersession with nothing issued, a
// person's role holding an enterprise's licence, or an output that does
// nothing are refused where they are written.
func TestOutputNamesWhatExists(t *testing.T) {
	item, err := os.ReadFile("../../catalog/items/realestate/property_transfer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const demo = "output: {licence: real_estate_certificate, holder: buyer, supersedes: real_estate_certificate}"
	if !strings.Contains(string(item), demo) {
		t.Fatalf("the demo property transfer no longer has %q", demo)
	}
	files := fstest.MapFS{}
	for _, name := range []string{"departments.yaml", "licences.yaml"} {
		b, err := os.ReadFile("../../catalog/" + name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = &fstest.MapFile{Data: b}
	}
	for _, c := range []struct{ output, want string }{
		{demo, ""},
		{"output: {cancels: real_estate_certificate}", ""},
		{"output: {licence: real_estate_certificate, holder: notary}", `holder "notary" is not one of the item's party roles`},
		{"output: {licence: business_licence, holder: buyer}", `licence type "business_licence" is held by an enterprise`},
		{"output: {licence: real_estate_certificate, supersedes: unicorn}", `licence type "unicorn" is not declared`},
		{"output: {cancels: unicorn}", `licence type "unicorn" is not declared`},
		{"output: {cancels: real_estate_certificate, supersedes: real_estate_certificate}", "a superseded licence needs the licence that replaces it"},
		{"output: {validity_years: 5}", "output"},
	} {
		files["items/property_transfer.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(string(item), demo, c.output, 1))}
		_, problems := schemas(t).LoadFS(files)
		var got []string
		for _, p := range problems {
			got = append(got, p.String())
		}
		switch {
		case c.want == "" && len(got) > 0:
			t.Errorf("%s: refused: %v", c.output, got)
		case c.want != "" && !strings.Contains(strings.Join(got, "\n"), c.want):
			t.Errorf("%s: problems %v, want one saying %q", c.output, got, c.want)
		}
	}
}
