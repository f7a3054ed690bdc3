package application_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/identity"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// BenchmarkPrefill starts one application whose form and materials read
// every source of the hub through the built-in connector — consent, 10
// source reads, each logged, and the draft saved — and reports p50 and p99.
func BenchmarkPrefill(b *testing.B) {
	ctx := context.Background()
	db := storetest.SQLite(b)
	schemas, _ := catalog.CompileSchemas()
	c, problems := schemas.LoadFS(os.DirFS("testdata/bench"))
	if len(problems) > 0 {
		b.Fatal(problems[0])
	}
	cs := catalog.NewStore(db)
	if _, err := cs.Import(ctx, c, "bench"); err != nil {
		b.Fatal(err)
	}
	if _, err := cs.PublishAllDrafts(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	key, _ := pii.NewKey()
	k, _ := pii.ParseKey(key)
	protector, _ := pii.NewProtector(k)
	ids := identity.NewStore(db, protector)
	id := idNumber("19850612", "321")
	acc, err := ids.RegisterPerson(ctx, id, "钱多多", "13900000002", "a-long-password")
	if err != nil {
		b.Fatal(err)
	}
	credit := "91910102MA5BENCH0"
	cc, _ := identCredit(credit)
	entID, err := ids.PutEnterprise(ctx, db, cc, "基准科技有限公司", acc.PersonID)
	if err != nil {
		b.Fatal(err)
	}
	bi := hub.NewBuiltin(db, protector)
	person := hub.Subject{Kind: hub.Person, Key: id}
	company := hub.Subject{Kind: hub.Enterprise, Key: cc}
	for _, r := range []struct {
		source  string
		subject hub.Subject
		rec     hub.Record
	}{
		{"population", person, hub.Record{"address": "示范市明德区福安街道幸福路9号", "household_region": "910102001001", "household": "HH-9"}},
		{"enterprise", company, hub.Record{"name": "基准科技有限公司", "registered_capital": 100.0}},
		{"education", person, hub.Record{"school": "示范大学"}},
		{"social_insurance", person, hub.Record{"months_contributed": 120}},
		{"property", person, hub.Record{"housing_count": 1}},
		{"vehicle", person, hub.Record{"points_current_cycle": 3}},
		{"credit", person, hub.Record{"level": "A"}},
		{"licence.driving_licence", person, hub.Record{"number": "D-1", "status": "valid"}},
		{"licence.business_licence", company, hub.Record{"number": "B-1", "status": "valid"}},
	} {
		if err := bi.Put(ctx, db, r.source, r.subject, r.rec); err != nil {
			b.Fatal(err)
		}
	}
	svc := application.NewServices(application.Deps{DB: db, Protector: protector, Catalog: cs, Identities: ids, Reader: hub.NewReader(db, bi, bi.SubjectIndex), Limits: identity.NewLimiter(db),
		Calendars: calendars(b), Notifier: &notices{}, Blobs: blobs(b)})
	p := authz.Principal{AccountID: acc.ID, Kind: "person", PersonID: acc.PersonID, Roles: []authz.Role{authz.Applicant}, RealNameLevel: 1,
		ActingFor: &authz.Enterprise{ID: entID, CreditCode: cc, Name: "基准科技有限公司", Via: "legal_representative"}}

	a, err := svc.Drafts.Start(ctx, p, application.StartRequest{ItemCode: "11910102MB0001000T-20-00001"})
	if err != nil {
		b.Fatal(err)
	}
	if a.FieldsPrefilled != a.FieldsTotal || a.MaterialsAttached != a.MaterialsTotal {
		b.Fatalf("prefilled %d of %d fields and %d of %d materials", a.FieldsPrefilled, a.FieldsTotal, a.MaterialsAttached, a.MaterialsTotal)
	}
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := svc.Drafts.Start(ctx, p, application.StartRequest{ItemCode: "11910102MB0001000T-20-00001"}); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkSubmit is a senior card's submission as the applicant sends it —
// re-check, rate limit, 秒批 decision with its record, approval, licence,
// timeline and audit entries in one transaction — on each backend; starting
// and filling the draft is not timed. Each run clears the account's rate
// events first so that the daily limit does not stop it.
func BenchmarkSubmit(b *testing.B) {
	for _, backend := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(backend.name, func(b *testing.B) {
			ctx := context.Background()
			db := backend.open(b)
			f := setup(b, db, nil)
			var times []time.Duration
			for b.Loop() {
				b.StopTimer()
				if _, err := db.ExecContext(ctx, `DELETE FROM rate_events`); err != nil {
					b.Fatal(err)
				}
				a, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: seniorCard})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := f.apps.Drafts.UpdateForm(ctx, f.p, a.ID, map[string]any{"delivery": "electronic"}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				if a, err = f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, ""); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(start))
				if a.Status != "licence_issued" {
					b.Fatalf("status %s", a.Status)
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
		})
	}
}
