package application_test

import (
	"context"
	"strings"
	"testing"

	"yiwang/internal/audit"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// A submission that the machine approves puts each step on the audit trail
// in its own transaction: the applicant's submission (a person, by masked
// name), the machine's approval (not a person) and the licence it issued.
func TestSubmissionAndMachineApprovalAreAudited(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, nil)
		a := submitSeniorCard(t, f)
		entries, err := audit.Since(context.Background(), db, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			if e.ObjectKind != "application" && e.ObjectKind != "licence" {
				continue
			}
			who := "machine"
			if e.Human {
				who = "person " + e.ActorName
			}
			got = append(got, e.Action+" by "+who+": "+string(e.Detail))
			if strings.Contains(e.ActorName+string(e.Detail), "赵老汉") || strings.Contains(e.ActorName+e.ObjectID+string(e.Detail), f.idNum) {
				t.Errorf("personal data in clear in %+v", e)
			}
		}
		want := []string{
			`application.start by person 赵**: {"from":"","to":"draft"}`,
			`application.submit by person 赵**: {"from":"draft","to":"submitted"}`,
			`application.approve by machine: {"from":"submitted","to":"approved"}`,
			`licence.issue by machine: {"status":"valid"}`,
			`application.issue by machine: {"from":"approved","to":"licence_issued"}`,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("application %d's audit entries:\n%s\nwant:\n%s", a.ID, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}
