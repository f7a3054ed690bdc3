// Package application is where a person or an enterprise applies for an
// item: an application pins the catalogue version it is made under, fills
// itself from the data sharing hub on the applicant's consent (秒报), attaches
// materials that exist as e-licences, and on submission reads the sources
// again so that a change is flagged rather than silently overwritten.
package application

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/blob"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/identity"
	"yiwang/internal/rules"
	"yiwang/internal/store"
)

// Application is an application as its applicant sees it.
type Application struct {
	ID                int64                 `json:"id"`
	Number            string                `json:"number,omitempty"` // assigned at submission
	ItemCode          string                `json:"item_code"`
	ItemName          string                `json:"item_name"`
	VersionID         int64                 `json:"version_id"`
	Status            string                `json:"status"`
	Revision          int64                 `json:"revision"` // send it back as If-Match to act on what you saw
	Channel           string                `json:"channel"`  // web, mobile, kiosk, window, bank
	HallCode          string                `json:"hall_code,omitempty"`
	EnterpriseID      int64                 `json:"enterprise_id,omitempty"`
	Answers           map[string]string     `json:"answers"`
	Form              map[string]any        `json:"form"`
	Provenance        map[string]Provenance `json:"provenance"`
	Materials         []Material            `json:"materials"`
	Mismatches        []Mismatch            `json:"mismatches"`
	Decision          *Decision             `json:"decision,omitempty"`
	FieldsTotal       int                   `json:"fields_total"`
	FieldsPrefilled   int                   `json:"fields_prefilled"`
	MaterialsTotal    int                   `json:"materials_total"`
	MaterialsAttached int                   `json:"materials_attached"`
	CreatedAt         time.Time             `json:"created_at"`
	SubmittedAt       *time.Time            `json:"submitted_at,omitempty"`
	AcceptedAt        *time.Time            `json:"accepted_at,omitempty"`
	Deadline          *time.Time            `json:"deadline,omitempty"` // end of the last working day allowed
	ClockStopped      bool                  `json:"clock_stopped"`      // waiting for a correction or a special procedure
	DecidedAt         *time.Time            `json:"decided_at,omitempty"`
	Reasons           []string              `json:"reasons"` // why it was rejected or not accepted
	Timeline          []Event               `json:"timeline,omitempty"`
	Correction        *Correction           `json:"correction,omitempty"` // what to supply, while one is open
	Modes             *ModeView             `json:"modes,omitempty"`      // what a commitment, filing, co-parties or deferrals ask (modes.go)

	accountID, personID int64
	stage               int
	stoppedFrom         string
	clockStoppedAt      *time.Time
	consentID           int64
	consents            []int64 // every consent made for it, to tie to it once saved
}

// Provenance says where a prefilled value came from.
type Provenance struct {
	Source   string `json:"source"`          // e.g. population.name
	Label    string `json:"label"`           // the source's name for people, e.g. 人口库
	Editable bool   `json:"editable"`        // whether the applicant may change it
	Status   string `json:"status"`          // filled, not_found (type it), unavailable (type it)
	Value    any    `json:"value,omitempty"` // what the source said
}

// Material is a material of the application and how it is supplied.
type Material struct {
	ID       string        `json:"id"`
	Name     string        `json:"name"`
	Required bool          `json:"required"`
	Attached bool          `json:"attached"`
	Source   string        `json:"source,omitempty"` // licence:TYPE or registry:SOURCE.FIELD when attached
	Trust    string        `json:"trust,omitempty"`  // A when attached from government data
	Ref      string        `json:"ref,omitempty"`    // e.g. the licence number, or the uploaded file's digest
	File     *MaterialFile `json:"file,omitempty"`   // the uploaded file, for uploads
}

// Mismatch is a prefilled value that differs from the source at submission.
type Mismatch struct {
	Field     string `json:"field"`
	Source    string `json:"source"`
	Prefilled any    `json:"prefilled"`
	Current   any    `json:"current"`
}

// core is what every application service shares: the dependencies, the
// rows, the timeline and the path from a submission through the approval
// modes to the decision and the licence, which a submission, a step's
// decision, a co-party's answer or a notice's end may each set off.
type core struct {
	db         *store.DB
	catalog    *catalog.Store
	ids        *identity.Store
	reader     *hub.Reader
	limits     *identity.Limiter
	rules      *rules.Cache
	calendars  Calendars
	notify     Notifier
	blobs      blob.Store
	licences   Issuer
	registries *hub.Builtin
	warnDays   int // working days left at which a deadline turns yellow
	queue      Enqueuer
	partyDays  int // working days co-parties have to answer
	// blacklistAfter overdue supplements put a person on the blacklist.
	blacklistAfter int
	now            func() time.Time
	sample         func() float64 // [0,1), for spot-check sampling
}

func newCore(d Deps) *core {
	return &core{db: d.DB, catalog: d.Catalog, ids: d.Identities, reader: d.Reader, limits: d.Limits, rules: &rules.Cache{},
		calendars: d.Calendars, notify: d.Notifier, blobs: d.Blobs, licences: d.Licences, registries: d.Registries, warnDays: d.WarningDays,
		queue: d.Queue, partyDays: cmp.Or(d.PartyDays, DefaultPartyDays), blacklistAfter: cmp.Or(d.BlacklistAfter, DefaultBlacklistAfter),
		now: func() time.Time { return time.Now().UTC() }, sample: defaultSample}
}

// Deps are the other domains an application service works with.
type Deps struct {
	DB         *store.DB
	Catalog    *catalog.Store
	Identities *identity.Store
	Reader     *hub.Reader       // reads government data on the applicant's consent
	Limits     *identity.Limiter // abuse limits on submissions
	Calendars  Calendars         // working days for deadlines
	Notifier   Notifier          // the notifications outbox
	Blobs      blob.Store        // uploaded materials
	Licences   Issuer            // issues the e-licence of an approved application
	Registries *hub.Builtin      // where enterprises set up by an application are registered
	// WarningDays is how many working days before a deadline it turns
	// yellow (--deadline-warning-days).
	WarningDays int
	// Queue takes the durable jobs of the approval modes: a filing's end of
	// notice, the co-parties' timeout.
	Queue Enqueuer
	// PartyDays is how many working days co-parties have to confirm
	// (--coparty-days); 0: DefaultPartyDays.
	PartyDays int
	// BlacklistAfter is the number of overdue supplements that puts a
	// person on the credit blacklist (--blacklist-after); 0: DefaultBlacklistAfter.
	BlacklistAfter int
}

// consentTTL is how long an application's consent to read sources lasts.
const consentTTL = 30 * 24 * time.Hour

// who is the applicant of an application and p the principal acting: the
// applicant themselves, or a window clerk for a walk-in (intake).
type who struct {
	p        authz.Principal
	personID int64
	idNumber string
	name     string
	phone    string
	intake   bool
}

// readerName is how a read appears in the person's "who read my data" list.
func (w who) readerName() string {
	if w.intake {
		return w.p.Name + "（窗口受理）"
	}
	return w.name + "（本人申请）"
}

func (s *core) applicant(ctx context.Context, p authz.Principal) (who, error) {
	if err := authz.Require(p, authz.ActForOwn); err != nil {
		return who{}, err
	}
	if p.PersonID == 0 {
		return who{}, apperr.New(apperr.Forbidden, "persons_only", "applications are made by people, for themselves or an enterprise they act for")
	}
	d, err := s.ids.PersonDetails(ctx, p.PersonID)
	if err != nil {
		return who{}, err
	}
	return who{p: p, personID: p.PersonID, idNumber: d.IDNumber, name: d.Name, phone: d.Phone}, nil
}

// subject is whose record a source keeps for this application.
func (w who) subject(src hub.Source, creditCode string) (hub.Subject, bool) {
	if src.Subject == hub.Enterprise || (strings.HasPrefix(src.Name, "licence.") && creditCode != "" && enterpriseLicence(src.Name)) {
		if creditCode == "" {
			return hub.Subject{}, false
		}
		return hub.Subject{Kind: hub.Enterprise, Key: creditCode}, true
	}
	return hub.Subject{Kind: hub.Person, Key: w.idNumber}, true
}

// enterpriseLicence: licences held by enterprises rather than people.
func enterpriseLicence(source string) bool {
	return slices.Contains([]string{"licence.business_licence", "licence.food_business_licence", "licence.construction_qualification", "licence.land_use_planning_permit"}, source)
}

// StartRequest says what to apply for and how.
type StartRequest struct {
	ItemCode string            `json:"item_code"`
	Answers  map[string]string `json:"answers"`
	Channel  string            `json:"channel"` // web (default), mobile, kiosk, bank; window is for clerks' intake
	// IdempotencyKey makes a retried start return the first one's draft.
	IdempotencyKey string `json:"-"`
}

// channels a person may apply through themselves.
var selfChannels = []string{"web", "mobile", "kiosk", "bank"}

// Start creates a draft application of the item in service with code,
// prefilled from the hub under a consent recorded now.
func (s *Drafts) Start(ctx context.Context, p authz.Principal, req StartRequest) (Application, error) {
	if req.Channel == "" {
		req.Channel = "web"
	}
	if !slices.Contains(selfChannels, req.Channel) {
		return Application{}, apperr.New(apperr.Invalid, "bad_channel", "the channel must be one of %v, not %q", selfChannels, req.Channel)
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

// startFor makes the draft for applicant w, at hall for window intake.
func (s *core) startFor(ctx context.Context, w who, req StartRequest, hall string) (Application, error) {
	p, code, answers := w.p, req.ItemCode, req.Answers
	v, err := s.catalog.Current(ctx, code)
	if err != nil {
		return Application{}, err
	}
	it := v.Item
	if w.intake {
		if it.Target == "enterprise" {
			return Application{}, apperr.New(apperr.Invalid, "enterprise_item", "「%s」 is applied for by an enterprise: its representative applies online or with the enterprise's papers", it.Name.Zh)
		}
	} else if err := checkApplicant(it, p); err != nil {
		return Application{}, err
	}
	if err := checkAnswers(it, answers); err != nil {
		return Application{}, err
	}
	creditCode := ""
	var enterpriseID int64
	if p.ActingFor != nil {
		creditCode, enterpriseID = p.ActingFor.CreditCode, p.ActingFor.ID
	}
	fields, materials := applicable(it, answers)

	// The sources this application needs, and the consent to read them.
	need := map[string][]string{}
	var order []string
	want := func(source, field string) {
		if _, ok := need[source]; !ok {
			order = append(order, source)
		}
		if !slices.Contains(need[source], field) {
			need[source] = append(need[source], field)
		}
	}
	for _, f := range fields {
		if f.Prefill != nil {
			if src, field, ok := hub.SplitRef(f.Prefill.Source); ok {
				want(src, field)
			}
		}
	}
	for _, m := range materials {
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
	var consented []string
	for _, src := range order {
		if src != "applicant" {
			consented = append(consented, src)
		}
	}
	// A machine decision reads what its rules need: the consent covers that too.
	if it.Approval.Mode == "auto" {
		prog, err := s.rules.Get(v.ID, it)
		if err != nil {
			return Application{}, fmt.Errorf("rules of %s: %w", it.Code, err)
		}
		for src := range prog.Needs() {
			if !slices.Contains(consented, src) {
				consented = append(consented, src)
			}
		}
		slices.Sort(consented)
	}
	app := Application{ItemCode: it.Code, ItemName: it.Name.Zh, VersionID: v.ID, Status: "draft", Channel: req.Channel, EnterpriseID: enterpriseID, Reasons: []string{},
		Answers: answers, Form: map[string]any{}, Provenance: map[string]Provenance{}, Mismatches: []Mismatch{}, HallCode: hall,
		accountID: p.AccountID, personID: w.personID}
	if app.Answers == nil {
		app.Answers = map[string]string{}
	}
	purpose := "办理「" + it.Name.Zh + "」" // the purpose the applicant sees in their data-read list
	if w.intake {
		purpose = "窗口代为办理「" + it.Name.Zh + "」（申请人现场签字同意）"
	}
	var records map[string]hub.Record
	if len(consented) > 0 {
		c, err := s.reader.Grant(ctx, s.db, p.AccountID, hub.Subject{Kind: hub.Person, Key: w.idNumber}, consented, purpose, 0, consentTTL)
		if err != nil {
			return Application{}, err
		}
		app.consentID = c.ID
		app.consents = append(app.consents, c.ID)
		// An enterprise's sources are read under a consent in its name too.
		if creditCode != "" {
			ec, err := s.reader.Grant(ctx, s.db, p.AccountID, hub.Subject{Kind: hub.Enterprise, Key: creditCode}, consented, purpose, 0, consentTTL)
			if err != nil {
				return Application{}, err
			}
			app.consents = append(app.consents, ec.ID)
		}
	}
	records, statuses := s.readAll(ctx, w, creditCode, need, order, purpose, 0)

	// Prefill the form.
	for _, f := range fields {
		app.FieldsTotal++
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
	// Attach the materials government data already holds.
	for _, m := range materials {
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
	existing, err := s.insert(ctx, &app, p, req.IdempotencyKey, req)
	if err != nil {
		return Application{}, err
	}
	if existing != 0 {
		return s.get(ctx, p, existing)
	}
	return app, nil
}

// readAll reads every needed source once, logging each read. A source that
// has no record or does not answer leaves its fields for the applicant.
func (s *core) readAll(ctx context.Context, w who, creditCode string, need map[string][]string, order []string, purpose string, application int64) (map[string]hub.Record, map[string]string) {
	records := map[string]hub.Record{}
	statuses := map[string]string{}
	for _, src := range order {
		if src == "applicant" {
			records[src] = hub.Record{"name": w.name, "id_number": w.idNumber, "phone": w.phone}
			statuses[src] = "filled"
			continue
		}
		source, ok := hub.Lookup(src)
		if !ok {
			statuses[src] = "unavailable"
			continue
		}
		subject, ok := w.subject(source, creditCode)
		if !ok {
			statuses[src] = "not_found"
			continue
		}
		rec, err := s.reader.Read(ctx, hub.Read{Consent: s.consentFor(ctx, w, subject), Subject: subject, Source: src, Fields: need[src],
			Reader: w.p.AccountID, ReaderName: w.readerName(), Purpose: purpose, Application: application})
		switch {
		case err == nil:
			records[src], statuses[src] = rec, "filled"
		case errors.Is(err, hub.ErrNotFound):
			statuses[src] = "not_found"
		default:
			statuses[src] = "unavailable"
		}
	}
	return records, statuses
}

// consentFor finds the applicant's newest live consent for subject.
func (s *core) consentFor(ctx context.Context, w who, subject hub.Subject) int64 {
	var id int64
	s.db.QueryRowContext(ctx, `SELECT id FROM consents WHERE account_id = $1 AND subject_idx = $2 AND revoked_at IS NULL AND expires_at > $3 ORDER BY id DESC LIMIT 1`,
		w.p.AccountID, s.reader.Index(subject), s.now()).Scan(&id)
	return id
}

// checkApplicant refuses an applicant the item is not for.
func checkApplicant(it catalog.Item, p authz.Principal) error {
	switch {
	case it.Target == "enterprise" && p.ActingFor == nil:
		return apperr.New(apperr.Forbidden, "enterprise_item", "「%s」 is applied for by an enterprise: act for your enterprise first", it.Name.Zh)
	case it.Target == "person" && p.ActingFor != nil:
		return apperr.New(apperr.Forbidden, "person_item", "「%s」 is applied for by a person for themselves: stop acting for %s first", it.Name.Zh, p.ActingFor.Name)
	}
	if p.ActingFor != nil && len(p.ActingFor.Scope) > 0 && !slices.Contains(p.ActingFor.Scope, it.Code) {
		return apperr.New(apperr.Forbidden, "outside_authorisation", "your authorisation from %s does not cover 「%s」", p.ActingFor.Name, it.Name.Zh)
	}
	if it.Requirements != nil && it.Requirements.RealNameLevel > 0 {
		return authz.RequireRealName(p, it.Requirements.RealNameLevel)
	}
	return nil
}

// checkAnswers insists every situation question has one of its answers.
func checkAnswers(it catalog.Item, answers map[string]string) error {
	var problems []string
	for _, sit := range it.Situations {
		a, ok := answers[sit.ID]
		if !ok {
			problems = append(problems, fmt.Sprintf("answer %s (%s)", sit.ID, sit.Question.Zh))
			continue
		}
		if !slices.ContainsFunc(sit.Answers, func(x catalog.Answer) bool { return x.Value == a }) {
			problems = append(problems, fmt.Sprintf("%q is not an answer to %s", a, sit.ID))
		}
	}
	for k := range answers {
		if !slices.ContainsFunc(it.Situations, func(s catalog.Situation) bool { return s.ID == k }) {
			problems = append(problems, fmt.Sprintf("the item asks no question %q", k))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return apperr.New(apperr.Invalid, "bad_answers", "the situation answers are incomplete or wrong: %s", strings.Join(problems, "; ")).WithDetails(problems)
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
		id, err := insertDraft(ctx, tx, a, intake)
		if err != nil {
			return fmt.Errorf("save application: %w", err)
		}
		a.ID = id
		by := actor{"applicant", p.AccountID, p.Name}
		if intake != 0 {
			by = staffActor(p)
		}
		if err := s.record(ctx, tx, a.ID, by, "start", "", "draft", a.Channel, nil); err != nil {
			return err
		}
		if key != "" {
			if err := s.remember(ctx, tx, p, key, "start", request, a.ID); err != nil {
				return err
			}
		}
		for _, c := range a.consents {
			if _, err := tx.ExecContext(ctx, `UPDATE consents SET application = $1 WHERE id = $2`, a.ID, c); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errKeyTaken) {
		id, _, err := s.remembered(ctx, p, key, "start", request)
		return id, err
	}
	return existing, err
}
