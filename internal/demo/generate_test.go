package demo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	democatalog "yiwang/catalog"
	"yiwang/internal/catalog"
	"yiwang/internal/demo"
	"yiwang/internal/hub"
	"yiwang/internal/ident"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// testDay is the day the tests generate for: a fixed past day, so that
// every birth date it implies is in the past whenever the tests run.
var testDay = time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)

func newGenerator(t testing.TB, persons, enterprises int, seed uint64, day time.Time) *demo.Generator {
	t.Helper()
	g, err := demo.NewGenerator(persons, enterprises, seed, day)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func protector(t testing.TB) *pii.Protector {
	t.Helper()
	s, err := pii.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := pii.ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pii.NewProtector(k)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewGeneratorRefusesBadSizes(t *testing.T) {
	tests := []struct {
		persons, enterprises int
		want                 string // "" if accepted
	}{
		{0, 0, ""},
		{demo.MaxGenerated, demo.MaxGenerated, ""},
		{-1, 0, "persons must be between 0 and 10,000,000, not -1"},
		{demo.MaxGenerated + 1, 0, "persons must be between 0 and 10,000,000"},
		{5, -3, "enterprises must be between 0 and 10,000,000, not -3"},
	}
	for _, tt := range tests {
		_, err := demo.NewGenerator(tt.persons, tt.enterprises, 1, testDay)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("NewGenerator(%d, %d) = %v, want %q", tt.persons, tt.enterprises, err, tt.want)
		}
	}
}

func TestGenerationIsDeterministic(t *testing.T) {
	a := newGenerator(t, 2000, 200, 7, testDay)
	same := newGenerator(t, 2000, 200, 7, testDay.Add(15*time.Hour)) // the same day, later
	other := newGenerator(t, 2000, 200, 8, testDay)
	tests := []struct {
		name string
		make func(g *demo.Generator) []demo.Entry
	}{
		{"person 0", func(g *demo.Generator) []demo.Entry { return g.Person(0) }},
		{"person 1", func(g *demo.Generator) []demo.Entry { return g.Person(1) }},
		{"person 977", func(g *demo.Generator) []demo.Entry { return g.Person(977) }},
		{"person 1999", func(g *demo.Generator) []demo.Entry { return g.Person(1999) }},
		{"enterprise 0", func(g *demo.Generator) []demo.Entry { return g.Enterprise(0) }},
		{"enterprise 199", func(g *demo.Generator) []demo.Entry { return g.Enterprise(199) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, y, z := tt.make(a), tt.make(same), tt.make(other)
			if !reflect.DeepEqual(x, y) {
				t.Errorf("the same seed gave different records:\n%v\n%v", x, y)
			}
			if reflect.DeepEqual(x[0].Record, z[0].Record) {
				t.Errorf("seeds 7 and 8 gave the same %s record: %v", x[0].Source, x[0].Record)
			}
		})
	}
	if !reflect.DeepEqual(a.Demo(), other.Demo()) {
		t.Error("the demo people's records depend on the seed")
	}
}

// world is every record of a generation, by source and subject key.
type world struct {
	g       *demo.Generator
	records map[string]map[string]hub.Record
	persons []string // ID numbers in order
	firms   []string // credit codes in order
}

func generate(t testing.TB, persons, enterprises int, seed uint64, day time.Time) world {
	t.Helper()
	w := world{g: newGenerator(t, persons, enterprises, seed, day), records: map[string]map[string]hub.Record{}}
	put := func(entries []demo.Entry) {
		for _, e := range entries {
			if w.records[e.Source] == nil {
				w.records[e.Source] = map[string]hub.Record{}
			}
			if _, dup := w.records[e.Source][e.Subject.Key]; dup {
				t.Fatalf("two %s records for %s", e.Source, e.Subject.Key)
			}
			w.records[e.Source][e.Subject.Key] = e.Record
		}
	}
	put(w.g.Demo())
	for i := range persons {
		entries := w.g.Person(i)
		w.persons = append(w.persons, entries[0].Subject.Key)
		put(entries)
	}
	for j := range enterprises {
		entries := w.g.Enterprise(j)
		w.firms = append(w.firms, entries[0].Subject.Key)
		put(entries)
	}
	return w
}

func TestIdentifiersAreValidAndUnique(t *testing.T) {
	w := generate(t, 20000, 2000, 1, testDay)
	seen := map[string]bool{demo.ZhangSan: true, demo.LiSi: true, demo.WangWu: true, demo.DemoCompany: true}
	for _, id := range w.persons {
		p, err := ident.ParseIDNumber(id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if seen[id] {
			t.Fatalf("ID number %s given twice (or to a demo person)", id)
		}
		seen[id] = true
		pop := w.records["population"][id]
		if p.Region != "910102" || pop["gender"] != p.Sex || pop["birth_date"] != p.BirthDate.Format("2006-01-02") {
			t.Errorf("%s: region %s, record says %s born %s, the number %s born %s", id, p.Region, pop["gender"], pop["birth_date"], p.Sex, p.BirthDate.Format("2006-01-02"))
		}
	}
	for _, code := range w.firms {
		if err := ident.ValidateCreditCode(code); err != nil {
			t.Fatalf("%s: %v", code, err)
		}
		if seen[code] {
			t.Fatalf("credit code %s given twice (or is the demo company's)", code)
		}
		seen[code] = true
		if !strings.HasPrefix(code, "91910102") {
			t.Errorf("credit code %s is not an enterprise of the demo district", code)
		}
	}

	// At the largest size the scheme allows, persons sharing a sequence code
	// still differ, as do enterprises.
	big := newGenerator(t, demo.MaxGenerated, demo.MaxGenerated, 1, testDay)
	ids := map[string]int{}
	for _, r := range []int{0, 1, 2, 3, 4, 5, 500, 991} {
		for i := r; i < demo.MaxGenerated; i += 992 * 7 {
			id := big.Person(i)[0].Subject.Key
			if j, dup := ids[id]; dup {
				t.Fatalf("persons %d and %d have the same ID number %s", j, i, id)
			}
			if _, err := ident.ParseIDNumber(id); err != nil {
				t.Fatalf("person %d: %s: %v", i, id, err)
			}
			ids[id] = i
		}
	}
	codes := map[string]int{}
	for j := 0; j < demo.MaxGenerated; j += 997 {
		code := big.Enterprise(j)[0].Subject.Key
		if k, dup := codes[code]; dup {
			t.Fatalf("enterprises %d and %d have the same credit code %s", k, j, code)
		}
		codes[code] = j
	}
}

func TestRecordsAgreeAcrossSources(t *testing.T) {
	w := generate(t, 20000, 2000, 3, testDay)
	today := w.g.Today()
	cat := loadCatalogue(t)
	pop, credit := w.records["population"], w.records["credit"]
	firms := w.records["enterprise"]
	date := func(v any) time.Time {
		t.Helper()
		d, err := time.Parse("2006-01-02", v.(string))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	ageOn := func(id string, day time.Time) int {
		p, _ := ident.ParseIDNumber(id)
		return p.AgeOn(day)
	}
	eighteenth := func(id string) time.Time {
		p, _ := ident.ParseIDNumber(id)
		return p.BirthDate.AddDate(18, 0, 0)
	}
	count := map[string]int{}
	for _, id := range w.persons {
		p := pop[id]
		age := ageOn(id, today)
		cm, ok := cat.communities[p["residence_region"].(string)]
		if !ok || !strings.HasPrefix(p["household_region"].(string), "910102") {
			t.Fatalf("%s lives in %v, registered in %v: not communities of the demo district", id, p["residence_region"], p["household_region"])
		}
		if addr := p["address"].(string); !strings.HasPrefix(addr, "示范市明德区"+cm) {
			t.Errorf("%s lives in %s but the address is %s", id, cm, addr)
		}
		if p["alive"] == false {
			count["deceased"]++
			if d := date(p["death_date"]); !d.Before(today) || p["household_status"] != "cancelled" {
				t.Errorf("%s died on %v, household %v", id, p["death_date"], p["household_status"])
			}
			for source, recs := range w.records {
				if _, has := recs[id]; has && source != "population" {
					t.Errorf("%s is deceased but has a %s record", id, source)
				}
			}
			continue
		}
		card, hasCard := w.records["licence.resident_id_card"][id]
		if hasCard != (age >= 16) || hasCard && (card["number"] != id || card["name"] != nil && card["name"] != p["name"]) {
			t.Errorf("%s is %d with identity card %v", id, age, card)
		}
		if hasCard {
			if exp, ok := card["expiry_date"].(string); ok && !date(exp).After(today) {
				t.Errorf("%s's identity card expired on %s", id, exp)
			}
		}
		if reg := w.records["licence.household_register"][id]; reg == nil || reg["number"] != p["household"] {
			t.Errorf("%s of household %v has household register %v", id, p["household"], reg)
		}
		if s, ok := p["spouse_id_number"].(string); ok {
			q := pop[s]
			if q == nil || q["spouse_id_number"] != id || q["spouse_name"] != p["name"] || q["gender"] == p["gender"] {
				t.Fatalf("%s's spouse %s does not point back: %v", id, s, q)
			}
			if p["marital_status"] == "married" && q["alive"] == true && q["marital_status"] != "married" {
				t.Errorf("%s is married to %s, who is %v", id, s, q["marital_status"])
			}
			if p["marital_status"] == "widowed" && q["alive"] != false {
				t.Errorf("%s is widowed but the spouse %s is alive", id, s)
			}
			if p["household"] != q["household"] || p["address"] != q["address"] {
				t.Errorf("spouses %s and %s live apart", id, s)
			}
			count["married"]++
		} else if p["marital_status"] == "married" {
			t.Errorf("%s is married to nobody", id)
		}
		if age < 18 {
			if _, has := credit[id]; has {
				t.Errorf("%s is %d and has a credit record", id, age)
			}
			continue
		}
		c := credit[id]
		if c == nil {
			t.Fatalf("adult %s has no credit record", id)
		}
		count["adults"]++
		if c["blacklisted"] == true {
			count["blacklisted"]++
			if c["level"] != "D" || c["records"].(int) < 1 {
				t.Errorf("%s is blacklisted with %v", id, c)
			}
		}
		if c["level"] == "A" || c["level"] == "B" {
			count["A or B"]++
		}
		if e := w.records["education"][id]; e != nil && e["enrolled"] == false {
			graduated := date(e["graduation_date"])
			if graduated.Before(eighteenth(id)) || !graduated.Before(today) || e["graduation_year"] != graduated.Year() {
				t.Errorf("%s (born %v) graduated on %v, year %v", id, p["birth_date"], e["graduation_date"], e["graduation_year"])
			}
			cert := w.records["licence.graduation_certificate"][id]
			if cert == nil || cert["number"] != e["graduation_certificate_number"] || cert["holder_id"] != id || cert["issuer"] != e["school"] {
				t.Errorf("%s's graduation certificate %v does not match %v", id, cert, e)
			}
			if graduated.Year() >= today.Year()-1 {
				count["recent graduates"]++
				if si := w.records["social_insurance"][id]; si != nil && si["employer_credit_code"] != nil {
					count["employed recent graduates"]++
				}
			}
		}
		if v := w.records["vehicle"][id]; v != nil {
			licensed := date(v["licence_date"])
			years := ident.Person{BirthDate: licensed}.AgeOn(today)
			if licensed.Before(eighteenth(id)) || !licensed.Before(today) || v["driving_years"] != years {
				t.Errorf("%s (born %v) licensed on %v, driving %v years", id, p["birth_date"], v["licence_date"], v["driving_years"])
			}
			full := 0
			for _, h := range v["points_history"].([]string) {
				if strings.HasSuffix(h, ":12") {
					full++
				}
			}
			if points := v["points_current_cycle"].(int); points < 0 || points > 12 || v["full_points_last_3_periods"] != full {
				t.Errorf("%s: points %v, history %v, full %v", id, points, v["points_history"], v["full_points_last_3_periods"])
			}
			count["full points"] += full
			lic := w.records["licence.driving_licence"][id]
			if lic == nil || lic["number"] != id || lic["first_issued_on"] != v["licence_date"] || lic["issuer"] != cat.issuers["traffic"] {
				t.Errorf("%s's driving licence %v does not match %v", id, lic, v)
			}
		}
		if pr := w.records["property"][id]; pr != nil {
			certs := pr["certificate_numbers"].([]string)
			if pr["housing_count"] != len(certs) || pr["family_housing_count"].(int) < len(certs) || pr["owner"] != p["name"] {
				t.Errorf("%s's property record disagrees with itself: %v", id, pr)
			}
			lic := w.records["licence.real_estate_certificate"][id]
			if len(certs) == 0 {
				count["no home"]++
				if lic != nil {
					t.Errorf("%s owns no home but has a title certificate", id)
				}
			} else if area := pr["area"].(float64); area < 40 || area > 180 || lic == nil || !slices.Contains(certs, lic["certificate_number"].(string)) ||
				lic["address"] != pr["address"] || lic["area"] != area || lic["issuer"] != cat.issuers["realestate"] {
				t.Errorf("%s's title certificate %v does not match %v", id, lic, pr)
			}
		}
		if si := w.records["social_insurance"][id]; si != nil {
			months := si["months_contributed"].(int)
			recent := si["monthly_contributions"].([]string)
			if months < 1 || months > (age-16)*12 || len(recent) > min(12, months) {
				t.Errorf("%s, %d, contributed %d months, recently %v", id, age, months, recent)
			}
			for _, m := range recent {
				if d, err := time.Parse("2006-01", m); err != nil || !d.Before(today) || d.Before(today.AddDate(-1, -1, 0)) {
					t.Errorf("%s contributed in %q, not one of the last 12 months", id, m)
				}
			}
			if code, ok := si["employer_credit_code"].(string); ok {
				f := firms[code]
				if f == nil || f["name"] != si["employer_name"] || f["status"] != "active" {
					t.Errorf("%s works for %s %v, which is %v", id, code, si["employer_name"], f)
				}
			}
		}
	}
	for _, code := range w.firms {
		f := firms[code]
		rep := f["legal_rep_id_number"].(string)
		q := pop[rep]
		if q == nil || q["name"] != f["legal_rep"] || q["alive"] != true || ageOn(rep, date(f["established_on"])) < 18 {
			t.Errorf("%s's legal representative %s is %v", code, rep, q)
		}
		lic := w.records["licence.business_licence"][code]
		if lic == nil || lic["number"] != code || lic["holder"] != f["name"] || lic["credit_code"] != code || lic["issuer"] != cat.issuers["amr"] {
			t.Errorf("%s's business licence %v does not match %v", code, lic, f)
		}
		if f["status"] == "active" {
			count["active firms"]++
		}
	}
	share := func(what, of string) float64 { return float64(count[what]) / float64(count[of]) }
	checks := []struct {
		what     string
		got      float64
		min, max float64
	}{
		{"blacklisted adults", share("blacklisted", "adults"), 0.006, 0.014},
		{"adults of credit level A or B", share("A or B", "adults"), 0.85, 0.95},
		{"married persons", share("married", "adults"), 0.4, 0.8},
		{"active enterprises", float64(count["active firms"]) / float64(len(w.firms)), 0.85, 0.95},
		{"deceased", float64(count["deceased"]), 10, 1000},
		{"recent graduates", float64(count["recent graduates"]), 50, 2000},
		{"recent graduates employed", share("employed recent graduates", "recent graduates"), 0.6, 1},
		{"owners of no home", float64(count["no home"]), 500, 10000},
		{"full-points cycles", float64(count["full points"]), 1, 1000},
	}
	for _, c := range checks {
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s: %.3f, want %v to %v", c.what, c.got, c.min, c.max)
		}
	}
}

// catalogue is what the tests check generated records against: the demo
// catalogue's communities ("code" → street and community name) and the
// names of its departments.
type catalogue struct {
	communities map[string]string
	issuers     map[string]string
}

func loadCatalogue(t *testing.T) catalogue {
	t.Helper()
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		t.Fatal(err)
	}
	c, problems := schemas.LoadFS(democatalog.Demo)
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	out := catalogue{communities: map[string]string{}, issuers: map[string]string{}}
	names := map[string]string{}
	for _, r := range c.Regions {
		names[r.Code] = r.Name.Zh
	}
	for _, r := range c.Regions {
		if r.Level == "community" {
			out.communities[r.Code] = names[r.Parent] + r.Name.Zh
		}
	}
	for _, d := range c.Departments {
		out.issuers[d.Code] = d.Name.Zh
	}
	return out
}

func TestSomeoneTurns60And80(t *testing.T) {
	for _, day := range []time.Time{
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		testDay,
	} {
		t.Run(day.Format("2006-01-02"), func(t *testing.T) {
			w := generate(t, 300, 0, 1, day)
			turning := map[int]int{}
			for _, id := range w.persons {
				p, _ := ident.ParseIDNumber(id)
				if p.BirthDate.Month() == day.Month() && p.BirthDate.Day() == day.Day() && w.records["population"][id]["alive"] == true {
					turning[p.AgeOn(day)]++
				}
			}
			if turning[60] == 0 || turning[80] == 0 {
				t.Errorf("on %s, of 300 persons %d turn 60 and %d turn 80; want some of each", day.Format("2006-01-02"), turning[60], turning[80])
			}
		})
	}

	// With a year's worth of persons, someone turns 60 and someone turns 80
	// on every day of the year.
	g := newGenerator(t, 366*992, 0, 1, testDay)
	birthdays := map[int]map[string]bool{60: {}, 80: {}}
	for block := range 366 {
		for r := range 4 {
			p, _ := ident.ParseIDNumber(g.Person(block*992 + r)[0].Subject.Key)
			if age := testDay.Year() - p.BirthDate.Year(); birthdays[age] != nil {
				birthdays[age][p.BirthDate.Format("01-02")] = true
			}
		}
	}
	for d := testDay.AddDate(0, 0, -testDay.YearDay()+1); d.Year() == testDay.Year(); d = d.AddDate(0, 0, 1) {
		for _, age := range []int{60, 80} {
			if !birthdays[age][d.Format("01-02")] {
				t.Errorf("nobody turns %d on %s", age, d.Format("2006-01-02"))
			}
		}
	}
}

func TestDemoPeopleFitTheirParts(t *testing.T) {
	w := generate(t, 0, 0, 1, testDay)
	get := func(source, key, field string) any {
		t.Helper()
		rec := w.records[source][key]
		if rec == nil {
			t.Fatalf("no %s record of %s", source, key)
		}
		return rec[field]
	}
	tests := []struct {
		source, key, field string
		want               any
	}{
		{"population", demo.ZhangSan, "name", "张三"},
		{"population", demo.ZhangSan, "household_region", "910102001001"},
		{"property", demo.ZhangSan, "housing_count", 1},
		{"credit", demo.ZhangSan, "level", "A"},
		{"enterprise", demo.DemoCompany, "legal_rep_id_number", demo.ZhangSan},
		{"enterprise", demo.DemoCompany, "agent_id_numbers", []string{demo.LiSi}},
		{"licence.business_licence", demo.DemoCompany, "credit_code", demo.DemoCompany},
		{"education", demo.LiSi, "graduation_year", 2024}, // testDay is before this year's graduation
		{"education", demo.LiSi, "full_time", true},
		{"licence.driving_licence", demo.LiSi, "number", demo.LiSi},
		{"social_insurance", demo.LiSi, "employer_credit_code", demo.DemoCompany},
		{"property", demo.WangWu, "housing_count", 0},
		{"licence.resident_id_card", demo.ZhangSan, "number", demo.ZhangSan},
		{"licence.resident_id_card", demo.ZhangSan, "expiry_date", nil}, // long-term from 46
		{"licence.resident_id_card", demo.LiSi, "status", "valid"},
		{"licence.household_register", demo.WangWu, "number", "200000003"},
		{"credit", demo.WangWu, "level", "A"},
	}
	for _, tt := range tests {
		if got := get(tt.source, tt.key, tt.field); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s.%s of %s = %v, want %v", tt.source, tt.field, tt.key, got, tt.want)
		}
	}
	if age := ageOf(demo.ZhangSan, time.Now()); age < 60 {
		t.Errorf("Zhang San is %d", age)
	}
}

func ageOf(id string, day time.Time) int {
	p, _ := ident.ParseIDNumber(id)
	return p.AgeOn(day)
}

func TestWriteStoresRecordsReadableThroughFetch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := hub.NewBuiltin(db, protector(t))
		g := newGenerator(t, 300, 40, 1, testDay)
		var calls [][2]int
		stats, err := g.Write(ctx, db, b, func(done, total int) { calls = append(calls, [2]int{done, total}) })
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) == 0 || calls[len(calls)-1] != [2]int{340, 340} {
			t.Errorf("progress calls end with %v, want [340 340]", calls[len(calls)-1:])
		}
		if rows := countRows(t, db); rows != stats.Total() || stats.Records["population"] != 303 || stats.Records["enterprise"] != 41 {
			t.Errorf("%d rows, stats %+v", rows, stats)
		}

		fetch := func(source string, s hub.Subject, fields ...string) hub.Record {
			t.Helper()
			rec, err := b.Fetch(ctx, source, s, fields)
			if err != nil {
				t.Fatalf("Fetch %s of %s: %v", source, s.Key, err)
			}
			return rec
		}
		person := func(id string) hub.Subject { return hub.Subject{Kind: hub.Person, Key: id} }
		firm := hub.Subject{Kind: hub.Enterprise, Key: demo.DemoCompany}
		tests := []struct {
			source  string
			subject hub.Subject
			field   string
			want    any
		}{
			{"population", person(demo.ZhangSan), "name", "张三"},
			{"population", person(demo.ZhangSan), "birth_date", "1960-03-15"},
			{"population", person(demo.ZhangSan), "children_count", int64(1)},
			{"population", person(demo.ZhangSan), "alive", true},
			{"property", person(demo.ZhangSan), "housing_count", int64(1)},
			{"property", person(demo.ZhangSan), "area", 96.5},
			{"licence.real_estate_certificate", person(demo.ZhangSan), "area", 96.5},
			{"education", person(demo.LiSi), "graduation_year", int64(2024)},
			{"education", person(demo.LiSi), "level", "master"},
			{"licence.driving_licence", person(demo.LiSi), "class", "C1"},
			{"social_insurance", person(demo.LiSi), "employer_credit_code", demo.DemoCompany},
			{"property", person(demo.WangWu), "certificate_numbers", []string{}},
			{"credit", person(demo.WangWu), "blacklisted", false},
			{"enterprise", firm, "legal_rep_id_number", demo.ZhangSan},
			{"enterprise", firm, "registered_capital", 500.0},
			{"licence.business_licence", firm, "credit_code", demo.DemoCompany},
		}
		for _, tt := range tests {
			if got := fetch(tt.source, tt.subject, tt.field)[tt.field]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s.%s of %s = %#v, want %#v", tt.source, tt.field, tt.subject.Key, got, tt.want)
			}
		}

		// A generated person reads back as generated, with typed values.
		src, _ := hub.Lookup("population")
		var fields []string
		for _, f := range src.Fields {
			fields = append(fields, f.Name)
		}
		want := g.Person(5)[0]
		read := fetch("population", want.Subject, fields...)
		typed := hub.Record{}
		for k, v := range want.Record {
			if n, ok := v.(int); ok {
				v = int64(n) // how Fetch returns whole numbers
			}
			typed[k] = v
		}
		if !reflect.DeepEqual(read, typed) {
			t.Errorf("population record of person 5 reads back as\n%v\nwant\n%v", read, typed)
		}

		// Rows carry the time they were written, as the driver writes
		// times (the SQLite writer puts it in the statement as text).
		idx := b.SubjectIndex(want.Subject)
		var at time.Time
		if err := db.QueryRowContext(ctx, `SELECT updated_at FROM registry_records WHERE source = 'population' AND subject_idx = $1`, idx).Scan(&at); err != nil || time.Since(at) < 0 || time.Since(at) > time.Hour {
			t.Errorf("updated_at = %v, %v; want a moment ago", at, err)
		}
		if db.Backend == store.SQLite {
			var stored, driver string
			db.QueryRowContext(ctx, `SELECT CAST(updated_at AS TEXT) FROM registry_records WHERE source = 'population' AND subject_idx = $1`, idx).Scan(&stored)
			db.QueryRowContext(ctx, `SELECT CAST($1 AS TEXT)`, at).Scan(&driver)
			if stored == "" || stored != driver {
				t.Errorf("updated_at stored as %q; the driver writes %q", stored, driver)
			}
		}

		// Running again replaces the records: the same rows, the same
		// plaintext, sealed anew.
		var before string
		db.QueryRowContext(ctx, `SELECT data FROM registry_records WHERE source = 'population' AND subject_idx = $1`, idx).Scan(&before)
		if _, err := g.Write(ctx, db, b, nil); err != nil {
			t.Fatal(err)
		}
		var after string
		db.QueryRowContext(ctx, `SELECT data FROM registry_records WHERE source = 'population' AND subject_idx = $1`, idx).Scan(&after)
		if rows := countRows(t, db); rows != stats.Total() || before == after {
			t.Errorf("after a second run: %d rows (want %d); record resealed: %v", rows, stats.Total(), before != after)
		}
		if again := fetch("population", want.Subject, fields...); !reflect.DeepEqual(again, read) {
			t.Errorf("second run changed person 5: %v", again)
		}
	})
}

func countRows(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM registry_records`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSeedRegistriesWithTheServersDefaults(t *testing.T) {
	db := storetest.SQLite(t)
	stats, err := demo.SeedRegistries(context.Background(), db, hub.NewBuiltin(db, protector(t)), 300, 40, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Persons != 300 || stats.Enterprises != 40 || stats.Total() < 1000 {
		t.Errorf("stats %+v", stats)
	}
	t.Logf("300 persons, 40 enterprises: %d records in %v", stats.Total(), stats.Elapsed)
}

func TestWriteStopsWhenCancelled(t *testing.T) {
	db := storetest.SQLite(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	began := time.Now()
	_, err := newGenerator(t, 1_000_000, 0, 1, testDay).Write(ctx, db, hub.NewBuiltin(db, protector(t)), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled Write returned %v", err)
	}
	if took := time.Since(began); took > 30*time.Second {
		t.Errorf("Write took %v to stop", took)
	}
	if n := countRows(t, db); n > 0 {
		t.Errorf("%d rows written after cancelling", n)
	}
}

// A load of many transactions, while the server goes on reading the
// registries, leaves every record readable and no write-ahead log behind:
// the log is copied into the database as the load goes, not left to grow
// with it.
func TestWriteWhileServingLeavesNoLog(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	b := hub.NewBuiltin(db, protector(t))
	var file string
	if err := db.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	reads := make(chan error, 1)
	go func() { // a serving process, reading what is there
		n := 0
		for {
			select {
			case <-stop:
				reads <- nil
				return
			default:
			}
			_, err := b.Fetch(ctx, "population", hub.Subject{Kind: hub.Person, Key: demo.ZhangSan}, []string{"name"})
			if err != nil && !errors.Is(err, hub.ErrNotFound) {
				reads <- fmt.Errorf("read %d during the load: %w", n, err)
				return
			}
			n++
		}
	}()
	stats, err := newGenerator(t, 25_000, 2_000, 1, testDay).Write(ctx, db, b, nil)
	close(stop)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-reads; err != nil {
		t.Error(err)
	}
	if stats.Total() < 100_000 {
		t.Fatalf("only %d rows: the load should take several transactions", stats.Total())
	}
	if rows := countRows(t, db); rows != stats.Total() {
		t.Errorf("%d rows stored, %d written", rows, stats.Total())
	}
	if fi, err := os.Stat(file + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("the write-ahead log is left at %d bytes", fi.Size())
	}
}
