package application_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/rules"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// The senior card (rules age_60 and local_household, both on_fail: reject)
// is made a commitment, a filing, an item with co-parties and one with a
// deferred material, and each is submitted four times by 赵老汉: as he is
// (every rule passes), with his household moved out of the district (a rule
// fails), on the credit blacklist, and with the population registry down.

// ruleCase is one of the four submissions and what its applicant sees.
type ruleCase struct {
	name    string
	change  func(t *testing.T, r registries) // what is different this time
	status  string                           // the application's status after submission (and the co-party's answer)
	outcome rules.Outcome                    // the decision's outcome
	code    string                           // a reason code the decision has
	reason  string                           // and part of the words the applicant reads for it
}

// registries changes what the built-in registries and the connector answer.
type registries struct {
	f    fixture
	db   *store.DB
	down *atomic.Bool
}

func (r registries) put(t *testing.T, source string, rec hub.Record) {
	t.Helper()
	if err := r.f.builtin.Put(context.Background(), r.db, source, hub.Subject{Kind: hub.Person, Key: r.f.idNum}, rec); err != nil {
		t.Fatal(err)
	}
}

// population is 赵老汉's population record with his household in region.
func (r registries) population(t *testing.T, region string) {
	r.put(t, "population", hub.Record{"name": "赵老汉", "id_number": r.f.idNum, "address": "示范市明德区福安街道幸福路1号", "household": "HH-001", "household_region": region, "birth_date": "1960-03-15"})
}

// ruleCases are the four submissions; passed is the status of one that passes.
func ruleCases(passed string) []ruleCase {
	return []ruleCase{
		{name: "pass", change: func(*testing.T, registries) {}, status: passed, outcome: rules.Approve},
		{name: "rule fails", change: func(t *testing.T, r registries) { r.population(t, "910105002001") },
			status: "rejected", outcome: rules.Reject, code: "local_household", reason: "户籍不在本区"},
		{name: "blacklisted", change: func(t *testing.T, r registries) {
			r.put(t, "credit", hub.Record{"level": "A", "blacklisted": true})
		}, status: "submitted", outcome: rules.Manual, code: "credit.blacklisted", reason: "失信名单"},
		{name: "data unavailable", change: func(t *testing.T, r registries) { r.down.Store(true) },
			status: "submitted", outcome: rules.Manual, code: "local_household", reason: "暂时无法取得"},
	}
}

// modeRun is how one mode's application is readied and followed.
type modeRun struct {
	mutate  func(it *catalog.Item)
	prepare func(t *testing.T, f fixture, a application.Application) // before submission
	after   func(t *testing.T, f fixture, a application.Application) // after it, when not rejected
	passed  string                                                   // the status of an application that passes its rules
	check   func(t *testing.T, f fixture, db *store.DB, c ruleCase, a application.Application)
}

// runRuleCases submits the four cases in mode m, each on a fresh database,
// one after another (the hooks of a mode may share what prepare made), and
// checks what the applicant sees and the staff's decision record.
func runRuleCases(t *testing.T, m modeRun) {
	for _, c := range ruleCases(m.passed) {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				down := &atomic.Bool{}
				f := setupWith(t, db, func(c hub.Connector) hub.Connector { return flaky{c, down} }, seniorCardAs(m.mutate))
				st := makeStaff(t, f.ids)
				f.apps.SetNow((&clock{at(15, 9)}).now)
				a := draft(t, f)
				if m.prepare != nil {
					m.prepare(t, f, a)
				}
				c.change(t, registries{f, db, down})
				a, err := f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, "")
				if err != nil {
					t.Fatal(err)
				}
				if m.after != nil && a.Status != "rejected" {
					down.Store(false)
					m.after(t, f, a)
				}
				if a, err = f.apps.Drafts.Get(ctx, f.p, a.ID); err != nil {
					t.Fatal(err)
				}
				checkRuleCase(t, f, db, st.civil, c, a)
				if m.check != nil {
					m.check(t, f, db, c, a)
				}
			})
		})
	}
}

// checkRuleCase checks what the applicant sees of a and that its decision
// record is there for staff.
func checkRuleCase(t *testing.T, f fixture, db *store.DB, reviewer authz.Principal, c ruleCase, a application.Application) {
	t.Helper()
	if a.Status != c.status {
		t.Errorf("status %s, want %s", a.Status, c.status)
	}
	if a.Decision == nil || a.Decision.Outcome != string(c.outcome) {
		t.Fatalf("the applicant sees the decision %+v, want %s", a.Decision, c.outcome)
	}
	if c.reason != "" && !slices.ContainsFunc(a.Decision.Reasons, func(r string) bool { return strings.Contains(r, c.reason) }) {
		t.Errorf("the applicant reads the reasons %q, want one about %q", a.Decision.Reasons, c.reason)
	}
	if c.outcome == rules.Reject && !slices.ContainsFunc(a.Reasons, func(r string) bool { return strings.Contains(r, c.reason) }) {
		t.Errorf("rejected with the reasons %q, want one about %q", a.Reasons, c.reason)
	}
	d, err := f.apps.Decisions.DecisionRecord(context.Background(), reviewer, a.ID)
	if err != nil {
		t.Fatalf("the decision record: %v", err)
	}
	if d.Outcome != c.outcome || len(d.Rules) != 2 || d.InputsDigest == "" {
		t.Errorf("the decision record: %s with %d rule traces, inputs %q", d.Outcome, len(d.Rules), d.InputsDigest)
	}
	if c.code != "" && !slices.ContainsFunc(d.Reasons, func(r rules.Reason) bool { return r.Code == c.code }) {
		t.Errorf("the decision record's reasons %+v, want %s", d.Reasons, c.code)
	}
	// A case for a person waits in the item's steps, with no licence.
	if c.outcome == rules.Manual {
		if n := rowCount(t, db, `SELECT COUNT(*) FROM tasks WHERE application_id = $1 AND status = 'open' AND stage >= 0`, a.ID); n == 0 {
			t.Error("a case for a person has no open step")
		}
	}
	if c.outcome != rules.Approve {
		if n := rowCount(t, db, `SELECT COUNT(*) FROM licences WHERE application_id = $1`, a.ID); n != 0 {
			t.Errorf("%d licences issued", n)
		}
	}
}

func rowCount(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func asCommitment(it *catalog.Item) {
	it.Approval = catalog.Approval{Mode: "commitment", InspectionDays: 30}
}

func signCommitment(t *testing.T, f fixture, a application.Application) {
	t.Helper()
	if _, err := f.apps.Modes.SignCommitment(context.Background(), f.p, a.ID, 0, a.Modes.CommitmentText); err != nil {
		t.Fatal(err)
	}
}

// inspections counts a's inspection tasks: the commitment route's.
func inspections(t *testing.T, db *store.DB, a application.Application) int {
	return rowCount(t, db, `SELECT COUNT(*) FROM tasks WHERE application_id = $1 AND step_id = 'inspection'`, a.ID)
}

// checkCommitmentRoute: only a pass takes the commitment route.
func checkCommitmentRoute(t *testing.T, _ fixture, db *store.DB, c ruleCase, a application.Application) {
	if n := inspections(t, db, a); (n == 1) != (c.outcome == rules.Approve) {
		t.Errorf("%d inspections for a %s", n, c.outcome)
	}
}

func TestCommitmentRunsItsRulesAndCreditCheck(t *testing.T) {
	t.Parallel()
	runRuleCases(t, modeRun{mutate: asCommitment, prepare: signCommitment, passed: "licence_issued", check: checkCommitmentRoute})
}

func TestFilingRunsItsRulesAndCreditCheck(t *testing.T) {
	t.Parallel()
	runRuleCases(t, modeRun{
		mutate: func(it *catalog.Item) { it.Approval = catalog.Approval{Mode: "filing", NoticeDays: 3} },
		passed: "submitted",
		check: func(t *testing.T, _ fixture, _ *store.DB, c ruleCase, a application.Application) {
			// Only a pass goes on public notice.
			onNotice := a.Modes != nil && a.Modes.Notice != nil
			if onNotice != (c.outcome == rules.Approve) {
				t.Errorf("a %s is on notice: %v", c.outcome, onNotice)
			}
		},
	})
}

// TestCoPartiesRunTheRulesAtSubmission: the rules decide at submission; a
// rejection asks no co-party, the others wait for the spouse, whose
// confirmation starts the path the stored decision says.
func TestCoPartiesRunTheRulesAtSubmission(t *testing.T) {
	t.Parallel()
	var spouse authz.Principal
	runRuleCases(t, modeRun{
		mutate: func(it *catalog.Item) {
			asCommitment(it)
			it.Parties = []catalog.Party{{Role: "elder", Label: catalog.Text{Zh: "老年人", En: "Senior"}}, {Role: "spouse", Label: catalog.Text{Zh: "配偶", En: "Spouse"}}}
		},
		prepare: func(t *testing.T, f fixture, a application.Application) {
			signCommitment(t, f, a)
			var spouseID string
			spouse, spouseID = person(t, f, "19620505", "246", "钱老太")
			if _, err := f.apps.Modes.NameParties(context.Background(), f.p, a.ID, 0, "elder", []application.PartyRequest{{Role: "spouse", IDNumber: spouseID, Name: "钱老太"}}); err != nil {
				t.Fatal(err)
			}
		},
		after: func(t *testing.T, f fixture, a application.Application) {
			if a.Status != "submitted" || a.Modes.Parties[1].Status != "invited" {
				t.Fatalf("waiting for the spouse: %s %+v", a.Status, a.Modes.Parties)
			}
			if _, err := f.apps.Modes.AnswerInvitation(context.Background(), spouse, a.ID, true, ""); err != nil {
				t.Fatal(err)
			}
		},
		passed: "licence_issued",
		check: func(t *testing.T, f fixture, db *store.DB, c ruleCase, a application.Application) {
			checkCommitmentRoute(t, f, db, c, a)
			if inv, _ := f.apps.Modes.Invitations(context.Background(), spouse); (len(inv) == 0) != (c.outcome == rules.Reject) {
				t.Errorf("the spouse has %d invitations to a %s", len(inv), c.outcome)
			}
		},
	})
}

// TestDeferralRunsTheRules: a commitment whose required photo is deferred
// (容缺) is decided by its rules like any other; the deferred photo is not
// missing.
func TestDeferralRunsTheRules(t *testing.T) {
	t.Parallel()
	runRuleCases(t, modeRun{
		mutate: func(it *catalog.Item) {
			asCommitment(it)
			it.Materials = append(it.Materials, catalog.Material{ID: "photo", Name: catalog.Text{Zh: "近期免冠照片", En: "Recent photo"},
				Required: true, Deferrable: true, Sources: []catalog.MaterialSource{{Upload: true}}, Trust: "C"})
		},
		prepare: func(t *testing.T, f fixture, a application.Application) {
			signCommitment(t, f, a)
			if _, err := f.apps.Modes.DeferMaterial(context.Background(), f.p, a.ID, 0, "photo", "2026-06-30"); err != nil {
				t.Fatal(err)
			}
		},
		passed: "licence_issued",
		check:  checkCommitmentRoute,
	})
}

// TestManualItemRulesOnlyAdvise: a manual item's failing reject rule does
// not reject; the case goes to its steps with the rule's reason recorded
// for the reviewer.
func TestManualItemRulesOnlyAdvise(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setupWith(t, db, nil, seniorCardAs(func(it *catalog.Item) { it.Approval = catalog.Approval{Mode: "manual"} }))
		st := makeStaff(t, f.ids)
		r := registries{f: f, db: db}
		r.population(t, "910105002001")
		a, err := f.apps.Drafts.Submit(context.Background(), f.p, draft(t, f).ID, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		checkRuleCase(t, f, db, st.civil, ruleCase{status: "submitted", outcome: rules.Manual, code: "local_household", reason: "户籍不在本区"}, a)
		if a.Decision.Reasons[0] != "本事项由工作人员审批，审查规则的核验结果供审核参考" {
			t.Errorf("the first reason is %q", a.Decision.Reasons[0])
		}
	})
}

// TestApplyRunsTheRulesOfAFiling: the one-call path decides like Submit.
func TestApplyRunsTheRulesOfAFiling(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setupWith(t, db, nil, seniorCardAs(func(it *catalog.Item) { it.Approval = catalog.Approval{Mode: "filing", NoticeDays: 3} }))
		st := makeStaff(t, f.ids)
		registries{f: f, db: db}.put(t, "credit", hub.Record{"level": "A", "blacklisted": true})
		a, err := f.apps.Drafts.Apply(context.Background(), f.p, application.ApplyRequest{
			StartRequest: application.StartRequest{ItemCode: seniorCard, IdempotencyKey: "filing-1"}, Consent: true, Form: map[string]any{"delivery": "post"}})
		if err != nil {
			t.Fatal(err)
		}
		checkRuleCase(t, f, db, st.civil, ruleCase{status: "submitted", outcome: rules.Manual, code: "credit.blacklisted", reason: "失信名单"}, a)
		if a.Modes != nil && a.Modes.Notice != nil {
			t.Errorf("a blacklisted applicant's filing is on notice: %+v", a.Modes.Notice)
		}
	})
}
