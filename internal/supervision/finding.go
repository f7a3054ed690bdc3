// Package supervision is 电子监察: the supervisor's board of what needs
// looking at across the platform — late applications, bad ratings waiting
// for rectification, complaints and questions past due, failed spot checks,
// machine approvals switched off — counted by department, with alerts to
// department heads.
//
// Each domain reports its own findings through a Watcher; this package only
// gathers, shows and alerts, so it imports none of them.
package supervision

import (
	"context"
	"time"
)

// Kind names what a finding is about. Labels for people are in Kinds.
type Kind string

// The kinds of finding the board knows, in the order it shows them.
const (
	Overdue           Kind = "overdue"            // applications past their statutory limit
	NearOverdue       Kind = "near_overdue"       // applications within the warning days of it
	BadRating         Kind = "bad_rating"         // ratings of 1-2 whose rectification is not closed
	RectificationLate Kind = "rectification_late" // rectifications past their deadline
	ComplaintLate     Kind = "complaint_late"     // complaints and reports not answered in time
	QuestionLate      Kind = "question_late"      // questions and suggestions not answered in time
	SpotCheckLate     Kind = "spot_check_late"    // spot checks not done by their deadline
	SpotCheckFailed   Kind = "spot_check_failed"  // spot checks found 不合格 in the last 30 days
	MachineOff        Kind = "machine_off"        // items whose machine approval is suspended
)

// Finding is one kind of thing needing attention in one department.
type Finding struct {
	Department string    `json:"department"` // the department's code (org)
	Kind       Kind      `json:"kind"`
	Count      int       `json:"count"`
	Oldest     time.Time `json:"oldest,omitzero"` // since when the oldest has waited, when it has a time
	Link       string    `json:"link"`            // the page a supervisor drills down to
}

// Watcher reports one domain's findings as of now.
type Watcher interface {
	Findings(ctx context.Context, now time.Time) ([]Finding, error)
}

// WatcherFunc adapts a function to a Watcher.
type WatcherFunc func(ctx context.Context, now time.Time) ([]Finding, error)

// Findings calls f.
func (f WatcherFunc) Findings(ctx context.Context, now time.Time) ([]Finding, error) {
	return f(ctx, now)
}
