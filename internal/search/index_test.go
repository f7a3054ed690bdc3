package search_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/search"
)

// fixture is a small catalogue whose items overlap on purpose: 营业执照 is a
// name in one and a keyword in another, 落户 a name in one and a summary word
// in another, and 个体工商户 contains the character 户 of 落户.
var fixture = []search.Doc{
	{
		Code: "RS-0001", NameZh: "应届毕业生引进落户", NameEn: "Residence registration for new graduates",
		DepartmentCode: "rsj", DepartmentZh: "人力资源和社会保障局", DepartmentEn: "Human Resources and Social Security Bureau",
		Kind: "public_service", Keywords: []string{"户口", "人才引进"},
		FAQ:     []string{"应届毕业生需要哪些材料？", "毕业证书和就业协议。", "How long does it take?", "Ten working days."},
		Summary: "高校应届毕业生在本市就业的，可申请引进。",
	},
	{
		Code: "SJ-0001", NameZh: "个体工商户设立登记", NameEn: "Registration of an individually-owned business",
		DepartmentCode: "scjgj", DepartmentZh: "市场监督管理局", DepartmentEn: "Market Regulation Administration",
		Kind: "licensing", Keywords: []string{"营业执照", "开店", "business licence"},
	},
	{
		Code: "SJ-0002", NameZh: "营业执照遗失补领", NameEn: "Replacement of a lost business licence",
		DepartmentCode: "scjgj", DepartmentZh: "市场监督管理局", DepartmentEn: "Market Regulation Administration",
		Kind: "licensing",
	},
	{
		Code: "MZ-0003", NameZh: "老年人优待证办理", NameEn: "Senior Citizen Preferential Card",
		DepartmentCode: "mzj", DepartmentZh: "民政局", DepartmentEn: "Civil Affairs Bureau",
		Kind: "public_service", Keywords: []string{"老人", "敬老卡"},
	},
	{
		Code: "GA-0007", NameZh: "居住证办理", NameEn: "Residence permit",
		DepartmentCode: "gaj", DepartmentZh: "公安局", DepartmentEn: "Public Security Bureau",
		Kind: "public_service", Summary: "持居住证满规定年限的，可申请落户。",
	},
	{
		Code: "SW-0001", NameZh: "税务登记", NameEn: "Tax registration",
		DepartmentCode: "swj", DepartmentZh: "税务局", DepartmentEn: "Taxation Bureau",
		Kind: "licensing",
	},
}

func newIndex(t testing.TB, docs []search.Doc) *search.Index {
	t.Helper()
	ix, err := search.NewIndex()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	if err := ix.Replace(docs); err != nil {
		t.Fatal(err)
	}
	return ix
}

func codes(hits []search.Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Code)
	}
	return out
}

func TestSearchFindsItemsByNameKeywordAndEnglish(t *testing.T) {
	ix := newIndex(t, fixture)
	tests := []struct {
		name  string
		query string
		want  []string // exactly these codes, in this order
	}{
		{"two characters of a name", "落户", []string{"RS-0001", "GA-0007"}},
		{"keyword finds an item whose name lacks the word; name match first", "营业执照", []string{"SJ-0002", "SJ-0001"}},
		{"colloquial keyword", "老人", []string{"MZ-0003"}},
		{"English name, any case", "senior", []string{"MZ-0003"}},
		{"English plural is stemmed", "Senior citizens", []string{"MZ-0003"}},
		{"English keyword; name match first", "licence", []string{"SJ-0002", "SJ-0001"}},
		{"one character", "税", []string{"SW-0001"}},
		{"characters not adjacent in the name", "老人证", []string{"MZ-0003"}},
		{"department", "民政局", []string{"MZ-0003"}},
		{"item code", "sj-0001", []string{"SJ-0001"}},
		{"unrelated word", "火箭发射", nil},
		{"only punctuation", "？！", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits, err := ix.Search(context.Background(), tt.query, 10)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(codes(hits), ","); got != strings.Join(tt.want, ",") {
				t.Errorf("Search(%q) = [%s], want [%s]", tt.query, got, strings.Join(tt.want, ","))
			}
			for i, h := range hits {
				if h.Score <= 0 || (i > 0 && h.Score > hits[i-1].Score) {
					t.Errorf("hit %d %s has score %v after %v", i, h.Code, h.Score, hits[max(i-1, 0)].Score)
				}
			}
		})
	}
}

func TestSearchRanksNameOverKeywordOverDepartmentOverText(t *testing.T) {
	// 公积金 appears in exactly one field of each item.
	ix := newIndex(t, []search.Doc{
		{Code: "summary", NameZh: "购房补贴申请", DepartmentZh: "住房保障局", Summary: "已缴存公积金的职工可申请。"},
		{Code: "faq", NameZh: "租房补贴申请", DepartmentZh: "住房保障局", FAQ: []string{"可以同时申请公积金吗？", "可以。"}},
		{Code: "department", NameZh: "住房补贴申请", DepartmentZh: "住房公积金管理中心"},
		{Code: "keyword", NameZh: "购房贷款申请", DepartmentZh: "住房保障局", Keywords: []string{"公积金", "房贷"}},
		{Code: "name", NameZh: "公积金贷款申请", DepartmentZh: "住房保障局"},
	})
	hits, err := ix.Search(context.Background(), "公积金", 10)
	if err != nil {
		t.Fatal(err)
	}
	got := codes(hits)
	if len(got) != 5 || got[0] != "name" || got[1] != "keyword" || got[2] != "department" {
		t.Errorf("order = %v, want name, keyword, department, then faq and summary", got)
	}
}

func TestSearchHitCarriesNamesAndDepartment(t *testing.T) {
	ix := newIndex(t, fixture)
	hits, err := ix.Search(context.Background(), "老人", 10)
	if err != nil || len(hits) != 1 {
		t.Fatalf("hits %v, err %v", hits, err)
	}
	h := hits[0]
	h.Score = 0
	want := search.Hit{Code: "MZ-0003", NameZh: "老年人优待证办理", NameEn: "Senior Citizen Preferential Card", DepartmentZh: "民政局", DepartmentEn: "Civil Affairs Bureau"}
	if h != want {
		t.Errorf("hit = %+v, want %+v", h, want)
	}
}

func TestSearchRefusesEmptyAndOverlongQueries(t *testing.T) {
	ix := newIndex(t, fixture)
	tests := []struct {
		name, query, code string
	}{
		{"empty", "", "empty_query"},
		{"blanks", " \t ", "empty_query"},
		{"ideographic space", "\u3000", "empty_query"},
		{"101 characters", strings.Repeat("落", 101), "query_too_long"},
		{"100 characters", strings.Repeat("落", 100), ""},
		{"100 characters after collapsing spaces", "落   " + strings.Repeat("户", 98), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ix.Search(context.Background(), tt.query, 10)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			e := apperr.As(err)
			if e == nil || e.Kind != apperr.Invalid || e.Code != apperr.Code(tt.code) || e.Message == "" {
				t.Errorf("err = %#v, want invalid %s", err, tt.code)
			}
		})
	}
}

func TestSearchLimit(t *testing.T) {
	ix := newIndex(t, fixture)
	for _, tt := range []struct{ limit, want int }{{1, 1}, {0, 2}, {-5, 2}, {1000, 2}} {
		hits, err := ix.Search(context.Background(), "营业执照", tt.limit)
		if err != nil || len(hits) != tt.want {
			t.Errorf("limit %d: %d hits (err %v), want %d", tt.limit, len(hits), err, tt.want)
		}
	}
}

func TestReplaceHoldsExactlyTheNewDocs(t *testing.T) {
	ctx := context.Background()
	ix, err := search.NewIndex()
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if hits, err := ix.Search(ctx, "落户", 10); err != nil || len(hits) != 0 {
		t.Fatalf("empty index: %v %v", hits, err)
	}
	if err := ix.Replace(fixture); err != nil {
		t.Fatal(err)
	}
	if err := ix.Replace(fixture[1:2]); err != nil {
		t.Fatal(err)
	}
	if hits, _ := ix.Search(ctx, "落户", 10); len(hits) != 0 {
		t.Errorf("after replacing, 落户 still finds %v", codes(hits))
	}
	if hits, _ := ix.Search(ctx, "营业执照", 10); strings.Join(codes(hits), ",") != "SJ-0001" {
		t.Errorf("after replacing, 营业执照 finds %v", codes(hits))
	}

	// A bad batch is refused and the index keeps what it had.
	for _, tt := range []struct {
		code string
		docs []search.Doc
	}{
		{"duplicate_code", []search.Doc{fixture[0], fixture[0]}},
		{"doc_without_code", []search.Doc{{NameZh: "无编码事项"}}},
	} {
		err := ix.Replace(tt.docs)
		if e := apperr.As(err); e == nil || e.Code != apperr.Code(tt.code) {
			t.Errorf("Replace: err = %v, want %s", err, tt.code)
		}
	}
	if hits, _ := ix.Search(ctx, "营业执照", 10); len(hits) != 1 {
		t.Errorf("after a refused Replace, 营业执照 finds %v", codes(hits))
	}

	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Search(ctx, "落户", 10); !apperr.Is(err, apperr.Unavailable) {
		t.Errorf("search after Close: err = %v", err)
	}
}

// Searches running while Replace swaps indexes must neither fail nor see a
// half-built index: each sees the old catalogue or the new one.
func TestSearchDuringReplace(t *testing.T) {
	ix := newIndex(t, fixture)
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 8)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				hits, err := ix.Search(ctx, "营业执照", 10)
				if err != nil {
					errs <- err
					return
				}
				if n := len(hits); n != 1 && n != 2 {
					errs <- fmt.Errorf("营业执照 found %d items mid-Replace, want 1 or 2", n)
					return
				}
			}
		})
	}
	for i := range 20 {
		docs := fixture
		if i%2 == 0 {
			docs = fixture[2:]
		}
		if err := ix.Replace(docs); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
