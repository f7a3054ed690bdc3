package application

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/ident"
)

// IntakeRequest is a walk-in's application taken at a hall window (窗口受理).
type IntakeRequest struct {
	IDNumber string            `json:"id_number"`
	Name     string            `json:"name"`
	ItemCode string            `json:"item_code"`
	Answers  map[string]string `json:"answers"`
	// IdentityChecked is the clerk's word that the person's identity card
	// was read and matched their face at the window.
	IdentityChecked bool `json:"identity_checked"`
	// Consent is the applicant's signature agreeing that the platform
	// reads their data for this application.
	Consent        bool   `json:"consent"`
	IdempotencyKey string `json:"-"`
}

// Intake starts an application for a person at the clerk's hall window: the
// person's identity must have been checked and match the population
// registry, and the hall must lie within the item's 通办 scope.
func (s *Drafts) Intake(ctx context.Context, clerk authz.Principal, req IntakeRequest) (Application, error) {
	if err := authz.Require(clerk, authz.WindowIntake); err != nil {
		return Application{}, err
	}
	if !req.IdentityChecked || !req.Consent {
		return Application{}, apperr.New(apperr.Invalid, apperr.IdentityAndConsentRequired,
			"check the applicant's identity card at the window and have them sign the consent to read their data, then send identity_checked and consent as true")
	}
	if req.IdempotencyKey != "" {
		if id, ok, err := s.remembered(ctx, clerk, req.IdempotencyKey, "start", req); err != nil || ok {
			if err != nil {
				return Application{}, err
			}
			return s.get(ctx, clerk, id)
		}
	}
	hall, hallRegion, err := s.hallOf(ctx, clerk)
	if err != nil {
		return Application{}, err
	}
	v, err := s.catalog.Current(ctx, req.ItemCode)
	if err != nil {
		return Application{}, err
	}
	if err := s.checkScope(ctx, v.Item, hallRegion); err != nil {
		return Application{}, err
	}
	w, err := s.walkIn(ctx, clerk, req.IDNumber, req.Name)
	if err != nil {
		return Application{}, err
	}
	return s.startFor(ctx, w, StartRequest{ItemCode: req.ItemCode, Answers: req.Answers, Channel: "window", IdempotencyKey: req.IdempotencyKey}, hall)
}

// walkIn is the registered person with idNumber, whose name must match.
func (s *core) walkIn(ctx context.Context, clerk authz.Principal, idNumber, name string) (who, error) {
	idNumber = ident.NormalizeIDNumber(idNumber)
	if _, err := ident.ParseIDNumber(idNumber); err != nil {
		return who{}, apperr.Wrap(err, apperr.Invalid, apperr.BadIDNumber, "the ID number is not valid: "+err.Error())
	}
	person, err := s.ids.PersonByIDNumber(ctx, s.db, idNumber)
	if err != nil {
		return who{}, apperr.New(apperr.NotFound, apperr.PersonNotFound, "nobody with this ID number is registered: check the number on the identity card")
	}
	d, err := s.ids.PersonDetails(ctx, s.db, person.ID)
	if err != nil {
		return who{}, err
	}
	if strings.TrimSpace(name) != d.Name {
		return who{}, apperr.New(apperr.Invalid, apperr.NameMismatch, "the name does not match the ID number's registered name: check the identity card")
	}
	return who{p: clerk, personID: person.ID, idNumber: d.IDNumber, name: d.Name, phone: d.Phone, intake: true}, nil
}

// submitter is who submits a: the applicant, or the clerk of its intake.
func (s *core) submitter(ctx context.Context, p authz.Principal, a Application) (who, error) {
	if a.HallCode == "" || !p.Can(authz.WindowIntake) {
		return s.applicant(ctx, p)
	}
	d, err := s.ids.PersonDetails(ctx, s.db, a.personID)
	if err != nil {
		return who{}, err
	}
	return who{p: p, personID: a.personID, idNumber: d.IDNumber, name: d.Name, phone: d.Phone, intake: true}, nil
}

// hallOf is the code and region of the clerk's hall.
func (s *core) hallOf(ctx context.Context, clerk authz.Principal) (code, region string, err error) {
	if clerk.HallID == 0 {
		return "", "", apperr.New(apperr.Forbidden, apperr.NoHall, "your account is not posted to a hall: a system administrator must assign you one")
	}
	err = s.db.QueryRowContext(ctx, `SELECT code, region_code FROM halls WHERE id = $1`, clerk.HallID).Scan(&code, &region)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", apperr.New(apperr.Forbidden, apperr.NoHall, "the hall your account is posted to no longer exists")
	}
	return code, region, err
}

// scopeDigits is how many leading digits of a region code a hall must share
// with the item's department under each 通办 scope.
var scopeDigits = map[string]int{"": 6, "district": 6, "city": 4, "province": 2, "national": 0}

// checkScope insists the hall lies within the item's 通办 scope.
func (s *core) checkScope(ctx context.Context, it catalog.Item, hallRegion string) error {
	var deptRegion string
	if err := s.db.QueryRowContext(ctx, `SELECT region_code FROM departments WHERE code = $1`, it.Department).Scan(&deptRegion); err != nil {
		return err
	}
	n, ok := scopeDigits[it.Scope]
	if !ok {
		n = 6
	}
	if len(hallRegion) < n || len(deptRegion) < n || hallRegion[:n] != deptRegion[:n] {
		return apperr.New(apperr.Forbidden, apperr.OutsideScope,
			"「%s」 can be handled at halls within its %s scope (region %s); this hall is in region %s", it.Name.Zh, it.Scope, deptRegion, hallRegion)
	}
	return nil
}
