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
