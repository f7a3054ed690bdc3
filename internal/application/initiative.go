package application

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/licence"
	"yiwang/internal/notify"
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
	// Answers are the item's situation answers the trigger implies.
	Answers  map[string]string
	IDNumber string
	Name     string
	Phone    string
	// At is when the rules judge it (ages are counted on its day); zero:
	// now. A dry run for a day to come judges on that day.
	At time.Time
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
	d, err := s.planDraft(ctx, w, StartRequest{ItemCode: in.ItemCode, Answers: in.Answers, Channel: "web"}, "")
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
	if !in.At.IsZero() {
		now = in.At
	}
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

// Decline is the person turning down what the platform granted them on its
// own initiative (免申即享): the licence or benefit is cancelled (注销) with
// the person's reason, the timeline says so, and the person is told. Only
// the person it was granted to may, once.
func (s *Drafts) Decline(ctx context.Context, p authz.Principal, id int64, reason string) (Application, error) {
	a, err := s.own(ctx, p, id)
	if err != nil {
		return Application{}, err
	}
	if a.Initiative == "" {
		return Application{}, apperr.New(apperr.Conflict, apperr.NotGranted, "application %d was made by its applicant: withdraw it, or ask for its licence to be cancelled", id)
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		reason = "本人申请放弃"
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		a, err := s.lockForAction(ctx, tx, id, 0)
		if err != nil {
			return err
		}
		var declined sql.NullTime
		if err := tx.QueryRowContext(ctx, `SELECT declined_at FROM proactive_actions WHERE application_id = $1`, id).Scan(&declined); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if declined.Valid {
			return apperr.New(apperr.Conflict, apperr.AlreadyDeclined, "application %d was declined already", id)
		}
		v, err := s.catalog.VersionByID(ctx, a.VersionID)
		if err != nil {
			return err
		}
		by := actor{"applicant", p.AccountID, p.Name}
		if out := v.Item.Output; out != nil && out.Licence != "" {
			holder, err := s.applicantHolder(ctx, tx, &a)
			if err != nil {
				return err
			}
			_, err = s.licences.CancelTx(ctx, tx, licence.Held{Type: out.Licence, Holder: holder},
				licence.End{Reason: reason, By: fmt.Sprintf("applicant:%d", p.AccountID), ApplicationID: a.ID, ApplicationNumber: a.Number})
			if err != nil && !apperr.Is(err, apperr.Conflict) {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE proactive_actions SET declined_at = $1 WHERE application_id = $2`, s.now(), id); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a.ID, by, "declined", a.Status, a.Status, reason, nil); err != nil {
			return err
		}
		_, err = s.notify.Send(ctx, tx, notify.Message{PersonID: a.personID, Kind: notify.Decision, ApplicationID: a.ID, Link: fmt.Sprintf("/applications/%d", a.ID),
			TitleZh: "您已放弃「" + v.Item.Name.Zh + "」", TitleEn: "You declined " + v.Item.Name.In("en"),
			BodyZh: "相应证照或待遇已注销。如需恢复，可随时重新申请。", BodyEn: "Its licence or benefit is cancelled. Apply again whenever you wish."})
		return err
	})
	if err != nil {
		return Application{}, err
	}
	return s.get(ctx, p, id)
}
