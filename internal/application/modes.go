package application

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/jobs"
	"yiwang/internal/rules"
	"yiwang/internal/store"
	"yiwang/internal/workflow"
)

// The approval modes beyond machine (auto) and people (manual) decisions,
// see docs/WORKFLOW.md, "Approval modes":
//
//   - commitment (告知承诺): the applicant signs the item's commitment, the
//     application is approved at submission and an inspection follows; a
//     false commitment revokes it and writes a credit record;
//   - filing (自审备案): the application goes on public notice; an objection
//     halts it for review; a notice that ends without one approves it;
//   - co-parties (一事多人), with any mode: everyone named must confirm
//     before the decision path starts; a refusal or silence cancels it;
//   - deferred materials (容缺): a deferrable material may follow later
//     under a signed commitment; an overdue one writes a credit record.

// Defaults of the modes' settings (Deps).
const (
	DefaultPartyDays      = 5 // working days co-parties have to answer (--coparty-days)
	defaultInspectionDays = 90
	defaultNoticeDays     = 5
	objectionReviewDays   = 5
)

// inspectionStep and objectionStep are the step ids of the tasks the modes
// put in departments' inboxes. They sit outside the stages (stage -1), so
// the ordinary step decisions cannot work them.
const (
	inspectionStep = "inspection"
	objectionStep  = "objection"
	modeStage      = -1
)

// ModeTask says which approval mode's task t is: "inspection" (a
// commitment's later check), "objection" (the review of an objection to a
// filing), or "" for an ordinary step of the decision.
func (t Task) ModeTask() string {
	switch {
	case t.StepID == inspectionStep:
		return "inspection"
	case strings.HasPrefix(t.StepID, objectionStep+":"):
		return "objection"
	}
	return ""
}

// Enqueuer puts a durable job in the queue inside tx (*jobs.Queue).
type Enqueuer interface {
	Enqueue(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, error)
}

// ModeView is what an application's approval mode asks of it and how far it got.
type ModeView struct {
	Mode           string      `json:"mode"`
	CommitmentText string      `json:"commitment_text,omitempty"` // what the applicant signs, in commitment mode
	Commitment     *Commitment `json:"commitment,omitempty"`      // the signed commitment of a commitment approval
	Notice         *Notice     `json:"notice,omitempty"`          // the public notice of a filing
	Parties        []Party     `json:"parties,omitempty"`         // the co-parties and their answers
	Deferrals      []Deferral  `json:"deferrals,omitempty"`       // materials to be supplied later
}

// Commitment is a signed commitment: who signed which text when.
type Commitment struct {
	Purpose    string    `json:"purpose"` // approval, or deferral:MATERIAL
	SignerName string    `json:"signer_name"`
	SignedAt   time.Time `json:"signed_at"`
	Text       string    `json:"text"`
	Digest     string    `json:"digest"` // SHA-256 of the text, hex
	// RecordedBy is the clerk who recorded the person's signature at the
	// window of Hall; empty when the person signed it themself.
	RecordedBy string `json:"recorded_at_window_by,omitempty"`
	Hall       string `json:"hall_code,omitempty"`
}

// recordedBy selects the name of the clerk who recorded a commitment c at a
// window (its account ac is staff's), or an empty text when the person
// signed it themself.
const recordedBy = `CASE WHEN ac.kind = 'staff' THEN ac.display_name ELSE '' END`

// Notice is a filing on public notice.
type Notice struct {
	ID            int64     `json:"id"`
	ApplicationID int64     `json:"-"`
	Number        string    `json:"number"`
	Title         string    `json:"title"`
	Department    string    `json:"department"`
	Status        string    `json:"status"` // open, halted (an objection is reviewed), ended, rejected, withdrawn
	StartsAt      time.Time `json:"starts_at"`
	EndsAt        time.Time `json:"ends_at"`
	applicant     int64     // the applicant's person id, never shown
}

// FiledBy reports whether p is the applicant, who may not object to it.
func (n Notice) FiledBy(p authz.Principal) bool {
	return p.PersonID != 0 && p.PersonID == n.applicant
}

// Party is a co-party of an application and their answer.
type Party struct {
	Role    string     `json:"role"`
	Label   string     `json:"label"`
	Name    string     `json:"name"`
	Status  string     `json:"status"` // named, invited, confirmed, refused, lapsed
	Reason  string     `json:"reason,omitempty"`
	DueAt   *time.Time `json:"due_at,omitempty"`
	ActedAt *time.Time `json:"acted_at,omitempty"`
}

// Deferral is a material to be supplied later under a commitment.
type Deferral struct {
	Material   string     `json:"material"`
	DueAt      time.Time  `json:"due_at"`
	SuppliedAt *time.Time `json:"supplied_at,omitempty"`
	OverdueAt  *time.Time `json:"overdue_at,omitempty"`
	// RecordedBy is the clerk who recorded the person's signed deferral
	// commitment at a window; empty when the person signed it themself.
	RecordedBy string `json:"recorded_at_window_by,omitempty"`
}

func digest(text string) string {
	h := sha256.Sum256([]byte(text))
	return hex.EncodeToString(h[:])
}

// atWindowNote ends a timeline note of a commitment signed at a window.
const atWindowNote = "（申请人在窗口签字，窗口人员记录）"

// maySign decides, before anything is written, whether p may put a
// signature on a's commitments: the person signs their own (or their
// enterprise's, acting for it); staff never sign in a person's name, but a
// clerk of the hall where a was taken in records the signature the person
// made on paper at the window. A citizen's own application is refused.
func (s *core) maySign(ctx context.Context, p authz.Principal, a Application) error {
	if p.Kind != "staff" {
		return nil
	}
	if a.HallCode == "" || !p.Can(authz.WindowIntake) {
		return apperr.New(apperr.Forbidden, apperr.OnlyPersonSigns, "only the applicant can sign the commitments of application %d, which was not taken in at a window", a.ID)
	}
	hall, _, err := s.hallOf(ctx, p)
	if err != nil {
		return err
	}
	if hall != a.HallCode {
		return apperr.New(apperr.Forbidden, apperr.OnlyPersonSigns, "application %d was taken in at another hall: a clerk there records the applicant's signature", a.ID)
	}
	return nil
}

// signedBy is the actor of a signature p put on a: the applicant, or the
// clerk who recorded it at the window.
func signedBy(p authz.Principal, a Application) actor {
	if p.Kind == "staff" {
		return staffActor(p)
	}
	return actor{"applicant", p.AccountID, p.Name}
}

// sign writes a signed commitment inside tx, once per purpose. The signer
// is the person; account_id is who put it on record: the person's own
// account, or (a staff account) the clerk who recorded it at a window, whom
// the views name. Callers decide with maySign first.
func (s *core) sign(ctx context.Context, tx *sql.Tx, applicationID int64, purpose string, p authz.Principal, signer, text string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO commitments (application_id, purpose, account_id, signer_name, signed_at, text, digest)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (application_id, purpose) DO UPDATE SET signed_at = excluded.signed_at, account_id = excluded.account_id,
		signer_name = excluded.signer_name, text = excluded.text, digest = excluded.digest RETURNING id`,
		applicationID, purpose, p.AccountID, signer, s.now(), text, digest(text)).Scan(&id)
	return id, err
}

// draftOf is the caller's draft application and its item.
func (s *core) draftOf(ctx context.Context, p authz.Principal, id int64) (Application, catalog.Item, error) {
	a, err := s.get(ctx, p, id)
	if err != nil {
		return a, catalog.Item{}, err
	}
	if a.Status != string(workflow.Draft) {
		return a, catalog.Item{}, apperr.New(apperr.Conflict, apperr.NotADraft, "application %d is %s and can no longer be changed", id, a.Status)
	}
	v, err := s.catalog.VersionByID(ctx, a.VersionID)
	return a, v.Item, err
}

// readyToSubmit checks what a mode needs before submission: the signed
// commitment, every co-party named.
func (s *core) readyToSubmit(ctx context.Context, a Application, it catalog.Item) error {
	if it.Approval.Mode == "commitment" {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM commitments WHERE application_id = $1 AND purpose = 'approval'`, a.ID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return apperr.New(apperr.Invalid, apperr.CommitmentUnsigned, "「%s」 is approved on commitment: sign the commitment before submitting", it.Name.Zh)
		}
	}
	if it.Approval.Mode == "commitment" || it.Approval.Mode == "filing" {
		// No person looks at these before approval: every required material
		// must be there, or pending under a signed deferral (容缺).
		var missing []apperr.Detail
		for _, m := range a.Materials {
			if !m.Required || m.Attached {
				continue
			}
			pending, err := s.pendingDeferral(ctx, a.ID, m.ID)
			if err != nil {
				return err
			}
			if !pending {
				n := materialName(it, m.ID)
				missing = append(missing, detail(m.ID, n.Zh, n.In("en")))
			}
		}
		if len(missing) > 0 {
			return apperr.New(apperr.Invalid, apperr.MaterialsMissing, "supply %d more material(s), or defer them under a commitment where the item allows, before submitting: %s", len(missing), apperr.JoinEnglish(missing)).WithDetails(missing)
		}
	}
	if len(it.Parties) > 0 {
		parties, err := s.parties(ctx, s.db, a.ID)
		if err != nil {
			return err
		}
		var missing []apperr.Detail
		for _, ip := range it.Parties {
			if !slices.ContainsFunc(parties, func(x Party) bool { return x.Role == ip.Role }) {
				missing = append(missing, detail(ip.Role, ip.Label.Zh, ip.Label.In("en")))
			}
		}
		if len(missing) > 0 {
			return apperr.New(apperr.Invalid, apperr.PartiesMissing, "name every co-party before submitting: %s", apperr.JoinEnglish(missing)).WithDetails(missing)
		}
	}
	return nil
}

// proceed continues a submission inside its transaction: co-parties are
// invited and waited for, then the item's mode takes it on. An application
// its rules reject is rejected at once: no co-party is asked to confirm it.
func (s *core) proceed(ctx context.Context, tx *sql.Tx, a *Application, it catalog.Item, d *rules.Decision) error {
	if len(it.Parties) > 0 && (d == nil || d.Outcome != rules.Reject) {
		if waiting, err := s.inviteParties(ctx, tx, a, it); err != nil || waiting {
			return err
		}
	}
	return s.decidePath(ctx, tx, a, it, d)
}

// decidePath starts the decision of a submitted application by its mode,
// after its rules' decision d (nil when people alone decide it): a
// rejection or a case for a person goes the way of an auto item's (route);
// an approval takes the mode's own path — a commitment's approval, a
// filing's notice, an auto item's licence, a manual item's steps.
func (s *core) decidePath(ctx context.Context, tx *sql.Tx, a *Application, it catalog.Item, d *rules.Decision) error {
	if d != nil && d.Outcome != rules.Approve {
		return s.route(ctx, tx, a, it, d)
	}
	switch it.Approval.Mode {
	case "commitment":
		return s.approveOnCommitment(ctx, tx, a, it)
	case "filing":
		return s.openNotice(ctx, tx, a, it)
	}
	return s.route(ctx, tx, a, it, d)
}

// modes loads what an application's mode asks of it, for its views.
func (s *core) modes(ctx context.Context, a *Application, it catalog.Item) error {
	m := &ModeView{Mode: it.Approval.Mode}
	if it.Approval.Mode == "commitment" {
		m.CommitmentText = commitmentText(it)
	}
	// Most applications have none of these: one look says which to read.
	var hasCommitment, hasNotice, hasParties, hasDeferrals bool
	if err := s.db.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM commitments WHERE application_id = $1 AND purpose = 'approval'),
		EXISTS (SELECT 1 FROM notices WHERE application_id = $1),
		EXISTS (SELECT 1 FROM application_parties WHERE application_id = $1),
		EXISTS (SELECT 1 FROM deferrals WHERE application_id = $1)`, a.ID).Scan(&hasCommitment, &hasNotice, &hasParties, &hasDeferrals); err != nil {
		return err
	}
	if hasCommitment || hasNotice || hasParties || hasDeferrals {
		if err := s.modeRecords(ctx, a, it, m); err != nil {
			return err
		}
	}
	if (m.Mode != "auto" && m.Mode != "manual") || m.Commitment != nil || m.Notice != nil || len(m.Parties) > 0 || len(m.Deferrals) > 0 {
		a.Modes = m
	}
	return nil
}

// modeRecords reads into m the commitment, notice, parties and deferrals of a.
func (s *core) modeRecords(ctx context.Context, a *Application, it catalog.Item, m *ModeView) error {
	commitments, err := store.All(ctx, s.db, func(row store.Scanner) (Commitment, error) {
		var c Commitment
		err := row.Scan(&c.Purpose, &c.SignerName, &c.SignedAt, &c.Text, &c.Digest, &c.RecordedBy)
		if c.RecordedBy != "" {
			c.Hall = a.HallCode
		}
		return c, err
	}, `SELECT c.purpose, c.signer_name, c.signed_at, c.text, c.digest, `+recordedBy+` FROM commitments c
		JOIN accounts ac ON ac.id = c.account_id WHERE c.application_id = $1 AND c.purpose = 'approval'`, a.ID)
	if err != nil {
		return err
	}
	if len(commitments) > 0 {
		m.Commitment = &commitments[len(commitments)-1]
	}
	notices, err := s.queryNotices(ctx, s.db, `n.application_id = $1`, a.ID)
	if err != nil {
		return err
	}
	if len(notices) > 0 {
		m.Notice = &notices[0]
	}
	if m.Parties, err = s.parties(ctx, s.db, a.ID); err != nil {
		return err
	}
	for i := range m.Parties {
		if j := slices.IndexFunc(it.Parties, func(x catalog.Party) bool { return x.Role == m.Parties[i].Role }); j >= 0 {
			m.Parties[i].Label = it.Parties[j].Label.Zh
		}
	}
	m.Deferrals, err = store.All(ctx, s.db, func(row store.Scanner) (Deferral, error) {
		var d Deferral
		var sup, over sql.NullTime
		if err := row.Scan(&d.Material, &d.DueAt, &sup, &over, &d.RecordedBy); err != nil {
			return d, err
		}
		if sup.Valid {
			d.SuppliedAt = &sup.Time
		}
		if over.Valid {
			d.OverdueAt = &over.Time
		}
		return d, nil
	}, `SELECT d.material_id, d.due_at, d.supplied_at, d.overdue_at, `+recordedBy+` FROM deferrals d
		JOIN commitments c ON c.id = d.commitment_id JOIN accounts ac ON ac.id = c.account_id WHERE d.application_id = $1 ORDER BY d.id`, a.ID)
	return err
}

var _ Enqueuer = (*jobs.Queue)(nil)

// notAStep refuses the step actions on an inspection or an objection's
// review, which have their own.
func notAStep(t Task) error {
	return apperr.New(apperr.Conflict, apperr.NotAStep, "task %d (%s) is not a step of the decision: record its outcome with its own action", t.ID, t.Name)
}
