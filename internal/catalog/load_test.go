package catalog_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"yiwang/internal/catalog"
)

var update = flag.Bool("update", false, "rewrite golden files")

func schemas(t testing.TB) *catalog.Schemas {
	t.Helper()
	s, err := catalog.CompileSchemas()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDemoCatalogueIsValid keeps the bundled demo catalogue loadable.
func TestDemoCatalogueIsValid(t *testing.T) {
	c, problems := schemas(t).LoadFS(os.DirFS("../../catalog"))
	for _, p := range problems {
		t.Error(p)
	}
	if len(c.Items) == 0 {
		t.Fatal("demo catalogue has no items")
	}
}

// TestProblemsPointIntoTheFile checks every kind of problem against a golden
// list of file:line:col: message lines. Run with -update after a deliberate change.
func TestProblemsPointIntoTheFile(t *testing.T) {
	_, problems := schemas(t).LoadFS(os.DirFS("testdata/bad"))
	var b strings.Builder
	for _, p := range problems {
		b.WriteString(p.String() + "\n")
	}
	golden := "testdata/bad.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("problems differ from %s (run go test -update if intended):\n%s", golden, b.String())
	}
}

func FuzzParseItem(f *testing.F) {
	seed, err := os.ReadFile("../../catalog/items/civil/senior_card.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	for _, name := range []string{"structure", "semantics", "notyaml"} {
		b, _ := os.ReadFile("testdata/bad/items/" + name + ".yaml")
		f.Add(b)
	}
	f.Add([]byte("a: &x [*x, *x]\n"))
	f.Add([]byte("- - - - - - - -\n"))
	f.Add([]byte("code: !!binary aGVsbG8=\n"))
	s := schemas(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		item, problems := s.ParseItem("fuzz.yaml", data)
		if item == nil && len(problems) == 0 {
			t.Fatal("rejected an item without saying why")
		}
		for _, p := range problems {
			if p.Line < 1 || p.Col < 1 || p.Message == "" {
				t.Fatalf("problem without a place or message: %+v", p)
			}
		}
	})
}
