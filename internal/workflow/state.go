// Package workflow is the life of an application (办件) as pure rules: which
// status it is in, which actions move it on, and how an item's back-office
// steps form stages that run one after another, the steps of a stage at
// once (并联审批). It touches no database, so every transition can be tested
// in a table and the application package stores what this package allows.
package workflow

import (
	"fmt"
	"slices"
)

// Status is where an application stands.
type Status string

// The statuses of an application.
const (
	Draft         Status = "draft"                // being filled in by the applicant
	Submitted     Status = "submitted"            // waiting for acceptance (受理)
	Accepted      Status = "accepted"             // accepted; the statutory clock runs
	NotAccepted   Status = "not_accepted"         // 不予受理, with reasons
	Correction    Status = "correction_requested" // 补正: the applicant must supply what is listed; the clock stops
	UnderReview   Status = "under_review"         // departments are reviewing
	Special       Status = "special_procedure"    // hearing, testing, expert review; the clock stops
	Approved      Status = "approved"             // 准予许可
	Rejected      Status = "rejected"             // 不予许可, with reasons
	LicenceIssued Status = "licence_issued"       // the e-licence exists
	Delivered     Status = "delivered"            // the result reached the applicant (送达)
	Withdrawn     Status = "withdrawn"            // the applicant withdrew before a decision
	Revoked       Status = "revoked"              // 撤销 after issuance, with a reason
)

// Statuses lists every status, in the order an application usually meets them.
var Statuses = []Status{Draft, Submitted, Accepted, NotAccepted, Correction, UnderReview, Special, Approved, Rejected, LicenceIssued, Delivered, Withdrawn, Revoked}

// Action is something that happens to an application.
type Action string

// The actions, each done by the applicant, staff, the machine or the system.
const (
	Submit            Action = "submit"             // applicant: hand in the draft
	Accept            Action = "accept"             // clerk: accept (受理)
	Refuse            Action = "refuse"             // clerk: do not accept (不予受理), or co-parties refused
	RequestCorrection Action = "request_correction" // staff: list everything missing at once (一次性告知)
	Supply            Action = "supply"             // applicant: supply what the correction asked for
	StartReview       Action = "start_review"       // system: the review steps open
	StartSpecial      Action = "start_special"      // reviewer: hearing, testing or expert review
	EndSpecial        Action = "end_special"        // reviewer: the special procedure is over
	Approve           Action = "approve"            // staff or machine: approve
	Reject            Action = "reject"             // staff or machine: reject with reasons
	Issue             Action = "issue"              // system: the licence was issued
	Deliver           Action = "deliver"            // system or clerk: the result was delivered
	Withdraw          Action = "withdraw"           // applicant: withdraw before a decision
	Revoke            Action = "revoke"             // authorised staff: revoke after approval
)

// resume stands in the table for "back to the status the clock stopped in".
const resume Status = "(resume)"

// transitions is the whole state machine: for each status, the actions
// allowed in it and where each leads. Anything not listed is forbidden.
var transitions = map[Status]map[Action]Status{
	Draft: {Submit: Submitted, Withdraw: Withdrawn},
	// Machine decisions (秒批) and commitments (告知承诺) decide right at submission.
	Submitted: {Accept: Accepted, Refuse: NotAccepted, RequestCorrection: Correction, Approve: Approved, Reject: Rejected, Withdraw: Withdrawn},
	Accepted:  {StartReview: UnderReview, Approve: Approved, Reject: Rejected, Withdraw: Withdrawn},
	// Supplying the correction resumes where it was requested: acceptance or review.
	Correction:    {Supply: resume, Refuse: NotAccepted, Withdraw: Withdrawn},
	UnderReview:   {RequestCorrection: Correction, StartSpecial: Special, Approve: Approved, Reject: Rejected, Withdraw: Withdrawn},
	Special:       {EndSpecial: UnderReview, Reject: Rejected, Withdraw: Withdrawn},
	Approved:      {Issue: LicenceIssued, Deliver: Delivered, Revoke: Revoked},
	LicenceIssued: {Deliver: Delivered, Revoke: Revoked},
	Delivered:     {Revoke: Revoked},
}

// TransitionError says an action is not allowed in a status, and what is.
type TransitionError struct {
	From    Status
	Action  Action
	Allowed []Action
}

func (e *TransitionError) Error() string {
	if len(e.Allowed) == 0 {
		return fmt.Sprintf("an application that is %s is final: %s is not possible", e.From, e.Action)
	}
	return fmt.Sprintf("an application that is %s cannot %s (possible: %v)", e.From, e.Action, e.Allowed)
}

// Case is an application's place in the machine: its status and, while the
// clock is stopped for a correction, the status to resume.
type Case struct {
	Status      Status
	StoppedFrom Status // for Correction: Submitted or UnderReview
}

// Next returns where action leads from c, or a *TransitionError when the
// action is not allowed there.
func (c Case) Next(action Action) (Case, error) {
	to, ok := transitions[c.Status][action]
	if !ok {
		return Case{}, &TransitionError{From: c.Status, Action: action, Allowed: Allowed(c.Status)}
	}
	switch {
	case to == resume:
		back := c.StoppedFrom
		if back != UnderReview {
			back = Submitted
		}
		return Case{Status: back}, nil
	case to == Correction:
		return Case{Status: to, StoppedFrom: c.Status}, nil
	}
	return Case{Status: to}, nil
}

// Next returns the status that action leads to from status (a correction
// requested there resumes there).
func Next(from Status, action Action) (Status, error) {
	c, err := Case{Status: from, StoppedFrom: from}.Next(action)
	return c.Status, err
}

// Allowed lists the actions possible in status, sorted.
func Allowed(status Status) []Action {
	var out []Action
	for a := range transitions[status] {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Final reports whether nothing more can happen to an application in status.
func Final(status Status) bool { return len(transitions[status]) == 0 }

// Decided reports whether the application has its decision (or none will come).
func Decided(status Status) bool {
	switch status {
	case Draft, Submitted, Accepted, Correction, UnderReview, Special:
		return false
	}
	return true
}

// ClockStopped reports whether the statutory clock is stopped in status.
func ClockStopped(status Status) bool { return status == Correction || status == Special }
