// Package application is where a person or an enterprise applies for an
// item: an application pins the catalogue version it is made under, fills
// itself from the data sharing hub on the applicant's consent (秒报), attaches
// materials that exist as e-licences, and on submission reads the sources
// again so that a change is flagged rather than silently overwritten.
//
// The work is split into services made together by NewServices: Drafts
// (drafts.go, prefill.go, materials.go, intake.go), Decisions
// (decisions.go), Tasks (tasks.go), Deadlines (deadlines.go,
// provisional.go) and Modes (modes.go, commitment.go, filing.go,
// coparties.go, deferrals.go, modes_rows.go). They share one core: the types and the
// dependencies (application.go), the row store (rows.go), moves through the
// state machine and the timeline (workflow.go), idempotency and issuance.
// http.go serves the API; modes_http.go the modes' API and pages.
package application

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"time"

	"yiwang/internal/authz"
	"yiwang/internal/blob"
	"yiwang/internal/catalog"
	"yiwang/internal/credit"
	"yiwang/internal/hub"
	"yiwang/internal/identity"
	"yiwang/internal/pii"
	"yiwang/internal/rules"
	"yiwang/internal/store"
)

// Application is an application as its applicant sees it.
type Application struct {
	ID        int64  `json:"id"`
	Number    string `json:"number,omitempty"` // assigned at submission
	ItemCode  string `json:"item_code"`
	ItemName  string `json:"item_name"`
	VersionID int64  `json:"version_id"`
	Status    string `json:"status"`
	Revision  int64  `json:"revision"` // send it back as If-Match to act on what you saw
	Channel   string `json:"channel"`  // web, mobile, kiosk, window, bank
	HallCode  string `json:"hall_code,omitempty"`
	// Initiative is "proactive" for an application the platform made for
	// the person on its own initiative (免申即享); empty otherwise.
	Initiative        string                `json:"initiative,omitempty"`
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
	consents            []int64  // every consent made for it, to tie to it once saved
	deferred            []string // materials pending under a signed deferral (容缺), read for its decision
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
	// Unavailable: the source could not be read at submission, so the value
	// could not be checked (not that it changed).
	Unavailable bool `json:"unavailable,omitempty"`
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
	rules      *rules.Cache
	calendars  Calendars
	notify     Notifier
	licences   Issuer
	registries *hub.Builtin
	warnDays   int // working days left at which a deadline turns yellow
	queue      Enqueuer
	partyDays  int // working days co-parties have to answer
	// credit keeps the applicants' credit standing (信用).
	credit *credit.Service
	now    func() time.Time
	sample func() float64  // [0,1), for spot-check sampling
	pick   func(n int) int // [0,n), the spot check's inspector (cryptoPick)
	// pii seals the columns that hold personal data (rows.go).
	pii *pii.Protector
}

// newCore returns the core the services share.
func newCore(d Deps) *core {
	c := &core{db: d.DB, catalog: d.Catalog, ids: d.Identities, reader: d.Reader, rules: &rules.Cache{},
		calendars: d.Calendars, notify: d.Notifier, licences: d.Licences, registries: d.Registries, pii: d.Protector, warnDays: d.WarningDays,
		queue: d.Queue, partyDays: cmp.Or(d.PartyDays, DefaultPartyDays), credit: d.Credit,
		now: func() time.Time { return time.Now().UTC() }, sample: defaultSample, pick: cryptoPick}
	if c.credit == nil {
		c.credit = credit.New(credit.Deps{DB: d.DB, Registries: d.Registries, Persons: d.Identities, Notifier: d.Notifier, Protector: d.Protector,
			Now: func() time.Time { return c.now() }})
	}
	return c
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
	Protector  *pii.Protector    // seals forms, decision records and timelines at rest
	// WarningDays is how many working days before a deadline it turns
	// yellow (--deadline-warning-days).
	WarningDays int
	// Queue takes the durable jobs of the approval modes: a filing's end of
	// notice, the co-parties' timeout.
	Queue Enqueuer
	// PartyDays is how many working days co-parties have to confirm
	// (--coparty-days); 0: DefaultPartyDays.
	PartyDays int
	// Credit computes the applicants' credit levels and lists, with the
	// platform's weights and --blacklist-after; nil: credit.DefaultConfig.
	Credit *credit.Service
}

// get returns an application its applicant may see: their own, or their
// enterprise's while acting for it. Anyone else gets not-found.
func (s *core) get(ctx context.Context, p authz.Principal, id int64) (Application, error) {
	a, err := s.own(ctx, p, id)
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

// own returns the row of an application its applicant may see, without
// what get adds for showing it: for an action that reads it first.
func (s *core) own(ctx context.Context, p authz.Principal, id int64) (Application, error) {
	a, err := s.loadApplication(ctx, s.db, id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !(a.accountID == p.AccountID || p.SeesEnterprise(a.EnterpriseID) ||
		(p.PersonID != 0 && a.personID == p.PersonID && a.EnterpriseID == 0))) {
		return Application{}, authz.NotYours("application")
	}
	return a, err
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
