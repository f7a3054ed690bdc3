package search_test

import (
	"context"
	"fmt"
	"testing"

	"yiwang/internal/search"
)

// benchDocs generates n catalogue items whose names combine a subject, an
// object and an action, e.g. 个体工商户营业执照变更登记, like a real catalogue.
func benchDocs(n int) []search.Doc {
	subjects := []string{"个人", "企业", "个体工商户", "外国人", "退役军人", "老年人", "残疾人", "应届毕业生", "农民专业合作社", "社会组织"}
	objects := []string{"营业执照", "居住证", "社会保险", "住房公积金", "医疗保险", "出生医学证明", "道路运输许可", "食品经营许可", "户口", "不动产权证", "税务", "养老金", "优待证", "建筑施工许可", "排污许可"}
	actions := []string{"设立登记", "变更登记", "注销", "遗失补领", "申领", "年度报告", "延续", "转移接续", "查询", "备案", "核验", "迁入", "提取", "减免", "认定"}
	depts := [][2]string{
		{"市场监督管理局", "Market Regulation Administration"}, {"公安局", "Public Security Bureau"},
		{"人力资源和社会保障局", "Human Resources and Social Security Bureau"}, {"住房公积金管理中心", "Housing Provident Fund Centre"},
		{"医疗保障局", "Healthcare Security Administration"}, {"卫生健康委员会", "Health Commission"},
		{"交通运输局", "Transport Bureau"}, {"民政局", "Civil Affairs Bureau"}, {"税务局", "Taxation Bureau"},
		{"自然资源和规划局", "Natural Resources and Planning Bureau"}, {"生态环境局", "Ecology and Environment Bureau"},
	}
	docs := make([]search.Doc, 0, n)
	for i := range n {
		s := subjects[i%len(subjects)]
		o := objects[(i/len(subjects))%len(objects)]
		a := actions[(i/(len(subjects)*len(objects)))%len(actions)]
		d := depts[(i/len(subjects))%len(depts)]
		docs = append(docs, search.Doc{
			Code:   fmt.Sprintf("BM-%05d", i),
			NameZh: s + o + a, NameEn: fmt.Sprintf("Item %d: %s", i, d[1]),
			DepartmentCode: fmt.Sprintf("d%02d", (i/len(subjects))%len(depts)),
			DepartmentZh:   d[0], DepartmentEn: d[1], Kind: "public_service",
			Keywords: []string{o, s, "办事指南"},
			FAQ: []string{
				"办理" + o + a + "需要哪些材料？", "身份证明、申请表及" + o + "相关材料。",
				"How long does it take?", "Ten working days after the application is accepted.",
			},
			Summary: s + "申请" + o + a + "的，向" + d[0] + "提交材料，符合条件的当场办结。",
		})
	}
	return docs
}

// BenchmarkSearch measures one search over a 2,000-item catalogue, cycling
// through a name word, a keyword, an English word and a miss.
func BenchmarkSearch(b *testing.B) {
	ix := newIndex(b, benchDocs(2000))
	queries := []string{"营业执照", "老人", "落户", "公积金提取", "senior", "火箭发射"}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := ix.Search(ctx, queries[i%len(queries)], search.DefaultLimit); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkReplace measures a rebuild of the index from 2,000 items.
func BenchmarkReplace(b *testing.B) {
	docs := benchDocs(2000)
	ix := newIndex(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		if err := ix.Replace(docs); err != nil {
			b.Fatal(err)
		}
	}
}
