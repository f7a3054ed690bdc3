package application

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/catalog"
	"yiwang/internal/credit"
	"yiwang/internal/hub"
	"yiwang/internal/ident"
	"yiwang/internal/identity"
	"yiwang/internal/licence"
	"yiwang/internal/notify"
	"yiwang/internal/workday"
	"yiwang/internal/workflow"
)

// Issuer issues and revokes e-licences inside the caller's transaction
// (*licence.Service), so there is never a licence without its approved
// application, nor an approved application that lost its licence.
type Issuer interface {
	IssueTx(ctx context.Context, tx *sql.Tx, req licence.Request) (licence.Licence, error)
	RevokeTx(ctx context.Context, tx *sql.Tx, number, reason, by string) (licence.Licence, error)
	CancelTx(ctx context.Context, tx *sql.Tx, held licence.Held, e licence.End) (licence.Licence, error)
}

// approved finishes an approval inside the approving transaction: the
// licence the item cancels is cancelled, its e-licence issued at once (to
// the holder the item names, superseding the licence it replaces) and the
// applicant told. A licence the catalogue cannot fill (a data problem, not a
// crash) or nothing in force to cancel leaves the application approved,
// with the reason on its timeline for staff to resolve.
func (s *core) approved(ctx context.Context, tx *sql.Tx, a *Application, it catalog.Item, by actor) error {
	if it.Output == nil || s.licences == nil {
		return s.tell(ctx, tx, a, "decision")
	}
	if it.Output.Cancels != "" {
		cancelled, err := s.cancelLicence(ctx, tx, a, it, by)
		if err != nil || !cancelled {
			return err
		}
	}
	if it.Output.Licence == "" {
		return s.tell(ctx, tx, a, "decision")
	}
	if t, err := licence.TypeTx(ctx, tx, it.Output.Licence); err == nil && t.Issuer == "external" {
		// Issued by another body in its own system (the bank's account
		// notice): the approval is the platform's result.
		return s.tell(ctx, tx, a, "decision")
	}
	req, party, err := s.licenceRequest(ctx, tx, a, it, by)
	var l licence.Licence
	if err == nil {
		l, err = s.licences.IssueTx(ctx, tx, req)
	}
	if apperr.Is(err, apperr.Invalid) {
		if err := s.record(ctx, tx, a.ID, system, "licence_not_issued", a.Status, a.Status, err.Error(), nil); err != nil {
			return err
		}
		return s.tell(ctx, tx, a, "decision")
	}
	if err != nil {
		return fmt.Errorf("issue the licence of application %d: %w", a.ID, err)
	}
	if err := s.move(ctx, tx, a, workflow.Issue, system, l.Content.Number, map[string]any{"licence": l.Content.Number}, update{}); err != nil {
		return err
	}
	issued := notify.Message{Kind: notify.LicenceIssued, ApplicationID: a.ID, Link: "/me/licences/" + fmt.Sprint(l.ID),
		TitleZh: "办件 " + a.Number + " 已办结，电子证照已签发", TitleEn: "Application " + a.Number + " is approved and its e-licence issued",
		BodyZh: "「" + it.Name.Zh + "」的电子证照编号 " + l.Content.Number + "，可在“我的证照”查看、下载和分享。",
		BodyEn: "The e-licence of " + it.Name.En + " is number " + l.Content.Number + "; see, download and share it under My licences."}
	issued.AccountID, issued.PersonID = a.recipient()
	if party != 0 && party != a.personID {
		// The licence is the co-party's (a transfer's buyer): they are
		// told where to find it, the applicant whom it went to.
		role := partyLabel(it, it.Output.Holder)
		if _, err := s.notify.Send(ctx, tx, notify.Message{PersonID: party, Kind: notify.LicenceIssued, ApplicationID: a.ID, Link: issued.Link,
			TitleZh: "「" + it.Name.Zh + "」已办结，电子证照已签发给您", TitleEn: it.Name.In("en") + " is approved and its e-licence issued to you",
			BodyZh: issued.BodyZh, BodyEn: issued.BodyEn}); err != nil {
			return err
		}
		issued.Link = fmt.Sprintf("/applications/%d", a.ID)
		issued.BodyZh = "「" + it.Name.Zh + "」的电子证照（编号 " + l.Content.Number + "）已签发给" + role.Zh + "。"
		issued.BodyEn = "The e-licence of " + it.Name.In("en") + " (number " + l.Content.Number + ") was issued to the " + role.In("en") + "."
	}
	_, err = s.notify.Send(ctx, tx, issued)
	return err
}

// issuedBy names who issues or ends a licence in the records: the machine
// or the staff member whose decision it is.
func issuedBy(by actor) string {
	if by.kind == "staff" {
		return fmt.Sprintf("staff:%d", by.id)
	}
	return "machine"
}

// cancelLicence cancels (注销) the licence of the type the item cancels that
// the applicant holds in force, reporting whether it did; with none in
// force, the reason goes on the timeline and the applicant is told.
func (s *core) cancelLicence(ctx context.Context, tx *sql.Tx, a *Application, it catalog.Item, by actor) (bool, error) {
	holder, err := s.applicantHolder(ctx, tx, a)
	if err != nil {
		return false, err
	}
	l, err := s.licences.CancelTx(ctx, tx, licence.Held{Type: it.Output.Cancels, Holder: holder},
		licence.End{Reason: "持证人申请注销（" + it.Name.Zh + "）", By: issuedBy(by), ApplicationID: a.ID, ApplicationNumber: a.Number})
	if apperr.Is(err, apperr.Conflict) {
		if err := s.record(ctx, tx, a.ID, system, "licence_not_cancelled", a.Status, a.Status, err.Error(), nil); err != nil {
			return false, err
		}
		return false, s.tell(ctx, tx, a, "decision")
	}
	if err != nil {
		return false, fmt.Errorf("cancel the licence of application %d: %w", a.ID, err)
	}
	return true, s.record(ctx, tx, a.ID, system, "licence_cancelled", a.Status, a.Status, l.Content.Number, map[string]any{"licence": l.Content.Number})
}

// applicantHolder is the application's own subject as a licence holder:
// the enterprise it was made for, else the person who applied.
func (s *core) applicantHolder(ctx context.Context, tx *sql.Tx, a *Application) (licence.Holder, error) {
	if a.EnterpriseID != 0 {
		h := licence.Holder{Kind: hub.Enterprise}
		if err := tx.QueryRowContext(ctx, `SELECT credit_code, name FROM enterprises WHERE id = $1`, a.EnterpriseID).Scan(&h.ID, &h.Name); err != nil {
			return h, fmt.Errorf("the enterprise of application %d: %w", a.ID, err)
		}
		return h, nil
	}
	return s.personHolder(ctx, tx, a.personID)
}

// personHolder is a person as a licence holder.
func (s *core) personHolder(ctx context.Context, tx *sql.Tx, personID int64) (licence.Holder, error) {
	d, err := s.ids.PersonDetails(ctx, tx, personID)
	if err != nil {
		return licence.Holder{}, err
	}
	return licence.Holder{Kind: hub.Person, ID: d.IDNumber, Name: d.Name}, nil
}

// partyHolder is the confirmed co-party of role as a licence holder (a
// transfer's buyer), and that party's person.
func (s *core) partyHolder(ctx context.Context, tx *sql.Tx, a *Application, role string) (licence.Holder, int64, error) {
	var person int64
	err := tx.QueryRowContext(ctx, `SELECT person_id FROM application_parties WHERE application_id = $1 AND role = $2 AND status = 'confirmed'`, a.ID, role).Scan(&person)
	if errors.Is(err, sql.ErrNoRows) {
		return licence.Holder{}, 0, apperr.New(apperr.Invalid, apperr.BadParties, "the licence goes to the %s, and no confirmed party has that role", role)
	}
	if err != nil {
		return licence.Holder{}, 0, err
	}
	h, err := s.personHolder(ctx, tx, person)
	return h, person, err
}

// giver is whose licence a transfer supersedes: the applicant, or — when
// the applicant is the one receiving — the confirmed party of another role.
func (s *core) giver(ctx context.Context, tx *sql.Tx, a *Application, receiverApplies bool) (licence.Holder, error) {
	if !receiverApplies {
		return s.applicantHolder(ctx, tx, a)
	}
	var person int64
	err := tx.QueryRowContext(ctx, `SELECT person_id FROM application_parties WHERE application_id = $1 AND person_id <> $2 AND status = 'confirmed' ORDER BY id LIMIT 1`, a.ID, a.personID).Scan(&person)
	if err != nil {
		return licence.Holder{}, fmt.Errorf("the giving party of application %d: %w", a.ID, err)
	}
	return s.personHolder(ctx, tx, person)
}

// licenceRequest describes the licence of an approved application: its
// holder (the co-party the item names, else the enterprise it was made
// for, else the person), its fields taken from the form as the licence type
// says, and the licence it supersedes.
func (s *core) licenceRequest(ctx context.Context, tx *sql.Tx, a *Application, it catalog.Item, by actor) (req licence.Request, party int64, err error) {
	req = licence.Request{ApplicationID: a.ID, ApplicationNumber: a.Number, ItemCode: a.ItemCode, Type: it.Output.Licence,
		ValidityYears: it.Output.ValidityYears, IssuedBy: issuedBy(by)}
	t, err := licence.TypeTx(ctx, tx, it.Output.Licence)
	if err != nil {
		return req, 0, err
	}
	req.Fields = t.FieldsFromForm(a.Form, it.Form)
	switch {
	case it.Output.Holder != "":
		if req.Holder, party, err = s.partyHolder(ctx, tx, a, it.Output.Holder); err != nil {
			return req, 0, err
		}
	case a.EnterpriseID != 0:
		if req.Holder, err = s.applicantHolder(ctx, tx, a); err != nil {
			return req, 0, err
		}
	case t.Holder == "enterprise":
		// A person's application whose licence an enterprise holds sets one
		// up (个体工商户设立登记): it is registered now, with its new code.
		e, err := s.establish(ctx, tx, a, it, req.Fields)
		if err != nil {
			return req, 0, err
		}
		req.Holder = licence.Holder{Kind: hub.Enterprise, ID: e.CreditCode, Name: e.Name}
		req.Fields["credit_code"] = e.CreditCode
	default:
		if req.Holder, err = s.personHolder(ctx, tx, a.personID); err != nil {
			return req, 0, err
		}
	}
	if it.Output.Supersedes != "" {
		giver, err := s.giver(ctx, tx, a, party == a.personID)
		if err != nil {
			return req, 0, err
		}
		req.Supersedes = &licence.Held{Type: it.Output.Supersedes, Holder: giver}
	}
	return req, party, nil
}

// establish registers the enterprise an approved application sets up: a new
// unified social credit code in the department's region, the enterprise
// with the applicant as its legal representative (so they can act for it at
// once), and its record in the enterprise registry (法人库).
func (s *core) establish(ctx context.Context, tx *sql.Tx, a *Application, it catalog.Item, fields map[string]string) (identity.Enterprise, error) {
	d, err := s.ids.PersonDetails(ctx, tx, a.personID)
	if err != nil {
		return identity.Enterprise{}, err
	}
	region := s.regionOf(ctx, tx, it, "")
	kind := "92" // market regulation: an individual business
	if it.Output.Establishes == "enterprise" {
		kind = "91" // market regulation: an enterprise
	}
	seq, err := s.nextSequence(ctx, tx, "credit-code:"+kind+region)
	if err != nil {
		return identity.Enterprise{}, err
	}
	code, err := ident.NewCreditCode(kind, region, seq)
	if err != nil {
		return identity.Enterprise{}, err
	}
	name := fields["name"]
	if name == "" {
		name = d.Name + "（个体工商户）" // an individual business may go without a trade name
		fields["name"] = name
	}
	id, err := s.ids.PutEnterprise(ctx, tx, code, name, a.personID)
	if err != nil {
		return identity.Enterprise{}, err
	}
	rec := hub.Record{"name": name, "credit_code": code, "status": "active", "legal_rep": d.Name, "legal_rep_id_number": d.IDNumber,
		"address": fields["address"], "business_scope": fields["scope"], "established_on": s.now().In(workday.CST).Format(time.DateOnly),
		"agent_id_numbers": []string{}, "tax_officer_id_numbers": []string{}, "has_basic_account": false, "housing_fund_registered": false,
		"social_insurance_registered": false, "medical_insurance_registered": false,
		"open_enforcement_case": false, "name_taken": true}
	if capital, err := strconv.ParseFloat(fields["registered_capital"], 64); err == nil {
		rec["registered_capital"] = capital
	}
	if err := s.registries.Put(ctx, tx, "enterprise", hub.Subject{Kind: hub.Enterprise, Key: code}, rec); err != nil {
		return identity.Enterprise{}, err
	}
	// Its credit record, which its applications' rules read, starts clean.
	if _, err := s.credit.Recompute(ctx, tx, credit.Subject{EnterpriseID: id}); err != nil {
		return identity.Enterprise{}, err
	}
	if err := s.record(ctx, tx, a.ID, system, "enterprise_registered", a.Status, a.Status, name+" "+code, map[string]any{"credit_code": code}); err != nil {
		return identity.Enterprise{}, err
	}
	return identity.Enterprise{ID: id, CreditCode: code, Name: name, Status: "active"}, nil
}

// revokeLicence revokes the licence of a revoked application, if it has one.
func (s *core) revokeLicence(ctx context.Context, tx *sql.Tx, a *Application, reason string, by actor) error {
	if s.licences == nil {
		return nil
	}
	number, err := licence.NumberOfApplication(ctx, tx, a.ID)
	if err != nil || number == "" {
		return err
	}
	_, err = s.licences.RevokeTx(ctx, tx, number, reason, fmt.Sprintf("staff:%d", by.id))
	if apperr.Is(err, apperr.Conflict) {
		return nil // revoked already, on its own
	}
	return err
}
