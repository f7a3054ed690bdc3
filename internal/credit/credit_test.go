package credit_test

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/credit"
	"yiwang/internal/hub"
	"yiwang/internal/ident"
	"yiwang/internal/identity"
	"yiwang/internal/notify"
	"yiwang/internal/pii"
	"yiwang/internal/rules"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/web"
)

// day0 is when the tests' records are written; the clock moves from it.
var day0 = time.Date(2026, 1, 10, 2, 0, 0, 0, time.UTC)

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func TestAssessWeighsByKindAndFadesWithAge(t *testing.T) {
	cfg := credit.DefaultConfig()
	rec := func(kind string, ago time.Duration) credit.Record {
		return credit.Record{Kind: kind, CreatedAt: day0.Add(-ago)}
	}
	repaired := rec(credit.FalseCommitment, 0)
	repaired.RepairedAt = &day0
	for _, c := range []struct {
		name    string
		records []credit.Record
		level   string
		score   float64
		black   bool
		red     bool
	}{
		{"no record", nil, "A", 0, false, true},
		{"a fresh late supplement", []credit.Record{rec(credit.OverdueSupplement, 0)}, "B", 15, false, false},
		{"a false commitment", []credit.Record{rec(credit.FalseCommitment, 0)}, "C", 40, false, false},
		{"a false commitment a year on weighs half", []credit.Record{rec(credit.FalseCommitment, days(365))}, "B", 20, false, false},
		{"two years on, a quarter: exactly B", []credit.Record{rec(credit.FalseCommitment, days(730))}, "B", 10, false, false},
		{"800 days on", []credit.Record{rec(credit.FalseCommitment, days(800))}, "A", 8.76, false, false},
		{"false commitment and failed spot check", []credit.Record{rec(credit.FalseCommitment, 0), rec(credit.SpotCheckFailed, 0)}, "D", 70, true, false},
		{"two late supplements blacklist", []credit.Record{rec(credit.OverdueSupplement, 0), rec(credit.OverdueSupplement, 0)}, "C", 30, true, false},
		{"a repaired record weighs nothing but is recent", []credit.Record{repaired}, "A", 0, false, false},
		{"four years on: red list again", []credit.Record{rec(credit.OverdueSupplement, days(4*365))}, "A", 0.94, false, true},
	} {
		st := cfg.Assess(c.records, day0)
		if st.Level != c.level || st.Score != c.score || st.Blacklisted != c.black || st.RedList != c.red {
			t.Errorf("%s: %+v, want level %s score %v blacklisted %v red %v", c.name, st, c.level, c.score, c.black, c.red)
		}
	}
}

type told struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (n *told) Send(_ context.Context, _ *sql.Tx, m notify.Message) (int64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.msgs = append(n.msgs, m)
	return int64(len(n.msgs)), nil
}

func (n *told) last() notify.Message {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.msgs) == 0 {
		return notify.Message{}
	}
	return n.msgs[len(n.msgs)-1]
}

type fixture struct {
	db       *store.DB
	svc      *credit.Service
	registry *hub.Builtin
	ids      *identity.Store
	told     *told
	now      *time.Time
	// two items of two departments, for records and their repairs
	items [2]struct{ code, dept string }
}

func setup(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		t.Fatal(err)
	}
	c, problems := schemas.LoadFS(os.DirFS("../../catalog"))
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	cs := catalog.NewStore(db)
	if _, err := cs.Import(ctx, c, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.PublishAllDrafts(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	key, _ := pii.NewKey()
	k, _ := pii.ParseKey(key)
	protector, _ := pii.NewProtector(k)
	f := &fixture{db: db, ids: identity.NewStore(db, protector), registry: hub.NewBuiltin(db, protector), told: &told{}}
	now := day0
	f.now = &now
	f.svc = credit.New(credit.Deps{DB: db, Registries: f.registry, Persons: f.ids, Notifier: f.told, Protector: protector, Now: func() time.Time { return *f.now }})
	depts := map[string]string{}
	for _, it := range c.Items {
		if _, ok := depts[it.Department]; !ok && len(depts) < 2 {
			depts[it.Department] = it.Code
			f.items[len(depts)-1] = struct{ code, dept string }{it.Code, it.Department}
		}
	}
	return f
}

// person registers a resident and returns their session's principal.
func (f *fixture) person(t *testing.T, seq string, name string) (authz.Principal, string) {
	t.Helper()
	ctx := context.Background()
	body := "91010219800101" + seq
	c, _ := ident.IDNumberCheck(body)
	id := body + string(c)
	a, err := f.ids.RegisterPerson(ctx, id, name, "13900000001", "a-long-password")
	if err != nil {
		t.Fatal(err)
	}
	sess, _ := f.ids.StartSession(ctx, a.ID)
	p, _, err := f.ids.SessionPrincipal(ctx, sess.Token)
	if err != nil {
		t.Fatal(err)
	}
	return p, id
}

// record writes a credit record as the application package does, on an
// application of item i (0 or 1) made by p (for enterprise, when not 0),
// at the fixture's time, and recomputes.
func (f *fixture) record(t *testing.T, p authz.Principal, enterprise int64, i int, kind, ref string) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := f.db.InTx(ctx, func(tx *sql.Tx) error {
		var version, app int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM catalog_versions WHERE item_code = $1 AND status = 'published'`, f.items[i].code).Scan(&version); err != nil {
			return err
		}
		ent := sql.NullInt64{Int64: enterprise, Valid: enterprise != 0}
		if err := tx.QueryRowContext(ctx, `INSERT INTO applications (item_code, version_id, account_id, person_id, enterprise_id, status, answers, form, provenance, materials,
			consent_id, fields_total, fields_prefilled, materials_total, materials_attached, created_at, updated_at, number)
			VALUES ($1, $2, $3, $4, $5, 'revoked', '{}', '{}', '{}', '[]', 0, 0, 0, 0, 0, $6, $6, $7) RETURNING id`,
			f.items[i].code, version, p.AccountID, p.PersonID, ent, *f.now, "N"+kind+ref+f.now.Format("150405.000")).Scan(&app); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO credit_records (person_id, enterprise_id, application_id, kind, ref, note, created_at) VALUES ($1, $2, $3, $4, $5, '记录', $6) RETURNING id`,
			p.PersonID, ent, app, kind, ref, *f.now).Scan(&id); err != nil {
			return err
		}
		if kind == credit.OverdueSupplement {
			if _, err := tx.ExecContext(ctx, `INSERT INTO commitments (application_id, purpose, account_id, signer_name, signed_at, text, digest) VALUES ($1, $2, $3, '某人', $4, '承诺', 'x')`,
				app, "deferral:"+ref, p.AccountID, *f.now); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO deferrals (application_id, material_id, commitment_id, due_at, marked_at, overdue_at)
				VALUES ($1, $2, (SELECT id FROM commitments WHERE application_id = $1), $3, $3, $3)`, app, ref, *f.now); err != nil {
				return err
			}
		}
		sub := credit.Subject{PersonID: p.PersonID, EnterpriseID: enterprise}
		_, err := f.svc.Recompute(ctx, tx, sub)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// registry is what the credit registry holds for a subject.
func (f *fixture) registryRecord(t *testing.T, subject hub.Subject) hub.Record {
	t.Helper()
	r, err := f.registry.Fetch(context.Background(), "credit", subject, []string{"level", "blacklisted", "red_list", "records"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) recomputeAll(t *testing.T) {
	t.Helper()
	if _, err := f.svc.RecomputeAll(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestRecomputeWritesTheRegistryTheRulesRead: a rule reading credit.level
// sees a record's weight, and the daily recompute lets it fade.
func TestRecomputeWritesTheRegistryTheRulesRead(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		p, id := f.person(t, "001", "钱守信")
		who := hub.Subject{Kind: hub.Person, Key: id}
		prog, problems := rules.Compile(catalog.Item{Code: "11910102MB00011858-07-00099", Rules: []catalog.Rule{{ID: "good_credit", Expr: `credit.level in ["A", "B"]`, OnFail: "reject",
			Description: catalog.Text{Zh: "信用良好", En: "Good credit"}, Reason: catalog.Text{Zh: "信用等级低于B级", En: "Credit below B"}}}})
		if len(problems) > 0 {
			t.Fatal(problems)
		}
		decide := func() rules.Outcome {
			r := f.registryRecord(t, who)
			level, _ := r["level"].(string)
			black, _ := r["blacklisted"].(bool)
			return prog.Decide(rules.Input{Credit: &rules.Credit{Level: level, Blacklisted: black}, Sources: map[string]hub.Record{}}, *f.now).Outcome
		}

		f.record(t, p, 0, 0, credit.FalseCommitment, "")
		if r := f.registryRecord(t, who); r["level"] != "C" || r["blacklisted"] != false || r["red_list"] != false || r["records"] != int64(1) {
			t.Errorf("after a false commitment the registry holds %v", r)
		}
		if got := decide(); got != rules.Reject {
			t.Errorf("a rule asking for level A or B on level C: %s", got)
		}
		// Two years on, the record weighs a quarter: the daily recompute
		// lifts the level without any new record.
		*f.now = day0.Add(days(800))
		f.recomputeAll(t)
		if r := f.registryRecord(t, who); r["level"] != "A" {
			t.Errorf("two years on the level is %v", r["level"])
		}
		if got := decide(); got != rules.Approve {
			t.Errorf("the rule two years on: %s", got)
		}
		// Four years on, with no new record, the person is on the red list.
		*f.now = day0.Add(days(4 * 365))
		f.recomputeAll(t)
		if r := f.registryRecord(t, who); r["red_list"] != true {
			t.Errorf("four years on: %v", r)
		}
	})
}

// TestEnterpriseRecordsMakeTheEnterpriseLevel: a record of an application
// made for an enterprise counts for the enterprise, not its agent.
func TestEnterpriseRecordsMakeTheEnterpriseLevel(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		p, id := f.person(t, "002", "孙经办")
		const code = "91350100M000100Y43"
		ent, err := f.ids.PutEnterprise(ctx, db, code, "示范贸易有限公司", p.PersonID)
		if err != nil {
			t.Fatal(err)
		}
		f.record(t, p, ent, 0, credit.FalseCommitment, "")
		f.record(t, p, ent, 1, credit.SpotCheckFailed, "")
		if r := f.registryRecord(t, hub.Subject{Kind: hub.Enterprise, Key: code}); r["level"] != "D" || r["blacklisted"] != true || r["records"] != int64(2) {
			t.Errorf("the enterprise's credit: %v", r)
		}
		if _, err := f.registry.Fetch(ctx, "credit", hub.Subject{Kind: hub.Person, Key: id}, []string{"level"}); err == nil {
			t.Error("the agent has a credit record of their own for the enterprise's records")
		}
		// The enterprise may not pledge; its agent, for themselves, may.
		if err := f.svc.MayPledge(ctx, db, credit.Subject{EnterpriseID: ent}); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a blacklisted enterprise pledging: %v", err)
		}
		if err := f.svc.MayPledge(ctx, db, credit.Subject{PersonID: p.PersonID}); err != nil {
			t.Errorf("the agent pledging for themselves: %v", err)
		}
		p.ActingFor = &authz.Enterprise{ID: ent, CreditCode: code, Name: "示范贸易有限公司"}
		v, err := f.svc.Mine(ctx, p)
		if err != nil || v.Level != "D" || !v.Blacklisted || len(v.Records) != 2 || v.Enterprise != "示范贸易有限公司" {
			t.Errorf("the enterprise's credit as its agent sees it: %+v, %v", v, err)
		}
	})
}

// TestRepairIsDecidedByRulesOrByTheRecordsDepartment walks a repair each way.
func TestRepairIsDecidedByRulesOrByTheRecordsDepartment(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		p, id := f.person(t, "003", "李改正")
		who := hub.Subject{Kind: hub.Person, Key: id}
		late := f.record(t, p, 0, 0, credit.OverdueSupplement, "photo")
		late2 := f.record(t, p, 0, 0, credit.OverdueSupplement, "form")
		falseOne := f.record(t, p, 0, 1, credit.FalseCommitment, "")
		if r := f.registryRecord(t, who); r["blacklisted"] != true || r["level"] != "D" {
			t.Fatalf("before any repair: %v", r)
		}
		if err := f.svc.MayPledge(ctx, db, credit.Subject{PersonID: p.PersonID}); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a blacklisted person pledging: %v", err)
		}

		// Too early: refused with the first day it may be applied for.
		*f.now = day0.Add(days(30))
		_, err := f.svc.Apply(ctx, p, credit.RepairRequest{RecordID: late, Statement: "已补交", Pledge: true})
		if e := apperr.As(err); e == nil || e.Code != apperr.CreditRepairTooEarly || !strings.Contains(strings.Join(web.ErrorDetails("zh", e), ""), "2026-04-10") {
			t.Fatalf("a repair a month on: %v", err)
		}
		// Without the pledge signed: refused.
		*f.now = day0.Add(days(91))
		if _, err := f.svc.Apply(ctx, p, credit.RepairRequest{RecordID: late, Statement: "已补交"}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a repair without the pledge: %v", err)
		}
		// Someone else's record is not theirs to repair.
		other, _ := f.person(t, "004", "周旁人")
		if _, err := f.svc.Apply(ctx, other, credit.RepairRequest{RecordID: late, Statement: "x", Pledge: true}); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("repairing another person's record: %v", err)
		}

		// The material since supplied: the rules approve at once.
		if _, err := db.ExecContext(ctx, `UPDATE deferrals SET supplied_at = $1 WHERE material_id = 'photo'`, *f.now); err != nil {
			t.Fatal(err)
		}
		rep, err := f.svc.Apply(ctx, p, credit.RepairRequest{RecordID: late, Pledge: true})
		if err != nil || rep.Status != "approved" || !rep.ByMachine {
			t.Fatalf("a repair with the material supplied: %+v, %v", rep, err)
		}
		if r := f.registryRecord(t, who); r["records"] != int64(2) || r["blacklisted"] != false {
			t.Errorf("after one late supplement repaired: %v", r)
		}
		if m := f.told.last(); m.AccountID != p.AccountID || !strings.Contains(m.TitleZh, "已通过") {
			t.Errorf("the person was told %+v", m)
		}
		if _, err := f.svc.Apply(ctx, p, credit.RepairRequest{RecordID: late, Pledge: true}); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("repairing a repaired record: %v", err)
		}

		// The material never supplied: a person of the department decides.
		rep2, err := f.svc.Apply(ctx, p, credit.RepairRequest{RecordID: late2, Statement: "材料已线下补交窗口", Pledge: true})
		if err != nil || rep2.Status != "pending" {
			t.Fatalf("a repair to review: %+v, %v", rep2, err)
		}
		if _, err := f.svc.Apply(ctx, p, credit.RepairRequest{RecordID: late2, Statement: "再次申请", Pledge: true}); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("a second repair while one is pending: %v", err)
		}
		// The false commitment is older than 180 days from day0+181.
		*f.now = day0.Add(days(181))
		rep3, err := f.svc.Apply(ctx, p, credit.RepairRequest{RecordID: falseOne, Statement: "已如实补充材料并接受核查", Pledge: true})
		if err != nil || rep3.Status != "pending" {
			t.Fatalf("a false commitment's repair: %+v, %v", rep3, err)
		}

		head := func(dept string) authz.Principal {
			return authz.Principal{Kind: "staff", AccountID: p.AccountID, Name: "审核员", Department: dept, Roles: []authz.Role{authz.Head}}
		}
		// Department 0 sees and decides its own repair, not department 1's.
		mine, err := f.svc.Queue(ctx, head(f.items[0].dept))
		if err != nil || len(mine) != 2 || mine[0].ID != rep2.ID || mine[0].Statement != "材料已线下补交窗口" {
			t.Errorf("department 0's queue: %+v, %v", mine, err)
		}
		for _, r := range mine {
			if r.ID == rep3.ID {
				t.Errorf("department 0 sees department 1's repair")
			}
		}
		if _, err := f.svc.Decide(ctx, head(f.items[0].dept), rep3.ID, true, ""); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("department 0 deciding department 1's repair: %v", err)
		}
		if _, err := f.svc.Decide(ctx, head(f.items[1].dept), rep3.ID, false, ""); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a refusal without a reason: %v", err)
		}
		reviewer := head(f.items[0].dept)
		reviewer.Roles = []authz.Role{authz.Reviewer}
		if _, err := f.svc.Decide(ctx, reviewer, rep2.ID, true, ""); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a reviewer without the right to decide: %v", err)
		}
		got, err := f.svc.Decide(ctx, head(f.items[1].dept), rep3.ID, false, "未提供履行义务的证明")
		if err != nil || got.Status != "refused" {
			t.Fatalf("refusing: %+v, %v", got, err)
		}
		if m := f.told.last(); !strings.Contains(m.BodyZh, "未提供履行义务的证明") {
			t.Errorf("the person was told %+v", m)
		}
		got, err = f.svc.Decide(ctx, head(f.items[0].dept), rep2.ID, true, "")
		if err != nil || got.Status != "approved" || got.ByMachine {
			t.Fatalf("approving: %+v, %v", got, err)
		}
		if _, err := f.svc.Decide(ctx, head(f.items[0].dept), rep2.ID, true, ""); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("deciding twice: %v", err)
		}
		// Two repaired, the false commitment left, half-faded: level B.
		v, err := f.svc.Mine(ctx, p)
		if err != nil || v.Level != "B" || v.Blacklisted || v.Open != 1 || len(v.Records) != 3 {
			t.Errorf("the person's credit after the repairs: %+v, %v", v, err)
		}
		for _, r := range v.Records {
			if r.ID == falseOne && (r.Repair == nil || r.Repair.Status != "refused" || !r.CanRepair) {
				t.Errorf("the refused record: %+v", r)
			}
			if r.ID == late && (r.RepairedAt == nil || r.CanRepair) {
				t.Errorf("the repaired record: %+v", r)
			}
		}
	})
}
