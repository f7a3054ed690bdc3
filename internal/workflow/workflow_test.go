package workflow

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// allowed is the state machine written out independently of the code, one
// line per allowed transition. Every other (status, action) pair must fail.
var allowed = []struct {
	from   Status
	action Action
	to     Status
}{
	{Draft, Submit, Submitted},
	{Draft, Withdraw, Withdrawn},
	{Submitted, Accept, Accepted},
	{Submitted, Refuse, NotAccepted},
	{Submitted, RequestCorrection, Correction},
	{Submitted, Approve, Approved},
	{Submitted, Reject, Rejected},
	{Submitted, Withdraw, Withdrawn},
	{Accepted, StartReview, UnderReview},
	{Accepted, Approve, Approved},
	{Accepted, Reject, Rejected},
	{Accepted, Withdraw, Withdrawn},
	{Correction, Supply, Submitted}, // requested at acceptance: see TestCorrectionResumes
	{Correction, Refuse, NotAccepted},
	{Correction, Withdraw, Withdrawn},
	{UnderReview, RequestCorrection, Correction},
	{UnderReview, StartSpecial, Special},
	{UnderReview, Approve, Approved},
	{UnderReview, Reject, Rejected},
	{UnderReview, Withdraw, Withdrawn},
	{Special, EndSpecial, UnderReview},
	{Special, Reject, Rejected},
	{Special, Withdraw, Withdrawn},
	{Approved, Issue, LicenceIssued},
	{Approved, Deliver, Delivered},
	{Approved, Revoke, Revoked},
	{LicenceIssued, Deliver, Delivered},
	{LicenceIssued, Revoke, Revoked},
	{Delivered, Revoke, Revoked},
}

var actions = []Action{Submit, Accept, Refuse, RequestCorrection, Supply, StartReview, StartSpecial, EndSpecial, Approve, Reject, Issue, Deliver, Withdraw, Revoke}

func TestEveryAllowedTransition(t *testing.T) {
	for _, tt := range allowed {
		got, err := Next(tt.from, tt.action)
		if err != nil || got != tt.to {
			t.Errorf("Next(%s, %s) = %s, %v; want %s", tt.from, tt.action, got, err, tt.to)
		}
	}
}

func TestEveryForbiddenTransitionFailsClearly(t *testing.T) {
	ok := map[[2]string]bool{}
	for _, tt := range allowed {
		ok[[2]string{string(tt.from), string(tt.action)}] = true
	}
	forbidden := 0
	for _, from := range Statuses {
		for _, a := range actions {
			if ok[[2]string{string(from), string(a)}] {
				continue
			}
			forbidden++
			to, err := Next(from, a)
			var te *TransitionError
			if !errors.As(err, &te) || to != "" {
				t.Errorf("Next(%s, %s) = %q, %v; want a TransitionError", from, a, to, err)
				continue
			}
			msg := err.Error()
			if !strings.Contains(msg, string(from)) || !strings.Contains(msg, string(a)) {
				t.Errorf("the error %q does not say what was refused", msg)
			}
		}
	}
	if want := len(Statuses)*len(actions) - len(allowed); forbidden != want {
		t.Errorf("checked %d forbidden pairs, want %d", forbidden, want)
	}
}

func TestCorrectionResumesWhereItWasRequested(t *testing.T) {
	for _, from := range []Status{Submitted, UnderReview} {
		c, err := Case{Status: from}.Next(RequestCorrection)
		if err != nil || c.Status != Correction || c.StoppedFrom != from {
			t.Fatalf("correction from %s: %+v, %v", from, c, err)
		}
		back, err := c.Next(Supply)
		if err != nil || back != (Case{Status: from}) {
			t.Errorf("supplying a correction requested in %s leads to %+v, %v", from, back, err)
		}
	}
}

func TestFinalStatusesSaySo(t *testing.T) {
	for _, s := range []Status{NotAccepted, Rejected, Withdrawn, Revoked} {
		if !Final(s) {
			t.Errorf("%s should be final", s)
		}
		_, err := Next(s, Withdraw)
		if err == nil || !strings.Contains(err.Error(), "final") {
			t.Errorf("withdrawing a %s application: %v", s, err)
		}
	}
	if Final(Approved) || Final(Draft) {
		t.Error("approved and draft applications can still move")
	}
	if got := Allowed(Correction); !reflect.DeepEqual(got, []Action{Refuse, Supply, Withdraw}) {
		t.Errorf("Allowed(correction) = %v", got)
	}
}

func TestClockStopsOnlyForCorrectionAndSpecialProcedures(t *testing.T) {
	for _, s := range Statuses {
		want := s == Correction || s == Special
		if ClockStopped(s) != want {
			t.Errorf("ClockStopped(%s) = %v", s, !want)
		}
	}
}

func TestStagesGroupParallelSteps(t *testing.T) {
	steps := []Step{{ID: "accept"}, {ID: "a", Group: "g"}, {ID: "b", Group: "g"}, {ID: "c"}, {ID: "d", Group: "h"}, {ID: "e", Group: "g"}}
	var got [][]string
	for _, st := range Stages(steps) {
		var ids []string
		for _, s := range st {
			ids = append(ids, s.ID)
		}
		got = append(got, ids)
	}
	want := [][]string{{"accept"}, {"a", "b"}, {"c"}, {"d"}, {"e"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Stages = %v, want %v", got, want)
	}
	if d := DefaultSteps("civil", 5); len(d) != 3 || d[0].Role != "clerk" || d[2].Role != "head" || d[1].Days+d[2].Days != 5 {
		t.Errorf("DefaultSteps = %+v", d)
	}
}

func TestStageOutcome(t *testing.T) {
	tests := []struct {
		tasks []TaskStatus
		want  StageOutcome
	}{
		{[]TaskStatus{TaskApproved, TaskApproved}, StagePassed},
		{[]TaskStatus{TaskApproved, TaskOpen}, StagePending},
		{[]TaskStatus{TaskClaimed, TaskRejected}, StageRejected},
		{[]TaskStatus{TaskApproved, TaskCancelled}, StagePassed},
		{nil, StagePending},
	}
	for _, tt := range tests {
		if got := Outcome(tt.tasks); got != tt.want {
			t.Errorf("Outcome(%v) = %v, want %v", tt.tasks, got, tt.want)
		}
	}
}
