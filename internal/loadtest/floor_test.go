package loadtest_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"yiwang/internal/licence"
	"yiwang/internal/seal"

	democatalog "yiwang/catalog"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/demo"
	"yiwang/internal/hub"
	"yiwang/internal/identity"
	"yiwang/internal/jobs"
	"yiwang/internal/loadtest"
	"yiwang/internal/notify"
	"yiwang/internal/pii"
	"yiwang/internal/rules"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/workday"
)

// BenchmarkSubmitFloor is loadtest.Floor: what a submission of the senior
// card commits in its transaction — the application row set to submitted
// and a decisions row holding a record of the same size as a real one —
// written straight to the database: no HTTP, no sessions, no source reads,
// no rules. It is the floor under `yiwang bench run`, which measures it too
// (--floor): the full path's cost divided by this is the overhead of
// everything else. serial is one writer; parallel-16 is sixteen, as the
// bench's default concurrency. PostgreSQL runs when
// YIWANG_TEST_DATABASE_URL is set.
func BenchmarkSubmitFloor(b *testing.B) {
	ctx := context.Background()
	for _, backend := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(backend.name, func(b *testing.B) {
			f := newFloor(b, backend.open(b))
			b.Run("serial", func(b *testing.B) {
				ids := drafts(b, f, b.N)
				b.ResetTimer()
				for i := range b.N {
					if err := f.Submit(ctx, ids[i]); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submits/s")
			})
			b.Run("parallel-16", func(b *testing.B) {
				ids := drafts(b, f, b.N)
				var next atomic.Int64
				b.SetParallelism(max(1, 16/max(1, testingProcs())))
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := f.Submit(ctx, ids[next.Add(1)-1]); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submits/s")
			})
		})
	}
}

// TestFloorMeasure measures the floor briefly on each backend and checks
// that it submitted, that it removed every row it wrote, and that it will
// not copy an application older than asked.
func TestFloorMeasure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFloor(t, db)
		before := countRows(t, db)
		res, err := f.Measure(ctx, 4, 200*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if res.Submits < 4 || res.Took <= 0 || res.Rate() <= 0 || res.Workers != 4 || res.Where != db.Where {
			t.Errorf("measured %+v", res)
		}
		if after := countRows(t, db); after != before {
			t.Errorf("applications, drafts and decisions %v before the floor, %v after", before, after)
		}
		if _, err := loadtest.NewFloor(ctx, db, loadtest.SeniorCard, time.Now().Add(time.Hour)); err == nil || !strings.Contains(err.Error(), "is it the database of the server loaded?") {
			t.Errorf("no application submitted since an hour from now: %v", err)
		}
	})
}

// countRows counts the applications, the drafts among them and the
// decisions in db.
func countRows(t *testing.T, db *store.DB) [3]int {
	t.Helper()
	var n [3]int
	err := db.QueryRowContext(context.Background(), `SELECT (SELECT count(*) FROM applications), (SELECT count(*) FROM applications WHERE status = 'draft'),
		(SELECT count(*) FROM decisions)`).Scan(&n[0], &n[1], &n[2])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// newFloor seeds the demo catalogue and one bench applicant, makes one
// real application through the service, and returns the floor copying it.
func newFloor(tb testing.TB, db *store.DB) *loadtest.Floor {
	tb.Helper()
	ctx := context.Background()
	if _, err := demo.Seed(ctx, db, demo.Options{OnPostgres: true}); err != nil {
		tb.Fatal(err)
	}
	svc, p := seniorCardService(tb, db, identity.NewLimiter(db))
	a, err := svc.Drafts.Start(ctx, p, application.StartRequest{ItemCode: loadtest.SeniorCard})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := svc.Drafts.UpdateForm(ctx, p, a.ID, map[string]any{"delivery": "electronic"}); err != nil {
		tb.Fatal(err)
	}
	if _, err := svc.Drafts.Submit(ctx, p, a.ID, 0, ""); err != nil {
		tb.Fatal(err)
	}
	f, err := loadtest.NewFloor(ctx, db, loadtest.SeniorCard, time.Time{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("floor: %s", f)
	return f
}

// drafts makes n drafts for the floor.
func drafts(b *testing.B, f *loadtest.Floor, n int) []int64 {
	b.Helper()
	ids, err := f.Drafts(context.Background(), n)
	if err != nil {
		b.Fatal(err)
	}
	return ids
}

// seniorCardService is the application services on db, which holds the
// demo catalogue, and one bench applicant signed in, with limits on their
// submissions.
func seniorCardService(b testing.TB, db *store.DB, limits *identity.Limiter) (application.Services, authz.Principal) {
	return seniorCardServices(b, db, limits, false)
}

// seniorCardServices is seniorCardService, issuing licences (SM2-sealed) when
// licensed, as serve does.
func seniorCardServices(b testing.TB, db *store.DB, limits *identity.Limiter, licensed bool) (application.Services, authz.Principal) {
	b.Helper()
	ctx := context.Background()
	key, _ := pii.NewKey()
	k, _ := pii.ParseKey(key)
	protector, _ := pii.NewProtector(k)
	ids := identity.NewStore(db, protector)
	registries := hub.NewBuiltin(db, protector)
	applicants, err := loadtest.Prepare(ctx, db, ids, registries, loadtest.PrepareOptions{Applicants: 1})
	if err != nil {
		b.Fatal(err)
	}
	acc, err := ids.Login(ctx, applicants[0].Login, loadtest.Password)
	if err != nil {
		b.Fatal(err)
	}
	sess, err := ids.StartSession(ctx, acc.ID)
	if err != nil {
		b.Fatal(err)
	}
	p, _, err := ids.SessionPrincipal(ctx, sess.Token)
	if err != nil {
		b.Fatal(err)
	}
	deps := application.Deps{DB: db, Protector: protector, Catalog: catalog.NewStore(db), Identities: ids, Reader: hub.NewReader(db, registries, registries.SubjectIndex),
		Limits: limits, Calendars: shippedCalendar(b), Notifier: notify.NewOutbox(db, enqueueOnly(b, db))}
	if licensed {
		keyring, err := seal.NewKeyring(db, k)
		if err != nil {
			b.Fatal(err)
		}
		licences := licence.NewService(db, keyring, protector, registries, "https://yiwang.test")
		if _, err := licences.EnsureKeys(ctx); err != nil {
			b.Fatal(err)
		}
		deps.Licences = licences
		deps.Registries = registries
	}
	svc := application.NewServices(deps)
	return svc, p
}

// BenchmarkDecide is the machine decision of the senior card alone: the
// compiled rules evaluated on an applicant's data and the full record made
// (inputs snapshot and digest, every rule's trace); +record also encodes it
// as the submission stores it. No database.
func BenchmarkDecide(b *testing.B) {
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		b.Fatal(err)
	}
	c, problems := schemas.LoadFS(democatalog.Demo)
	if len(problems) > 0 {
		b.Fatal(problems[0])
	}
	var item catalog.Item
	for _, it := range c.Items {
		if it.Code == loadtest.SeniorCard {
			item = it.Item
		}
	}
	prog, compileProblems := rules.Compile(item)
	if len(compileProblems) > 0 {
		b.Fatal(compileProblems[0])
	}
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, want, region string
		age                int
		blacklisted        bool
	}{
		{"approve", "approve", "910102001001", 66, false},
		{"reject", "reject", "910102001001", 45, false},
		{"manual", "manual", "910102001001", 70, true},
	} {
		in := seniorInput(tc.age, tc.region, tc.blacklisted)
		if d := prog.Decide(in, at); string(d.Outcome) != tc.want {
			b.Fatalf("%s: outcome %s, reasons %v", tc.name, d.Outcome, d.ReasonCodes())
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				prog.Decide(in, at)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
		})
		b.Run(tc.name+"+record", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := jsonRecord(prog.Decide(in, at)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
		})
	}
}

// seniorInput is what the application service gives the senior card's
// rules for an applicant of age registered in region.
func seniorInput(age int, region string, blacklisted bool) rules.Input {
	id := "910102196005121232"
	level := "A"
	if blacklisted {
		level = "D"
	}
	return rules.Input{
		Applicant: rules.Applicant{Name: "压测申请人", IDNumber: id, Kind: "person", RealNameLevel: 1, BirthDate: "1960-05-12", Age: &age, Sex: "male"},
		Form:      map[string]any{"name": "压测申请人", "id_number": id, "phone": "13900000001", "delivery": "electronic", "address": "示范市明德区福安街道压测路1号"},
		Sources: map[string]hub.Record{
			"population": {"household_region": region},
			"credit":     {"level": level, "blacklisted": blacklisted},
		},
		Licences:  map[string]hub.Record{},
		Materials: map[string]rules.Material{"id_card": {Present: true, Trust: "A"}, "household": {Present: true, Trust: "A"}},
		Credit:    &rules.Credit{Level: level, Blacklisted: blacklisted},
	}
}

// testingProcs is how many goroutines RunParallel starts per unit of
// parallelism.
func testingProcs() int { return runtime.GOMAXPROCS(0) }

// jsonRecord encodes a decision as the submission stores it.
func jsonRecord(d rules.Decision) ([]byte, error) { return json.Marshal(d) }

// shippedCalendar is the working-day calendar the binary ships with.
func shippedCalendar(b testing.TB) application.Calendars {
	cal, err := workday.Shipped()
	if err != nil {
		b.Fatal(err)
	}
	return application.FixedCalendar(cal)
}

// enqueueOnly is a job queue that only enqueues, as in a process without workers.
func enqueueOnly(b testing.TB, db *store.DB) *jobs.Queue {
	q, err := jobs.New(db, jobs.NewWorkers(), slog.New(slog.DiscardHandler), jobs.Config{})
	if err != nil {
		b.Fatal(err)
	}
	return q
}
