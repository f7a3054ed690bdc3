package simulate_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"yiwang/internal/catalog"
	"yiwang/internal/demo"
	"yiwang/internal/hub"
	"yiwang/internal/identity"
	"yiwang/internal/pii"
	"yiwang/internal/rules"
	"yiwang/internal/simulate"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/workday"
)

const seniorCard = "11910102MB00011858-07-00001"

// past is one generated decision with the input the test gave it.
type past struct {
	id     int64
	number string
	day    workday.Date
	age    int
	local  bool
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

func seniorCardItem(t testing.TB) catalog.Item {
	t.Helper()
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		t.Fatal(err)
	}
	c, problems := schemas.LoadFS(os.DirFS("../../catalog"))
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	for _, it := range c.Items {
		if it.Code == seniorCard {
			return it.Item
		}
	}
	t.Fatal("no senior card in the catalogue")
	return catalog.Item{}
}

func compile(t testing.TB, it catalog.Item) *rules.Program {
	t.Helper()
	p, problems := rules.Compile(it)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	return p
}

// history writes a demo history of n applications, then gives the senior
// card's machine decisions known inputs (ages 55 to 64, one in three
// registered outside the district) decided by the published rules, and
// sealed as the application services seal them.
func history(t testing.TB, db *store.DB, p *pii.Protector, n int) []past {
	t.Helper()
	ctx := context.Background()
	if _, err := demo.Seed(ctx, db, demo.Options{OnPostgres: true}); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedAccounts(ctx, db, identity.NewStore(db, p)); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.WriteHistory(ctx, db, p, demo.HistoryOptions{Applications: n, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	// Every decision of the history becomes a senior card's, so there are many.
	if _, err := db.ExecContext(ctx, `UPDATE applications SET item_code = $1 WHERE id IN (SELECT application_id FROM decisions)`, seniorCard); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT d.id, a.number, d.decided_at FROM decisions d JOIN applications a ON a.id = d.application_id ORDER BY d.id`)
	if err != nil {
		t.Fatal(err)
	}
	var out []past
	for rows.Next() {
		var c past
		var at time.Time
		if err := rows.Scan(&c.id, &c.number, &at); err != nil {
			t.Fatal(err)
		}
		c.day = workday.DateOf(at)
		c.age, c.local = 55+len(out)%10, len(out)%3 != 0
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if len(out) < 50 {
		t.Fatalf("%d decisions in the history, want 50 or more", len(out))
	}
	prog := compile(t, seniorCardItem(t))
	for _, c := range out {
		region := "910105001"
		if c.local {
			region = "910102001"
		}
		age := c.age
		in := rules.Input{Applicant: rules.Applicant{Name: "张三", IDNumber: "910102196001011234", Kind: "person", Age: &age},
			Sources: map[string]hub.Record{"population": {"household_region": region}}, Licences: map[string]hub.Record{},
			Materials: map[string]rules.Material{}, Credit: &rules.Credit{Level: "A"}}
		d := prog.Decide(in, rules.DecisionTime(c.day))
		record, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := p.SealFor(string(record), "decisions.record")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `UPDATE decisions SET record = $1, outcome = $2 WHERE id = $3`, sealed, string(d.Outcome), c.id); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// fingerprint sums what a simulation must leave as it was.
func fingerprint(t testing.TB, db *store.DB) string {
	t.Helper()
	h := sha256.New()
	for _, q := range []string{
		`SELECT id || '|' || outcome || '|' || record FROM decisions ORDER BY id`,
		`SELECT id || '|' || status || '|' || item_code || '|' || COALESCE(number, '') FROM applications ORDER BY id`,
	} {
		vals, err := store.All(context.Background(), db, store.Value[string], q)
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(strings.Join(vals, "\n")))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestSimulateFlipsWhatTheChangeChanges lowers the senior card's age from 60
// to 58: exactly the local 58- and 59-year-olds decided since the day go
// from rejected to approved; the others keep their outcome.
func TestSimulateFlipsWhatTheChangeChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := protector(t)
		cases := history(t, db, p, 1200)
		before := fingerprint(t, db)

		draft := seniorCardItem(t)
		draft.Rules = slices.Clone(draft.Rules)
		draft.Rules[0].Expr = "applicant.age >= 58"
		since := cases[len(cases)/2].day
		rep, err := simulate.Run(ctx, db, p, simulate.Options{Item: seniorCard, Program: compile(t, draft), Since: since, Batch: 7})
		if err != nil {
			t.Fatal(err)
		}

		var want simulate.Counts
		var flipped []string
		replayed := 0
		for _, c := range cases {
			if c.day.Compare(since) < 0 {
				continue
			}
			replayed++
			switch {
			case c.age >= 60 && c.local:
				want.Approve++
			default:
				want.Reject++
			}
			if c.local && (c.age == 58 || c.age == 59) {
				flipped = append(flipped, simulate.MaskNumber(c.number))
			}
		}
		if rep.Replayed != replayed || rep.Unreadable != 0 || rep.Before != want {
			t.Errorf("replayed %d (unreadable %d), before %+v; want %d, %+v", rep.Replayed, rep.Unreadable, rep.Before, replayed, want)
		}
		after := simulate.Counts{Approve: want.Approve + len(flipped), Reject: want.Reject - len(flipped)}
		if rep.After != after {
			t.Errorf("after %+v, want %+v", rep.After, after)
		}
		if len(flipped) == 0 || len(rep.Flips) != 1 || rep.Flipped() != len(flipped) {
			t.Fatalf("flips %+v, want %d from reject to approve", rep.Flips, len(flipped))
		}
		f := rep.Flips[0]
		if f.From != rules.Reject || f.To != rules.Approve || len(f.Groups) != 1 || f.Groups[0].Code != "age_60" {
			t.Errorf("flip %+v, want reject → approve for age_60 (the reason that no longer holds)", f)
		}
		if got := f.Groups[0].Examples; !slices.Equal(got, flipped[:3]) {
			t.Errorf("examples %q, want the first three flipped, masked: %q", got, flipped[:3])
		}
		if !strings.Contains(f.Groups[0].Examples[0], "***…") {
			t.Errorf("example %q is not masked", f.Groups[0].Examples[0])
		}
		if rep.After.ApprovalRate() <= rep.Before.ApprovalRate() {
			t.Errorf("approval rate %.3f → %.3f, want a rise", rep.Before.ApprovalRate(), rep.After.ApprovalRate())
		}
		if fingerprint(t, db) != before {
			t.Error("the simulation changed applications or decisions")
		}
	})
}

// TestSimulateSnapshot replays the published rules with every household
// registered in the district: exactly the non-local people of 60 or more
// flip to approval; the under-60s stay rejected on their age.
func TestSimulateSnapshot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := protector(t)
		cases := history(t, db, p, 600)
		snap, err := simulate.ReadSnapshot([]byte(`population.household_region: "910102999"`))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := simulate.Run(ctx, db, p, simulate.Options{Item: seniorCard, Program: compile(t, seniorCardItem(t)), Since: cases[0].day, Snapshot: snap})
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, c := range cases {
			if !c.local && c.age >= 60 {
				want++
			}
		}
		if rep.Replayed != len(cases) || rep.Flipped() != want || len(rep.Flips) != 1 || rep.Flips[0].Groups[0].Code != "local_household" {
			t.Errorf("replayed %d, flips %+v; want %d, %d reject → approve for local_household", rep.Replayed, rep.Flips, len(cases), want)
		}
		if _, err := simulate.ReadSnapshot([]byte(`household_region: "910102"`)); err == nil {
			t.Error("a snapshot key without its source was taken")
		}
	})
}
