package application

import (
	"context"
	"database/sql"
	"errors"

	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/rules"
)

// Initiative is an application the platform makes for a person on its own
// initiative (免申即享): the proactive services (internal/proactive) ask
// for one when a person qualifies by a date or a registry event. It goes
// through the item's own rules, decision record and approval mode like any
// application; the government's data stands in for what the person would
// type, so an item whose form asks the person something cannot be granted.
type Initiative struct {
	ItemCode string
	IDNumber string
	Name     string
	Phone    string
	// Basis says why the platform acts, in Chinese, for the person's list
	// of who read their data: e.g. 年满60周岁.
	Basis string
}

// The outcomes of planning an initiative.
const (
	// InitiativeGrant: the rules approve; the platform may make and decide
	// the application.
	InitiativeGrant = "grant"
	// InitiativeRefused: a rule refuses; nothing is made and nobody told.
	InitiativeRefused = "refused"
	// InitiativeOffer: data is missing or unavailable, the form asks the
	// person something, or a person must decide: the item is offered instead.
	InitiativeOffer = "offer"
)

// PlannedInitiative is an initiative read and decided but not yet written:
// planning reads, writing only writes, so many can be planned at once and
// written together in one transaction.
type PlannedInitiative struct {
	Outcome string
	// Reasons say why it was refused or only offered.
	Reasons []rules.Reason
	// Decision is the machine decision a grant is made on (nil otherwise).
	Decision *rules.Decision

	d       draft
	fetched []hub.Fetched
}

// incompleteReason: the form asks something no source answers.
var incompleteReason = rules.Reason{Code: "needs_the_person", Text: catalog.Text{Zh: "申请表有需本人填写或选择的内容", En: "The form asks the person something the records do not answer"}}

// PlanInitiative reads what item in.ItemCode needs about the person, fills
// its form, works out its computed fields and decides it by its rules, as
// the platform's proactive-service account by. It writes nothing.
func (s *Drafts) PlanInitiative(ctx context.Context, by authz.Principal, in Initiative) (*PlannedInitiative, error) {
	w := who{p: by, idNumber: in.IDNumber, name: in.Name, phone: in.Phone, initiative: true}
	d, err := s.planDraft(ctx, w, StartRequest{ItemCode: in.ItemCode, Channel: "web"}, "")
	if err != nil {
		return nil, err
	}
	d.purpose = "主动服务：依据「" + d.version.Item.Name.Zh + "」政策为您办理（" + in.Basis + "）"
	d.app.Initiative = "proactive"
	it := d.version.Item
	prog, err := s.submissionRules(ctx, d.version, &d.need)
	if err != nil {
		return nil, err
	}
	records, statuses, fetched := s.fetchAll(ctx, w, "", d.need, d.purpose)
	d.fill(records, statuses)
	now := s.now()
	d.compute(records, statuses, now)
	pl := &PlannedInitiative{d: d, fetched: fetched}
	a := &pl.d.app
	a.CreatedAt, a.Revision = now, 1
	a.Mismatches = []Mismatch{}
	decision := s.decideSubmission(*a, it, w, prog, records, statuses, now)
	switch {
	case decision == nil:
		pl.Outcome, pl.Reasons = InitiativeOffer, []rules.Reason{peopleDecide}
	case decision.Outcome == rules.Reject:
		pl.Outcome, pl.Reasons = InitiativeRefused, decision.Reasons
	case decision.Outcome != rules.Approve:
		pl.Outcome, pl.Reasons = InitiativeOffer, decision.Reasons
	case checkComplete(d.fields, a.Form) != nil:
		pl.Outcome, pl.Reasons = InitiativeOffer, []rules.Reason{incompleteReason}
	default:
		pl.Outcome, pl.Decision = InitiativeGrant, decision
	}
	return pl, nil
}

// WriteInitiative writes a granted initiative for person (their persons
// row) in tx: the platform's record of the reads (under the proactive
// account, with the policy as purpose), the application, its submission
// with the decision, and what the approval does (the licence or benefit,
// the hub record, the person's notices, the audit entries). It returns the
// application's id.
func (s *Drafts) WriteInitiative(ctx context.Context, tx *sql.Tx, pl *PlannedInitiative, person int64) (int64, error) {
	if pl.Outcome != InitiativeGrant {
		return 0, errors.New("application: only a granted initiative is written")
	}
	// A copy, so that a batch written again after a failed one starts
	// from the plan, not from what the failed attempt left in it.
	d := pl.d
	d.app.consents = nil
	d.w.personID, d.app.personID = person, person
	if err := s.grantConsents(ctx, tx, &d); err != nil {
		return 0, err
	}
	a := &d.app
	if err := s.saveDraft(ctx, tx, a, d.w.p, 0); err != nil {
		return 0, err
	}
	for i := range pl.fetched {
		pl.fetched[i].Application, pl.fetched[i].Consent = a.ID, a.consentFor(pl.fetched[i].Subject)
	}
	if err := s.reader.LogReads(ctx, tx, pl.fetched); err != nil {
		return 0, err
	}
	if err := s.submitIn(ctx, tx, d.w, a, d.version.Item, pl.Decision, a.CreatedAt); err != nil {
		return 0, err
	}
	return a.ID, nil
}
