package application

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/ident"
	"yiwang/internal/identity"
	"yiwang/internal/rules"
	"yiwang/internal/store"
	"yiwang/internal/workflow"
)

const columns = `id, item_code, version_id, account_id, person_id, COALESCE(enterprise_id, 0), status, answers, form, provenance, materials, mismatches,
	consent_id, fields_total, fields_prefilled, materials_total, materials_attached, created_at, submitted_at,
	COALESCE(number, ''), channel, COALESCE(hall_code, ''), stage, COALESCE(stopped_from, ''), accepted_at, deadline, clock_stopped_at, decided_at, reasons, revision`

func scan(row store.Scanner) (Application, error) {
	var a Application
	var answers, form, prov, mats, mism, reasons string
	var submitted, accepted, deadline, stopped, decided sql.NullTime
	err := row.Scan(&a.ID, &a.ItemCode, &a.VersionID, &a.accountID, &a.personID, &a.EnterpriseID, &a.Status, &answers, &form, &prov, &mats, &mism,
		&a.consentID, &a.FieldsTotal, &a.FieldsPrefilled, &a.MaterialsTotal, &a.MaterialsAttached, &a.CreatedAt, &submitted,
		&a.Number, &a.Channel, &a.HallCode, &a.stage, &a.stoppedFrom, &accepted, &deadline, &stopped, &decided, &reasons, &a.Revision)
	if err != nil {
		return a, err
	}
	for _, x := range []struct {
		s string
		v any
	}{{answers, &a.Answers}, {form, &a.Form}, {prov, &a.Provenance}, {mats, &a.Materials}, {mism, &a.Mismatches}, {reasons, &a.Reasons}} {
		if err := json.Unmarshal([]byte(x.s), x.v); err != nil {
			return a, fmt.Errorf("application %d is unreadable: %w", a.ID, err)
		}
	}
	for _, x := range []struct {
		n **time.Time
		v sql.NullTime
	}{{&a.SubmittedAt, submitted}, {&a.AcceptedAt, accepted}, {&a.Deadline, deadline}, {&a.clockStoppedAt, stopped}, {&a.DecidedAt, decided}} {
		if x.v.Valid {
			t := x.v.Time
			*x.n = &t
		}
	}
	a.ClockStopped = a.clockStoppedAt != nil
	return a, nil
}

// Get returns an application its applicant may see: their own, or their
// enterprise's while acting for it. Anyone else gets not-found.
func (s *core) get(ctx context.Context, p authz.Principal, id int64) (Application, error) {
	a, err := loadApplication(ctx, s.db, id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !(a.accountID == p.AccountID || p.SeesEnterprise(a.EnterpriseID) ||
		(p.PersonID != 0 && a.personID == p.PersonID && a.EnterpriseID == 0))) {
		return Application{}, authz.NotYours("application")
	}
	if err != nil {
		return Application{}, err
	}
	if err := s.complete(ctx, &a); err != nil {
		return Application{}, err
	}
	if a.Timeline, err = s.timeline(ctx, a.ID); err != nil {
		return Application{}, err
	}
	if a.Correction, err = s.openCorrection(ctx, a.ID); err != nil {
		return Application{}, err
	}
	return a, nil
}

// complete adds what an application's row does not hold: the item's name
// and the machine decision as the applicant may see it.
func (s *core) complete(ctx context.Context, a *Application) error {
	v, err := s.catalog.VersionByID(ctx, a.VersionID)
	if err != nil {
		return err
	}
	a.ItemName = v.Item.Name.Zh
	if a.Decision, err = s.loadDecision(ctx, a.ID); err != nil {
		return err
	}
	return s.modes(ctx, a, v.Item)
}

// Mine lists the applicant's applications (and, when acting for an
// enterprise, the enterprise's), newest first.
func (s *Drafts) Mine(ctx context.Context, p authz.Principal) ([]Application, error) {
	ent := int64(-1)
	if p.ActingFor != nil {
		ent = p.ActingFor.ID
	}
	person := int64(-1)
	if p.PersonID != 0 {
		person = p.PersonID
	}
	return orEmpty(store.All(ctx, s.db, scan, `SELECT `+columns+` FROM applications
		WHERE account_id = $1 OR enterprise_id = $2 OR (person_id = $3 AND enterprise_id IS NULL) ORDER BY id DESC LIMIT 200`, p.AccountID, ent, person))
}

// UpdateForm sets form values of a draft. A value that came from a source is
// kept unless the item lets the applicant edit it.
func (s *Drafts) UpdateForm(ctx context.Context, p authz.Principal, id int64, values map[string]any) (Application, error) {
	a, err := s.get(ctx, p, id)
	if err != nil {
		return a, err
	}
	if a.Status != "draft" {
		return a, apperr.New(apperr.Conflict, "not_a_draft", "application %d is %s and can no longer be changed", id, a.Status)
	}
	v, err := s.catalog.VersionByID(ctx, a.VersionID)
	if err != nil {
		return a, err
	}
	fields, _ := applicable(v.Item, a.Answers)
	byID := map[string]catalog.Field{}
	for _, f := range fields {
		byID[f.ID] = f
	}
	var problems []string
	for k, val := range values {
		f, ok := byID[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: the form has no such field", k))
			continue
		}
		if pv, ok := a.Provenance[k]; ok && pv.Status == "filled" && !pv.Editable {
			problems = append(problems, fmt.Sprintf("%s (%s): this value comes from the %s and cannot be changed here; if it is wrong, have the %s corrected", k, f.Label.Zh, pv.Label, pv.Label))
			continue
		}
		if err := checkValue(f, val); err != nil {
			problems = append(problems, fmt.Sprintf("%s (%s): %v", k, f.Label.Zh, err))
			continue
		}
		a.Form[k] = val
	}
	if len(problems) > 0 {
		return a, apperr.New(apperr.Invalid, "bad_form", "%d field(s) could not be set", len(problems)).WithDetails(problems)
	}
	form, _ := json.Marshal(a.Form)
	if err := saveDraftForm(ctx, s.db, id, string(form), s.now()); err != nil {
		return a, err
	}
	return a, nil
}

var (
	datePattern  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	phonePattern = regexp.MustCompile(`^1\d{10}$`)
)

// checkValue checks a value against its field's type and validation.
func checkValue(f catalog.Field, v any) error {
	switch f.Type {
	case "number":
		n, ok := v.(float64)
		if !ok {
			return fmt.Errorf("must be a number")
		}
		if f.Validation != nil && ((f.Validation.Min != nil && n < *f.Validation.Min) || (f.Validation.Max != nil && n > *f.Validation.Max)) {
			return fmt.Errorf("is out of the allowed range")
		}
		return nil
	case "bool":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("must be true or false")
		}
		return nil
	case "table":
		if _, ok := v.([]any); !ok {
			return fmt.Errorf("must be a list of rows")
		}
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("must be text")
	}
	switch f.Type {
	case "date":
		if _, err := time.Parse("2006-01-02", s); err != nil || !datePattern.MatchString(s) {
			return fmt.Errorf("must be a date YYYY-MM-DD")
		}
	case "enum":
		for _, o := range f.Options {
			if o.Value == s {
				return nil
			}
		}
		return fmt.Errorf("%q is not one of the choices", s)
	case "id_number":
		if _, err := ident.ParseIDNumber(ident.NormalizeIDNumber(s)); err != nil {
			return err
		}
	case "credit_code":
		if err := ident.ValidateCreditCode(s); err != nil {
			return err
		}
	case "phone":
		if !phonePattern.MatchString(s) {
			return fmt.Errorf("must be an 11-digit mobile number")
		}
	}
	if f.Validation != nil {
		n := len([]rune(s))
		if (f.Validation.MinLength != nil && n < *f.Validation.MinLength) || (f.Validation.MaxLength != nil && n > *f.Validation.MaxLength) {
			return fmt.Errorf("has the wrong length")
		}
		if f.Validation.Pattern != "" {
			if re, err := regexp.Compile(f.Validation.Pattern); err == nil && !re.MatchString(s) {
				return fmt.Errorf("is not in the required form")
			}
		}
	}
	return nil
}

// Submit submits a draft: required fields must be filled; the sources are
// read again and any prefilled value that changed is flagged, never
// overwritten. The decision comes later (rules, workflow).
// A retry with the same idempotency key returns the submitted application.
func (s *Drafts) Submit(ctx context.Context, p authz.Principal, id, expect int64, key string) (Application, error) {
	a, err := s.get(ctx, p, id)
	if err != nil {
		return a, err
	}
	if key != "" {
		if _, ok, err := s.remembered(ctx, p, key, "submit", id); err != nil {
			return a, err
		} else if ok {
			// Read again: a concurrent request with the key may have
			// submitted it since a was read.
			return s.get(ctx, p, id)
		}
	}
	if a.Status != "draft" {
		return a, apperr.New(apperr.Conflict, "not_a_draft", "application %d was already submitted", id)
	}
	v, err := s.catalog.VersionByID(ctx, a.VersionID)
	if err != nil {
		return a, err
	}
	fields, _ := applicable(v.Item, a.Answers)
	var missing []string
	for _, f := range fields {
		if _, ok := a.Form[f.ID]; f.Required && !ok {
			missing = append(missing, f.ID+" ("+f.Label.Zh+")")
		}
	}
	if len(missing) > 0 {
		return a, apperr.New(apperr.Invalid, "incomplete", "fill in %d more item(s) before submitting", len(missing)).WithDetails(missing)
	}
	if err := s.readyToSubmit(ctx, a, v.Item); err != nil {
		return a, err
	}
	w, err := s.submitter(ctx, p, a)
	if err != nil {
		return a, err
	}
	creditCode := ""
	if p.ActingFor != nil {
		creditCode = p.ActingFor.CreditCode
	}
	need := map[string][]string{}
	var order []string
	for _, pv := range a.Provenance {
		if pv.Status != "filled" {
			continue
		}
		src, field, ok := hub.SplitRef(pv.Source)
		if !ok {
			continue
		}
		if _, seen := need[src]; !seen {
			order = append(order, src)
		}
		need[src] = append(need[src], field)
	}
	records, statuses := s.readAll(ctx, w, creditCode, need, order, "提交「"+v.Item.Name.Zh+"」时核对", a.ID)
	a.Mismatches = []Mismatch{}
	for fid, pv := range a.Provenance {
		if pv.Status != "filled" {
			continue
		}
		src, field, _ := hub.SplitRef(pv.Source)
		cur, ok := records[src][field]
		switch {
		case statuses[src] != "filled":
			a.Mismatches = append(a.Mismatches, Mismatch{Field: fid, Source: pv.Source, Prefilled: pv.Value, Current: "（数据源暂不可用，无法核对）"})
		case !ok || fmt.Sprint(cur) != fmt.Sprint(pv.Value):
			a.Mismatches = append(a.Mismatches, Mismatch{Field: fid, Source: pv.Source, Prefilled: pv.Value, Current: cur})
		}
	}
	now := s.now()
	var decision *rules.Decision
	if v.Item.Approval.Mode == "auto" {
		d, err := s.decide(ctx, a, v.Item, w, creditCode, now)
		if err != nil {
			return a, err
		}
		decision = &d
	}
	mism, _ := json.Marshal(a.Mismatches)
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		locked, err := s.lockForAction(ctx, tx, id, expect)
		if err != nil {
			return err
		}
		if locked.Status != "draft" {
			return apperr.New(apperr.Conflict, "not_a_draft", "application %d was already submitted", id)
		}
		// Counted with the submission, so a retry of one that failed or
		// died with its process is not counted twice.
		if !w.intake {
			if err := s.limits.AllowTx(ctx, tx, p.AccountID, "submit", identity.SubmissionLimit); err != nil {
				return err
			}
		}
		number, err := s.nextNumber(ctx, tx, s.regionOf(ctx, tx, v.Item, locked.HallCode), now)
		if err != nil {
			return err
		}
		if key != "" {
			if err := s.remember(ctx, tx, p, key, "submit", id, id); err != nil {
				return err
			}
		}
		by := actor{"applicant", p.AccountID, p.Name}
		if w.intake {
			by = staffActor(p)
		}
		if err := s.move(ctx, tx, &locked, workflow.Submit, by, "", nil, update{Mismatches: string(mism), SubmittedAt: now, Number: number}); err != nil {
			return err
		}
		locked.Number = number
		if decision != nil {
			if err := s.saveDecision(ctx, tx, locked, v.Item, *decision); err != nil {
				return err
			}
		}
		return s.proceed(ctx, tx, &locked, v.Item, decision)
	})
	if errors.Is(err, errKeyTaken) || (key != "" && apperr.Is(err, apperr.Conflict)) {
		// A concurrent retry with the key submitted it first.
		if _, ok, lookErr := s.remembered(ctx, p, key, "submit", id); lookErr == nil && ok {
			return s.get(ctx, p, id)
		}
	}
	if err != nil {
		return a, err
	}
	return s.get(ctx, p, id)
}

// regionOf is the region an application is numbered in: the accepting
// hall's for window intake, else the region of the item's department.
func (s *core) regionOf(ctx context.Context, tx *sql.Tx, it catalog.Item, hall string) string {
	var region string
	if hall != "" {
		tx.QueryRowContext(ctx, `SELECT region_code FROM halls WHERE code = $1`, hall).Scan(&region)
	}
	if region == "" {
		tx.QueryRowContext(ctx, `SELECT region_code FROM departments WHERE code = $1`, it.Department).Scan(&region)
	}
	if region == "" {
		region = "000000"
	}
	return region
}

// ReadsAboutMe lists who read the signed-in person's data and why.
func (s *Drafts) ReadsAboutMe(ctx context.Context, p authz.Principal) ([]hub.ReadLog, error) {
	w, err := s.applicant(ctx, p)
	if err != nil {
		return nil, err
	}
	return s.reader.ReadsAbout(ctx, hub.Subject{Kind: hub.Person, Key: w.idNumber}, 200)
}
