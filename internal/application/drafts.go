package application

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/ident"
	"yiwang/internal/identity"
	"yiwang/internal/rules"
	"yiwang/internal/store"
	"yiwang/internal/workflow"
)

// channels a person may apply through themselves.
var selfChannels = []string{"web", "mobile", "kiosk", "bank"}

// StartRequest says what to apply for and how.
type StartRequest struct {
	ItemCode string            `json:"item_code"`
	Answers  map[string]string `json:"answers"`
	Channel  string            `json:"channel"` // web (default), mobile, kiosk, bank; window is for clerks' intake
	// IdempotencyKey makes a retried start return the first one's draft.
	IdempotencyKey string `json:"-"`
}

// Start creates a draft application of the item in service with code,
// prefilled from the hub under a consent recorded now.
func (s *Drafts) Start(ctx context.Context, p authz.Principal, req StartRequest) (Application, error) {
	if err := checkChannel(&req); err != nil {
		return Application{}, err
	}
	if req.IdempotencyKey != "" {
		if id, ok, err := s.remembered(ctx, p, req.IdempotencyKey, "start", req); err != nil || ok {
			if err != nil {
				return Application{}, err
			}
			return s.get(ctx, p, id)
		}
	}
	w, err := s.applicant(ctx, p)
	if err != nil {
		return Application{}, err
	}
	return s.startFor(ctx, w, req, "")
}

// checkChannel refuses a channel a person cannot apply through themselves;
// none is the web.
func checkChannel(req *StartRequest) error {
	if req.Channel == "" {
		req.Channel = "web"
	}
	if !slices.Contains(selfChannels, req.Channel) {
		return apperr.New(apperr.Invalid, apperr.BadChannel, "the channel must be one of %v, not %q", selfChannels, req.Channel)
	}
	return nil
}

// consentRequired refuses a start without the applicant's consent.
func consentRequired() error {
	return apperr.New(apperr.Invalid, apperr.ConsentRequired,
		"to fill the form for you the platform reads your data from government sources; agree by sending \"consent\": true")
}

// startFor makes the draft for applicant w, at hall for window intake.
func (s *core) startFor(ctx context.Context, w who, req StartRequest, hall string) (Application, error) {
	d, err := s.planDraft(ctx, w, req, hall)
	if err != nil {
		return Application{}, err
	}
	if err := s.grantConsents(ctx, s.db, &d); err != nil {
		return Application{}, err
	}
	records, statuses := s.readAll(ctx, w, d.creditCode, d.need, d.purpose, 0)
	d.fill(records, statuses)
	d.compute(records, statuses, s.now())
	existing, err := s.insert(ctx, &d.app, w.p, req.IdempotencyKey, req)
	if err != nil {
		return Application{}, err
	}
	if existing != 0 {
		return s.get(ctx, w.p, existing)
	}
	return d.app, nil
}

// draft is a new application before anything of it is written: the item
// version it is made under, the fields and materials that apply, the
// sources to read and the consent that covers them.
type draft struct {
	w          who
	version    catalog.Version
	fields     []catalog.Field
	materials  []catalog.Material
	need       reads
	consented  []string // the sources the consent names
	creditCode string   // of the enterprise acted for
	purpose    string   // as the applicant sees it in their data-read list
	// prog works out the computed fields; nil when the item has none.
	prog *rules.Program
	app  Application
}

// planDraft checks that applicant w may apply for req's item and works out
// what its draft needs; it writes nothing.
func (s *core) planDraft(ctx context.Context, w who, req StartRequest, hall string) (draft, error) {
	p, code, answers := w.p, req.ItemCode, req.Answers
	v, err := s.catalog.Current(ctx, code)
	if err != nil {
		return draft{}, err
	}
	it := v.Item
	if w.initiative {
		if it.Target != "person" {
			return draft{}, apperr.New(apperr.Invalid, apperr.EnterpriseItem, "「%s」 is applied for by an enterprise: it can be offered, not granted", it.Name.Zh)
		}
	} else if w.intake {
		if it.Target == "enterprise" {
			return draft{}, apperr.New(apperr.Invalid, apperr.EnterpriseItem, "「%s」 is applied for by an enterprise: its representative applies online or with the enterprise's papers", it.Name.Zh)
		}
	} else if err := checkApplicant(it, w.applying(it)); err != nil {
		return draft{}, err
	}
	if err := checkAnswers(it, answers); err != nil {
		return draft{}, err
	}
	d := draft{w: w, version: v}
	var enterpriseID int64
	if p.ActingFor != nil {
		d.creditCode, enterpriseID = p.ActingFor.CreditCode, p.ActingFor.ID
	}
	d.fields, d.materials = applicable(it, answers)

	// The sources this application needs, and the consent to read them.
	want := d.need.want
	for _, f := range d.fields {
		if f.Prefill != nil {
			if src, field, ok := hub.SplitRef(f.Prefill.Source); ok {
				want(src, field)
			}
		}
	}
	if hasComputed(it) {
		if d.prog, err = s.rules.Get(v.ID, it); err != nil {
			return draft{}, fmt.Errorf("rules of %s: %w", it.Code, err)
		}
		for src, fs := range d.prog.ComputedNeeds() {
			for _, f := range fs {
				want(src, f)
			}
		}
	}
	for _, m := range d.materials {
		for _, ms := range m.Sources {
			switch {
			case ms.Licence != "":
				want("licence."+ms.Licence, "number")
				want("licence."+ms.Licence, "status")
			case ms.Registry != "":
				if src, field, ok := hub.SplitRef(ms.Registry); ok {
					want(src, field)
				}
			}
		}
	}
	for _, src := range d.need.order {
		if src != "applicant" {
			d.consented = append(d.consented, src)
		}
	}
	// The decision at submission reads what its rules need: the consent
	// covers that too.
	if decidedByRules(it) {
		prog, err := s.rules.Get(v.ID, it)
		if err != nil {
			return draft{}, fmt.Errorf("rules of %s: %w", it.Code, err)
		}
		for src := range prog.Needs() {
			if !slices.Contains(d.consented, src) {
				d.consented = append(d.consented, src)
			}
		}
		slices.Sort(d.consented)
	}
	d.app = Application{ItemCode: it.Code, ItemName: it.Name.Zh, VersionID: v.ID, Status: "draft", Channel: req.Channel, EnterpriseID: enterpriseID, Reasons: []string{},
		Answers: answers, Form: map[string]any{}, Provenance: map[string]Provenance{}, Mismatches: []Mismatch{}, HallCode: hall,
		accountID: p.AccountID, personID: w.personID}
	if d.app.Answers == nil {
		d.app.Answers = map[string]string{}
	}
	d.purpose = "办理「" + it.Name.Zh + "」"
	if w.intake {
		d.purpose = "窗口代为办理「" + it.Name.Zh + "」（申请人现场签字同意）"
	}
	return d, nil
}

// grantConsents records the applicant's consent to read the draft's
// sources, and the enterprise's when acting for one, through q.
func (s *core) grantConsents(ctx context.Context, q store.Querier, d *draft) error {
	if len(d.consented) == 0 {
		return nil
	}
	c, err := s.reader.Grant(ctx, q, d.w.p.AccountID, hub.Subject{Kind: hub.Person, Key: d.w.idNumber}, d.consented, d.purpose, 0, consentTTL)
	if err != nil {
		return err
	}
	d.app.consentID = c.ID
	d.app.consents = append(d.app.consents, c.ID)
	// An enterprise's sources are read under a consent in its name too.
	if d.creditCode != "" {
		ec, err := s.reader.Grant(ctx, q, d.w.p.AccountID, hub.Subject{Kind: hub.Enterprise, Key: d.creditCode}, d.consented, d.purpose, 0, consentTTL)
		if err != nil {
			return err
		}
		d.app.consents = append(d.app.consents, ec.ID)
	}
	return nil
}

// fill prefills the draft's form and attaches the materials government
// data already holds, from what the sources answered.
func (d *draft) fill(records map[string]hub.Record, statuses map[string]string) {
	app := &d.app
	for _, f := range d.fields {
		app.FieldsTotal++
		if f.Computed != nil {
			app.Provenance[f.ID] = computedProvenance
			continue
		}
		if f.Prefill == nil {
			continue
		}
		src, field, _ := hub.SplitRef(f.Prefill.Source)
		label := "申请人账号"
		if s2, ok := hub.Lookup(src); ok {
			label = s2.LabelZh
		}
		pv := Provenance{Source: f.Prefill.Source, Label: label, Editable: f.Prefill.Editable, Status: statuses[src]}
		if val, ok := records[src][field]; ok {
			pv.Status, pv.Value = "filled", val
			app.Form[f.ID] = val
			app.FieldsPrefilled++
		} else if pv.Status == "filled" {
			pv.Status = "not_found"
		}
		app.Provenance[f.ID] = pv
	}
	for _, m := range d.materials {
		am := Material{ID: m.ID, Name: m.Name.Zh, Required: m.Required}
		app.MaterialsTotal++
		for _, ms := range m.Sources {
			if am.Attached {
				break
			}
			switch {
			case ms.Licence != "":
				rec := records["licence."+ms.Licence]
				if st, _ := rec["status"].(string); rec != nil && (st == "" || st == "valid") {
					ref, _ := rec["number"].(string)
					am = Material{ID: m.ID, Name: m.Name.Zh, Required: m.Required, Attached: true, Source: "licence:" + ms.Licence, Trust: "A", Ref: ref}
				}
			case ms.Registry != "":
				src, field, _ := hub.SplitRef(ms.Registry)
				if val, ok := records[src][field]; ok && val != nil {
					am = Material{ID: m.ID, Name: m.Name.Zh, Required: m.Required, Attached: true, Source: "registry:" + ms.Registry, Trust: "A", Ref: fmt.Sprint(val)}
				}
			}
		}
		if am.Attached {
			app.MaterialsAttached++
		}
		app.Materials = append(app.Materials, am)
	}
	if app.Materials == nil {
		app.Materials = []Material{}
	}
}

// computedProvenance marks a field whose value the system computes
// (catalog.Computed): the applicant never sets it.
var computedProvenance = Provenance{Source: "computed", Label: "系统计算", Status: "computed"}

// hasComputed reports whether some form field of it is computed.
func hasComputed(it catalog.Item) bool {
	return slices.ContainsFunc(it.Form, func(f catalog.Field) bool { return f.Computed != nil })
}

// compute works out the draft's computed fields on the data the sources
// answered, as the rules will see them; a value that cannot be worked out
// yet (a field it reads still empty, data unavailable) stays empty and is
// computed again at submission.
func (d *draft) compute(records map[string]hub.Record, statuses map[string]string, at time.Time) {
	if d.prog == nil {
		return
	}
	in := ruleInput(d.app, d.w, d.prog.ComputedNeeds(), records, statuses, at)
	cs := d.prog.Compute(in, at)
	rules.SetComputed(d.app.Form, cs)
	for _, c := range cs {
		if c.Result == rules.ComputedValue {
			d.app.FieldsPrefilled++ // nothing for the applicant to type
		}
	}
}

// applying is who applies for it as checkApplicant sees them: when only
// judging their data (我能办), as if signed in at the real-name level it
// needs.
func (w who) applying(it catalog.Item) authz.Principal {
	p := w.p
	if w.judging && it.Requirements != nil {
		p.RealNameLevel = max(p.RealNameLevel, it.Requirements.RealNameLevel)
	}
	return p
}

// checkApplicant refuses an applicant the item is not for.
func checkApplicant(it catalog.Item, p authz.Principal) error {
	switch {
	case it.Target == "enterprise" && p.ActingFor == nil:
		return apperr.New(apperr.Forbidden, apperr.EnterpriseItem, "「%s」 is applied for by an enterprise: act for your enterprise first", it.Name.Zh)
	case it.Target == "person" && p.ActingFor != nil:
		return apperr.New(apperr.Forbidden, apperr.PersonItem, "「%s」 is applied for by a person for themselves: stop acting for %s first", it.Name.Zh, p.ActingFor.Name)
	}
	if p.ActingFor != nil && len(p.ActingFor.Scope) > 0 && !slices.Contains(p.ActingFor.Scope, it.Code) {
		return apperr.New(apperr.Forbidden, apperr.OutsideAuthorisation, "your authorisation from %s does not cover 「%s」", p.ActingFor.Name, it.Name.Zh)
	}
	if it.Requirements != nil && it.Requirements.RealNameLevel > 0 {
		return authz.RequireRealName(p, it.Requirements.RealNameLevel)
	}
	return nil
}

// checkAnswers insists every situation question has one of its answers.
func checkAnswers(it catalog.Item, answers map[string]string) error {
	var problems []apperr.Detail
	for _, sit := range it.Situations {
		a, ok := answers[sit.ID]
		if !ok {
			problems = append(problems, detail(sit.ID, "请回答："+sit.Question.Zh, "Answer: "+sit.Question.In("en")))
			continue
		}
		if !slices.ContainsFunc(sit.Answers, func(x catalog.Answer) bool { return x.Value == a }) {
			problems = append(problems, detail(sit.ID,
				fmt.Sprintf("“%s”不是“%s”的答案。", a, sit.Question.Zh), fmt.Sprintf("%q is not an answer to %q.", a, sit.Question.In("en"))))
		}
	}
	for k := range answers {
		if !slices.ContainsFunc(it.Situations, func(s catalog.Situation) bool { return s.ID == k }) {
			problems = append(problems, detail(k, fmt.Sprintf("本事项没有“%s”这一问题。", k), fmt.Sprintf("The item asks no question %q.", k)))
		}
	}
	if len(problems) > 0 {
		sortDetails(problems)
		return apperr.New(apperr.Invalid, apperr.BadAnswers, "the situation answers are incomplete or wrong: %s", apperr.JoinEnglish(problems)).WithDetails(problems)
	}
	return nil
}

// applicable returns the fields and materials that apply under answers.
func applicable(it catalog.Item, answers map[string]string) ([]catalog.Field, []catalog.Material) {
	var fields []catalog.Field
	for _, f := range it.Form {
		if f.When.Matches(answers) {
			fields = append(fields, f)
		}
	}
	var mats []catalog.Material
	for _, m := range it.Materials {
		if m.When.Matches(answers) {
			mats = append(mats, m)
		}
	}
	return fields, mats
}

// insert saves a new draft; with an idempotency key already used (by a
// concurrent retry) it saves nothing and returns the first one's id.
func (s *core) insert(ctx context.Context, a *Application, p authz.Principal, key string, request any) (existing int64, err error) {
	now := s.now()
	a.CreatedAt, a.Revision = now, 1
	var intake int64
	if a.HallCode != "" {
		intake = p.AccountID
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if key != "" {
			id, ok, err := s.rememberedTx(ctx, tx, p, key, "start", request)
			if err != nil || ok {
				existing = id
				return err
			}
		}
		if err := s.saveDraft(ctx, tx, a, p, intake); err != nil {
			return err
		}
		if key != "" {
			return s.remember(ctx, tx, p, key, "start", request, a.ID)
		}
		return nil
	})
	if errors.Is(err, errKeyTaken) {
		id, _, err := s.remembered(ctx, p, key, "start", request)
		return id, err
	}
	return existing, err
}

// saveDraft inserts draft a, its first timeline entry and the link from
// its consents; intake is the clerk taking it at a window, or 0.
func (s *core) saveDraft(ctx context.Context, tx *sql.Tx, a *Application, p authz.Principal, intake int64) error {
	id, err := s.insertDraft(ctx, tx, a, intake)
	if err != nil {
		return fmt.Errorf("save application: %w", err)
	}
	a.ID = id
	by := actor{"applicant", p.AccountID, p.Name}
	switch {
	case intake != 0:
		by = staffActor(p)
	case a.Initiative != "":
		by = proactiveActor(p)
	}
	if err := s.record(ctx, tx, a.ID, by, "start", "", "draft", a.Channel, nil); err != nil {
		return err
	}
	for _, c := range a.consents {
		if _, err := tx.ExecContext(ctx, `UPDATE consents SET application = $1 WHERE id = $2`, a.ID, c); err != nil {
			return err
		}
	}
	return nil
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
	return orEmpty(store.All(ctx, s.db, s.scan, `SELECT `+columns+` FROM applications WHERE id IN (`+mineIDs+`) ORDER BY id DESC LIMIT 200`,
		p.AccountID, ent, person))
}

// mineIDs are the ids of the applications Mine lists: the newest 200 made
// by the account ($1), of the enterprise acted for ($2) and of the person
// ($3) taken in at a window, each read backwards along its own index
// (migration 0019), so that the list costs the same however many
// applications the table holds. One WHERE with ORS would be read through
// none of them, or through all and sorted.
const mineIDs = `SELECT id FROM (SELECT id FROM applications WHERE account_id = $1 ORDER BY id DESC LIMIT 200) mine_account
	UNION SELECT id FROM (SELECT id FROM applications WHERE enterprise_id = $2 ORDER BY id DESC LIMIT 200) mine_enterprise
	UNION SELECT id FROM (SELECT id FROM applications WHERE person_id = $3 AND enterprise_id IS NULL ORDER BY id DESC LIMIT 200) mine_person`

// UpdateForm sets form values of a draft. A value that came from a source is
// kept unless the item lets the applicant edit it.
func (s *Drafts) UpdateForm(ctx context.Context, p authz.Principal, id int64, values map[string]any) (Application, error) {
	a, err := s.get(ctx, p, id)
	if err != nil {
		return a, err
	}
	if a.Status != "draft" {
		return a, apperr.New(apperr.Conflict, apperr.NotADraft, "application %d is %s and can no longer be changed", id, a.Status)
	}
	v, err := s.catalog.VersionByID(ctx, a.VersionID)
	if err != nil {
		return a, err
	}
	fields, _ := applicable(v.Item, a.Answers)
	if err := setForm(&a, fields, values); err != nil {
		return a, err
	}
	form, _ := json.Marshal(a.Form)
	if err := s.saveDraftForm(ctx, s.db, id, string(form), s.now()); err != nil {
		return a, err
	}
	return a, nil
}

// setForm sets values in a's form after checking each against its field
// (one of fields, those that apply); a value that came from a source stays
// unless the item lets the applicant edit it. Nothing is set when any
// value is refused.
func setForm(a *Application, fields []catalog.Field, values map[string]any) error {
	byID := map[string]catalog.Field{}
	for _, f := range fields {
		byID[f.ID] = f
	}
	var problems []apperr.Detail
	for k, val := range values {
		f, ok := byID[k]
		if !ok {
			problems = append(problems, noSuchField(k))
			continue
		}
		if f.Computed != nil {
			problems = append(problems, fieldProblem(f, apperr.Words{
				Zh: "此项由系统根据有关数据计算，不能填写或修改",
				En: "this value is computed by the system from the data and cannot be set"}))
			continue
		}
		if pv, ok := a.Provenance[k]; ok && pv.Status == "filled" && !pv.Editable {
			problems = append(problems, fieldProblem(f, apperr.Words{
				Zh: fmt.Sprintf("此项取自%s，不能在此修改；如有误，请向%s申请更正", pv.Label, pv.Label),
				En: fmt.Sprintf("this value comes from the %s and cannot be changed here; if it is wrong, have the %s corrected", pv.Label, pv.Label)}))
			continue
		}
		if w := checkValue(f, val); w != nil {
			problems = append(problems, fieldProblem(f, *w))
		}
	}
	if len(problems) > 0 {
		sortDetails(problems)
		return apperr.New(apperr.Invalid, apperr.BadForm, "%d field(s) could not be set: %s", len(problems), apperr.JoinEnglish(problems)).WithDetails(problems)
	}
	for k, val := range values {
		a.Form[k] = val
	}
	return nil
}

var (
	datePattern  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	phonePattern = regexp.MustCompile(`^1\d{10}$`)
)

// checkValue checks a value against its field's type and validation and
// says what is wrong with it, or nil when nothing is.
func checkValue(f catalog.Field, v any) *apperr.Words {
	switch f.Type {
	case "number":
		n, ok := v.(float64)
		if !ok {
			return wrong("须为数字", "must be a number")
		}
		if f.Validation != nil && ((f.Validation.Min != nil && n < *f.Validation.Min) || (f.Validation.Max != nil && n > *f.Validation.Max)) {
			return wrong("超出允许的范围", "is out of the allowed range")
		}
		return nil
	case "bool":
		if _, ok := v.(bool); !ok {
			return wrong("须为“是”或“否”", "must be true or false")
		}
		return nil
	case "table":
		if _, ok := v.([]any); !ok {
			return wrong("须为表格的若干行", "must be a list of rows")
		}
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return wrong("须为文字", "must be text")
	}
	switch f.Type {
	case "date":
		if _, err := time.Parse("2006-01-02", s); err != nil || !datePattern.MatchString(s) {
			return wrong("须为日期，格式如2025-01-31", "must be a date YYYY-MM-DD")
		}
	case "enum":
		for _, o := range f.Options {
			if o.Value == s {
				return nil
			}
		}
		return wrong(fmt.Sprintf("“%s”不是可选的选项", s), fmt.Sprintf("%q is not one of the choices", s))
	case "id_number":
		if _, err := ident.ParseIDNumber(ident.NormalizeIDNumber(s)); err != nil {
			return wrong("不是有效的居民身份证号码，请核对证件", err.Error())
		}
	case "credit_code":
		if err := ident.ValidateCreditCode(s); err != nil {
			return wrong("不是有效的统一社会信用代码，请核对营业执照", err.Error())
		}
	case "phone":
		if !phonePattern.MatchString(s) {
			return wrong("须为11位手机号码", "must be an 11-digit mobile number")
		}
	}
	if f.Validation != nil {
		n := len([]rune(s))
		if (f.Validation.MinLength != nil && n < *f.Validation.MinLength) || (f.Validation.MaxLength != nil && n > *f.Validation.MaxLength) {
			return wrong("长度不符合要求", "has the wrong length")
		}
		if f.Validation.Pattern != "" {
			if re, err := regexp.Compile(f.Validation.Pattern); err == nil && !re.MatchString(s) {
				return wrong("格式不符合要求", "is not in the required form")
			}
		}
	}
	return nil
}

// wrong is what checkValue says about a value.
func wrong(zh, en string) *apperr.Words { return &apperr.Words{Zh: zh, En: en} }

// Submit submits a draft: required fields must be filled; the sources are
// read again and any prefilled value that changed is flagged, never
// overwritten. The decision comes later (rules, workflow).
// A retry with the same idempotency key returns the submitted application.
func (s *Drafts) Submit(ctx context.Context, p authz.Principal, id, expect int64, key string) (Application, error) {
	a, err := s.own(ctx, p, id)
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
		return a, apperr.New(apperr.Conflict, apperr.NotADraft, "application %d was already submitted", id)
	}
	v, err := s.catalog.VersionByID(ctx, a.VersionID)
	if err != nil {
		return a, err
	}
	fields, _ := applicable(v.Item, a.Answers)
	if err := checkComplete(fields, a.Form); err != nil {
		return a, err
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
	// Each source is read once: for the check of what was prefilled and for
	// the rules of a machine decision together.
	var need reads
	for _, pv := range a.Provenance {
		if pv.Status != "filled" {
			continue
		}
		if src, field, ok := hub.SplitRef(pv.Source); ok {
			need.want(src, field)
		}
	}
	purpose := "提交「" + v.Item.Name.Zh + "」时核对"
	prog, err := s.submissionRules(ctx, v, &need)
	if err != nil {
		return a, err
	}
	if prog != nil {
		purpose = "提交「" + v.Item.Name.Zh + "」时核对并按审查规则核验"
	}
	if a.deferred, err = s.pendingDeferrals(ctx, a.ID); err != nil {
		return a, err
	}
	records, statuses := s.readAll(ctx, w, creditCode, need, purpose, a.ID)
	a.Mismatches = mismatches(a, records, statuses)
	now := s.now()
	decision := s.decideSubmission(a, v.Item, w, prog, records, statuses, now)
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		ctx, audited := audit.Batched(ctx, tx) // the submission's entries in one statement
		locked, err := s.lockForAction(ctx, tx, id, expect)
		if err != nil {
			return err
		}
		if locked.Status != "draft" {
			return apperr.New(apperr.Conflict, apperr.NotADraft, "application %d was already submitted", id)
		}
		if key != "" {
			if err := s.remember(ctx, tx, p, key, "submit", id, id); err != nil {
				return err
			}
		}
		locked.Mismatches = a.Mismatches
		if err := s.submitIn(ctx, tx, w, &locked, v.Item, decision, now); err != nil {
			return err
		}
		return audited.Flush(ctx)
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

// reads is the sources a submission reads, each once, with their fields.
type reads struct {
	fields map[string][]string
	order  []string
}

// want adds field of src to the reads.
func (r *reads) want(src, field string) {
	if r.fields == nil {
		r.fields = map[string][]string{}
	}
	if _, seen := r.fields[src]; !seen {
		r.order = append(r.order, src)
	}
	if !slices.Contains(r.fields[src], field) {
		r.fields[src] = append(r.fields[src], field)
	}
}

// decidedByRules reports whether a submission of it is decided by its
// rules (docs/RULES.md, "Approval modes"): every item with rules or
// computed fields, whatever its mode, and every item not decided by people
// alone — a commitment or a filing without rules still checks the
// applicant's credit.
func decidedByRules(it catalog.Item) bool {
	return it.Approval.Mode != "manual" || len(it.Rules) > 0 || hasComputed(it)
}

// submissionRules returns the rules that decide a submission of v's item
// and adds what they read to need; nil when people alone decide it (a
// manual item without rules), or when machine approval of an auto item is
// suspended (its decision then sends it to a person, and only what its
// computed fields read is added to need).
func (s *core) submissionRules(ctx context.Context, v catalog.Version, need *reads) (*rules.Program, error) {
	if !decidedByRules(v.Item) {
		return nil, nil
	}
	suspended := false
	if v.Item.Approval.Mode == "auto" {
		var err error
		if suspended, err = s.machineSuspended(ctx, v.Item.Code); err != nil {
			return nil, err
		}
	}
	prog, err := s.rules.Get(v.ID, v.Item)
	if err != nil {
		return nil, fmt.Errorf("rules of %s: %w", v.Item.Code, err)
	}
	needs := prog.Needs()
	if suspended {
		needs, prog = prog.ComputedNeeds(), nil
	}
	for src, fields := range needs {
		for _, f := range fields {
			need.want(src, f)
		}
	}
	return prog, nil
}

// decideSubmission is the decision on a at its submission, for every item
// its rules decide (see decide); nil when people alone decide it.
func (s *core) decideSubmission(a Application, it catalog.Item, w who, prog *rules.Program, records map[string]hub.Record, statuses map[string]string, at time.Time) *rules.Decision {
	if !decidedByRules(it) {
		return nil
	}
	d := s.decide(a, it, w, prog, records, statuses, at)
	return &d
}

// checkComplete insists every required field of fields is in form. A
// computed field is not the applicant's to fill: when it cannot be
// computed a person sees to it.
func checkComplete(fields []catalog.Field, form map[string]any) error {
	var missing []apperr.Detail
	for _, f := range fields {
		if _, ok := form[f.ID]; f.Required && f.Computed == nil && !ok {
			missing = append(missing, detail(f.ID, f.Label.Zh, f.Label.In("en")))
		}
	}
	if len(missing) > 0 {
		return apperr.New(apperr.Invalid, apperr.Incomplete, "fill in %d more item(s) before submitting: %s", len(missing), apperr.JoinEnglish(missing)).WithDetails(missing)
	}
	return nil
}

// mismatches lists the prefilled values of a that the sources now answer
// differently, or could not be checked against.
func mismatches(a Application, records map[string]hub.Record, statuses map[string]string) []Mismatch {
	out := []Mismatch{}
	for fid, pv := range a.Provenance {
		if pv.Status != "filled" {
			continue
		}
		src, field, _ := hub.SplitRef(pv.Source)
		cur, ok := records[src][field]
		switch {
		case statuses[src] != "filled":
			out = append(out, Mismatch{Field: fid, Source: pv.Source, Prefilled: pv.Value, Current: "（数据源暂不可用，无法核对）", Unavailable: true})
		case !ok || fmt.Sprint(cur) != fmt.Sprint(pv.Value):
			out = append(out, Mismatch{Field: fid, Source: pv.Source, Prefilled: pv.Value, Current: cur})
		}
	}
	return out
}

// submitIn submits draft a (locked in tx, or saved in it) with its
// mismatches and the machine's decision: counted against the applicant's
// limit, numbered — the shared counter taken as late as possible — and
// sent on by its approval mode.
func (s *Drafts) submitIn(ctx context.Context, tx *sql.Tx, w who, a *Application, it catalog.Item, decision *rules.Decision, now time.Time) error {
	p := w.p
	// Counted with the submission, so a retry of one that failed or died
	// with its process is not counted twice.
	if !w.intake && !w.initiative {
		if err := s.limits.AllowTx(ctx, tx, p.AccountID, "submit", identity.SubmissionLimit); err != nil {
			return err
		}
	}
	number, err := s.nextNumber(ctx, tx, s.regionOf(ctx, tx, it, a.HallCode), now)
	if err != nil {
		return err
	}
	by := actor{"applicant", p.AccountID, p.Name}
	switch {
	case w.intake:
		by = staffActor(p)
	case w.initiative:
		by = proactiveActor(p)
	}
	mism, _ := json.Marshal(a.Mismatches)
	u := update{Mismatches: string(mism), SubmittedAt: now, Number: number}
	if decision != nil && len(decision.Computed) > 0 {
		// The values computed on the data the rules saw are the ones the
		// application is decided and licensed on.
		rules.SetComputed(a.Form, decision.Computed)
		form, err := json.Marshal(a.Form)
		if err != nil {
			return err
		}
		u.Form = string(form)
	}
	if err := s.move(ctx, tx, a, workflow.Submit, by, "", nil, u); err != nil {
		return err
	}
	a.Number = number
	if decision != nil {
		if err := s.saveDecision(ctx, tx, *a, it, *decision); err != nil {
			return err
		}
	}
	return s.proceed(ctx, tx, a, it, decision)
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

// Withdraw lets the applicant withdraw an application before its decision.
func (s *Drafts) Withdraw(ctx context.Context, p authz.Principal, id, expect int64, reason string) (Application, error) {
	if _, err := s.own(ctx, p, id); err != nil {
		return Application{}, err
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		a, err := s.lockForAction(ctx, tx, id, expect)
		if err != nil {
			return err
		}
		if workflow.Decided(workflow.Status(a.Status)) {
			return apperr.New(apperr.Conflict, apperr.AlreadyDecided, "application %d is already %s and can no longer be withdrawn", id, a.Status)
		}
		if err := cancelTasks(ctx, tx, id); err != nil {
			return err
		}
		return s.move(ctx, tx, &a, workflow.Withdraw, actor{"applicant", p.AccountID, p.Name}, strings.TrimSpace(reason), nil, update{})
	})
	if err != nil {
		return Application{}, err
	}
	return s.get(ctx, p, id)
}

// SupplyCorrection is the applicant's answer to a correction: new values for
// the fields named (materials are uploaded separately first). The clock
// starts again, the deadline moved by the working days it stood still.
func (s *Drafts) SupplyCorrection(ctx context.Context, p authz.Principal, id, expect int64, values map[string]any) (Application, error) {
	a, err := s.get(ctx, p, id)
	if err != nil {
		return a, err
	}
	c, err := s.openCorrection(ctx, id)
	if err != nil {
		return a, err
	}
	if c == nil || a.Status != string(workflow.Correction) {
		return a, apperr.New(apperr.Conflict, apperr.NoCorrection, "application %d has no correction waiting for you", id)
	}
	v, err := s.catalog.VersionByID(ctx, a.VersionID)
	if err != nil {
		return a, err
	}
	fields, _ := applicable(v.Item, a.Answers)
	var problems []apperr.Detail
	for _, it := range c.Items {
		if it.Field != "" {
			if _, ok := values[it.Field]; !ok {
				l := fieldLabel(fields, it.Field)
				problems = append(problems, detail(it.Field, l.Zh+"："+it.Reason, l.In("en")+": "+it.Reason))
			}
		}
		if it.Material != "" {
			if i := slices.IndexFunc(a.Materials, func(m Material) bool { return m.ID == it.Material }); i < 0 || !a.Materials[i].Attached {
				n := materialName(v.Item, it.Material)
				problems = append(problems, detail(it.Material, n.Zh+"："+it.Reason+"（请先上传）", n.In("en")+": "+it.Reason+" (upload it first)"))
			}
		}
	}
	for k, val := range values {
		named := slices.ContainsFunc(c.Items, func(it CorrectionItem) bool { return it.Field == k })
		i := slices.IndexFunc(fields, func(f catalog.Field) bool { return f.ID == k })
		switch {
		case !named:
			l := fieldLabel(fields, k)
			problems = append(problems, detail(k, l.Zh+"：补正通知没有要求修改此项。", l.In("en")+": the correction did not ask for it."))
		case i < 0:
			problems = append(problems, noSuchField(k))
		default:
			if w := checkValue(fields[i], val); w != nil {
				problems = append(problems, fieldProblem(fields[i], *w))
			} else {
				a.Form[k] = val
			}
		}
	}
	if len(problems) > 0 {
		sortDetails(problems)
		return a, apperr.New(apperr.Invalid, apperr.CorrectionIncomplete, "the correction is not complete yet: %s", apperr.JoinEnglish(problems)).WithDetails(problems)
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		locked, err := s.lockForAction(ctx, tx, id, expect)
		if err != nil {
			return err
		}
		now := s.now()
		u, err := s.restartClock(ctx, tx, locked, now)
		if err != nil {
			return err
		}
		form, _ := json.Marshal(a.Form)
		u.Form = string(form)
		if _, err := tx.ExecContext(ctx, `UPDATE corrections SET supplied_at = $1 WHERE id = $2`, now, c.ID); err != nil {
			return err
		}
		return s.move(ctx, tx, &locked, workflow.Supply, actor{"applicant", p.AccountID, p.Name}, "", map[string]any{"correction": c.ID}, u)
	})
	if err != nil {
		return a, err
	}
	return s.get(ctx, p, id)
}
