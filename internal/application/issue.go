package application

import (
	"context"
	"database/sql"
	"fmt"

	"yiwang/internal/apperr"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/licence"
	"yiwang/internal/notify"
	"yiwang/internal/workflow"
)

// Issuer issues and revokes e-licences inside the caller's transaction
// (*licence.Service), so there is never a licence without its approved
// application, nor an approved application that lost its licence.
type Issuer interface {
	IssueTx(ctx context.Context, tx *sql.Tx, req licence.Request) (licence.Licence, error)
	RevokeTx(ctx context.Context, tx *sql.Tx, number, reason, by string) (licence.Licence, error)
}

// approved finishes an approval inside the approving transaction: the item's
// e-licence is issued at once and the applicant told. A licence the
// catalogue cannot fill (a data problem, not a crash) leaves the application
// approved, with the reason on its timeline for staff to resolve.
func (s *Service) approved(ctx context.Context, tx *sql.Tx, a *Application, it catalog.Item, by actor) error {
	if it.Output == nil || it.Output.Licence == "" || s.licences == nil {
		return s.tell(ctx, tx, a, "decision")
	}
	req, err := s.licenceRequest(ctx, tx, a, it, by)
	if err != nil {
		return err
	}
	l, err := s.licences.IssueTx(ctx, tx, req)
	if apperr.Is(err, apperr.Invalid) {
		if err := s.record(ctx, tx, a.ID, system, "licence_not_issued", a.Status, a.Status, err.Error(), nil); err != nil {
			return err
		}
		return s.tell(ctx, tx, a, "decision")
	}
	if err != nil {
		return fmt.Errorf("issue the licence of application %d: %w", a.ID, err)
	}
	if err := s.move(ctx, tx, a, workflow.Issue, system, l.Content.Number, map[string]any{"licence": l.Content.Number}, nil); err != nil {
		return err
	}
	_, err = s.notify.Send(ctx, tx, notify.Message{AccountID: a.accountID, Kind: notify.LicenceIssued, ApplicationID: a.ID, Link: "/me/licences/" + fmt.Sprint(l.ID),
		TitleZh: "办件 " + a.Number + " 已办结，电子证照已签发", TitleEn: "Application " + a.Number + " is approved and its e-licence issued",
		BodyZh: "「" + it.Name.Zh + "」的电子证照编号 " + l.Content.Number + "，可在“我的证照”查看、下载和分享。",
		BodyEn: "The e-licence of " + it.Name.En + " is number " + l.Content.Number + "; see, download and share it under My licences."})
	return err
}

// licenceRequest describes the licence of an approved application: its
// holder (the enterprise it was made for, else the person) and its fields
// taken from the form as the licence type says.
func (s *Service) licenceRequest(ctx context.Context, tx *sql.Tx, a *Application, it catalog.Item, by actor) (licence.Request, error) {
	req := licence.Request{ApplicationID: a.ID, ApplicationNumber: a.Number, ItemCode: a.ItemCode, Type: it.Output.Licence,
		ValidityYears: it.Output.ValidityYears, IssuedBy: "machine"}
	if by.kind == "staff" {
		req.IssuedBy = fmt.Sprintf("staff:%d", by.id)
	}
	if a.EnterpriseID != 0 {
		req.Holder.Kind = hub.Enterprise
		if err := tx.QueryRowContext(ctx, `SELECT credit_code, name FROM enterprises WHERE id = $1`, a.EnterpriseID).Scan(&req.Holder.ID, &req.Holder.Name); err != nil {
			return req, fmt.Errorf("the enterprise of application %d: %w", a.ID, err)
		}
	} else {
		d, err := s.ids.PersonDetails(ctx, a.personID)
		if err != nil {
			return req, err
		}
		req.Holder = licence.Holder{Kind: hub.Person, ID: d.IDNumber, Name: d.Name}
	}
	t, err := licence.TypeTx(ctx, tx, it.Output.Licence)
	if err != nil {
		return req, err
	}
	req.Fields = t.FieldsFromForm(a.Form)
	return req, nil
}

// revokeLicence revokes the licence of a revoked application, if it has one.
func (s *Service) revokeLicence(ctx context.Context, tx *sql.Tx, a *Application, reason string, by actor) error {
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
