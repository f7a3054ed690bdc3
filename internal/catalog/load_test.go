package catalog_test

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

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
// list of file:line:col: message lines, each followed by its Chinese. Run
// with -update after a deliberate change.
func TestProblemsPointIntoTheFile(t *testing.T) {
	_, problems := schemas(t).LoadFS(os.DirFS("testdata/bad"))
	var b strings.Builder
	for _, p := range problems {
		b.WriteString(p.String() + "\n\t" + p.Zh + "\n")
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
			if p.Line < 1 || p.Col < 1 || p.Message == "" || p.Zh == "" {
				t.Fatalf("problem without a place or message: %+v", p)
			}
		}
	})
}

// TestDemoCatalogueCoversTheNation checks the demo catalogue shows what the
// platform handles: every kind and approval mode, enough items and
// departments, and the items the walkthroughs and browser tests rely on.
func TestDemoCatalogueCoversTheNation(t *testing.T) {
	c, problems := schemas(t).LoadFS(os.DirFS("../../catalog"))
	if len(problems) > 0 {
		t.Fatalf("demo catalogue has problems, first: %v", problems[0])
	}
	kinds, modes, depts, names := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, it := range c.Items {
		if !it.Demo {
			t.Errorf("%s is not marked demo: true", it.File)
		}
		kinds[it.Kind] = true
		modes[it.Approval.Mode] = true
		depts[it.Department] = true
		names[it.Name.Zh] = true
	}
	if len(c.Items) < 30 || len(depts) < 8 {
		t.Errorf("demo catalogue has %d items over %d departments, want at least 30 over 8", len(c.Items), len(depts))
	}
	for k := range catalog.Kinds {
		if !kinds[k] {
			t.Errorf("no demo item of kind %s", k)
		}
	}
	for _, m := range []string{"auto", "commitment", "filing", "manual"} {
		if !modes[m] {
			t.Errorf("no demo item with approval mode %s", m)
		}
	}
	for _, want := range []string{"老年人优待证", "高龄津贴", "应届毕业生引进落户", "网约车驾驶员证", "个体工商户设立登记", "食品经营许可证注销",
		"房屋租赁登记备案", "无房证明", "新车号牌自选", "户口迁", "户籍信息变更", "户口注销", "小餐饮", "建筑业企业资质", "施工图审查备案",
		"企业投资项目备案", "企业设立登记", "刻章备案", "发票", "社会保险登记", "医保", "住房公积金缴存登记", "银行开户", "不动产转移登记",
		"建设工程规划许可", "出生医学证明", "生育登记", "残疾人证", "食品", "环境", "药品"} {
		found := false
		for n := range names {
			if strings.Contains(n, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("the demo catalogue has no item named like %q", want)
		}
	}
}

// TestManualRoutes checks where a machine item's manual cases go: the demo
// catalogue routes every one; an item without a route loads with a
// warning at its approval; a route to an undeclared hall, or on an item
// a person decides anyway, is a problem.
func TestManualRoutes(t *testing.T) {
	s := schemas(t)
	demo, problems := s.LoadFS(os.DirFS("../../catalog"))
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	for _, w := range demo.Warnings {
		t.Errorf("the demo catalogue has a warning: %s", w)
	}
	card, err := os.ReadFile("../../catalog/items/civil/elderly_allowance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const route = ", manual: {hall: fuan-street, role: reviewer, days: 5}}"
	if !strings.Contains(string(card), route) {
		t.Fatalf("elderly_allowance.yaml no longer routes to the Fu'an street hall as %q", route)
	}
	load := func(t *testing.T, item string) (*catalog.Catalogue, []catalog.Problem) {
		t.Helper()
		fsys := fstest.MapFS{"items/elderly_allowance.yaml": {Data: []byte(item)}}
		for _, f := range []string{catalog.DepartmentsFile, catalog.LicencesFile} {
			b, err := os.ReadFile("../../catalog/" + f)
			if err != nil {
				t.Fatal(err)
			}
			fsys[f] = &fstest.MapFile{Data: b}
		}
		return s.LoadFS(fsys)
	}

	t.Run("none", func(t *testing.T) {
		c, problems := load(t, strings.Replace(string(card), route, "}", 1))
		if len(problems) > 0 {
			t.Fatalf("a missing route stops the catalogue: %v", problems)
		}
		if len(c.Warnings) != 1 || !c.Warnings[0].Warning || !strings.Contains(c.Warnings[0].Message, "approval.manual") || !strings.Contains(c.Warnings[0].Zh, "approval.manual") {
			t.Fatalf("warnings = %v, want one about approval.manual", c.Warnings)
		}
		at := fmt.Sprintf("items/elderly_allowance.yaml:%d:11: warning: ", 1+strings.Count(string(card[:strings.Index(string(card), "\napproval:")+1]), "\n"))
		if w := c.Warnings[0].String(); !strings.HasPrefix(w, at) {
			t.Errorf("the warning reads %q, not at the item's approval (%s)", w, at)
		}
	})
	for name, tt := range map[string]struct{ from, to, want string }{
		"unknown hall":  {route, ", manual: {hall: nowhere, role: reviewer, days: 5}}", `hall "nowhere" is not declared under halls`},
		"unknown dept":  {route, ", manual: {department: nowhere, role: reviewer, days: 5}}", `department "nowhere" is not declared`},
		"hall and dept": {route, ", manual: {hall: fuan-street, department: civil, role: reviewer, days: 5}}", "oneOf"},
		"clerk":         {route, ", manual: {hall: fuan-street, role: clerk, days: 5}}", "reviewer"},
		"same day":      {route, ", manual: {hall: fuan-street, role: reviewer, days: 0}}", "minimum"},
		"past the law":  {route, ", manual: {hall: fuan-street, role: reviewer, days: 21}}", "exceed the statutory 20"},
		"not a machine": {"mode: auto, sample_percent: 2,", "mode: manual,", "applies to machine approval only"},
	} {
		t.Run(name, func(t *testing.T) {
			_, problems := load(t, strings.Replace(string(card), tt.from, tt.to, 1))
			if !slices.ContainsFunc(problems, func(p catalog.Problem) bool { return strings.Contains(p.Message, tt.want) && !p.Warning }) {
				t.Errorf("problems = %v, want one saying %q", problems, tt.want)
			}
		})
	}
}

// TestBundleChecks: a bundle naming an item the catalogue lacks, members in
// a cycle, a condition on a situation it does not declare and acts_for on a
// member it does not come after are each reported at their line.
func TestBundleChecks(t *testing.T) {
	fsys := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS("../../catalog"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		b, err := os.ReadFile("../../catalog/" + p)
		fsys[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	fsys["bundles/bad.yaml"] = &fstest.MapFile{Data: []byte(`code: bad
name: {zh: 坏的一件事}
target: person
summary: {zh: 测试}
time_limit: {promised_days: 1}
situations:
  - id: want
    question: {zh: 要吗？}
    answers: [{value: "yes", label: {zh: 要}}, {value: "no", label: {zh: 不要}}]
members:
  - id: one
    item: 11910102MB0001111L-01-00004
    after: [two]
  - id: two
    item: 11910102MB0001111L-01-00004
    after: [one]
    when: {want: ["yes"]}
  - id: ghost
    item: 11910102MB0001111L-01-09999
  - id: odd
    item: 11910102MB0001037K-10-00005
    when: {no_such: ["yes"]}
    acts_for: one
`)}
	_, problems := schemas(t).LoadFS(fsys)
	var got []string
	for _, p := range problems {
		if p.File == "bundles/bad.yaml" {
			got = append(got, fmt.Sprintf("%d: %s", p.Line, p.Message))
		}
	}
	for _, want := range []string{"19: item 11910102MB0001111L-01-09999 is not in the catalogue", "13: the members' order has a cycle: one → two → one", "22: the condition names situation \"no_such\"", "23: acts_for must be one of the members this one comes after"} {
		want = strings.ReplaceAll(want, `\"`, `"`)
		if !slices.ContainsFunc(got, func(m string) bool { return strings.Contains(m, want) }) {
			t.Errorf("no problem says %q; got %q", want, got)
		}
	}
}
