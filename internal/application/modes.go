package application

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"yiwang/internal/store"
	"yiwang/internal/workday"

	"github.com/riverqueue/river"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/jobs"
	"yiwang/internal/notify"
	"yiwang/internal/pii"
	"yiwang/internal/rules"
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
	DefaultBlacklistAfter = 2 // overdue supplements that put a person on the blacklist (--blacklist-after)
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
}

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
}

func digest(text string) string {
	h := sha256.Sum256([]byte(text))
	return hex.EncodeToString(h[:])
}

// commitmentText is what an applicant signs for an item approved on commitment.
func commitmentText(it catalog.Item) string {
	if it.Approval.Commitment != nil && strings.TrimSpace(it.Approval.Commitment.Zh) != "" {
		return it.Approval.Commitment.Zh
	}
	return "本人承诺：已知晓「" + it.Name.Zh + "」的全部条件和要求，所填信息和所交材料真实、准确、完整，符合条件；如有虚假承诺，愿意承担撤销许可、记入信用记录等法律责任。"
}

// DeferralText is what an applicant signs to supply a material (by its
// name) later, by due (YYYY-MM-DD); the portal shows it before they sign.
func DeferralText(material string, due string) string {
	return "本人承诺：于 " + due + " 前补交「" + material + "」；逾期未补交的，愿意承担记入信用记录直至列入失信名单的后果。"
}

// endOfDay is the end of a date (YYYY-MM-DD) in China.
func endOfDay(date string) (time.Time, error) {
	d, err := time.ParseInLocation(time.DateOnly, date, workday.CST)
	if err != nil || !datePattern.MatchString(date) {
		return time.Time{}, apperr.New(apperr.Invalid, "bad_date", "give the date as YYYY-MM-DD")
	}
	return d.AddDate(0, 0, 1).Add(-time.Millisecond).UTC(), nil
}

// sign writes a signed commitment inside tx, once per purpose.
func (s *core) sign(ctx context.Context, tx *sql.Tx, applicationID int64, purpose string, p authz.Principal, signer, text string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO commitments (application_id, purpose, account_id, signer_name, signed_at, text, digest)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (application_id, purpose) DO UPDATE SET signed_at = excluded.signed_at, account_id = excluded.account_id,
		signer_name = excluded.signer_name, text = excluded.text, digest = excluded.digest RETURNING id`,
		applicationID, purpose, p.AccountID, signer, s.now(), text, digest(text)).Scan(&id)
	return id, err
}

// SignCommitment is the applicant signing the item's commitment on a draft
// of an item approved on commitment; submission needs it.
func (s *Modes) SignCommitment(ctx context.Context, p authz.Principal, id, expect int64, text string) (Application, error) {
	a, it, err := s.draftOf(ctx, p, id)
	if err != nil {
		return a, err
	}
	if it.Approval.Mode != "commitment" {
		return a, apperr.New(apperr.Invalid, "no_commitment", "「%s」 is not approved on commitment: there is nothing to sign", it.Name.Zh)
	}
	want := commitmentText(it)
	if text != want {
		return a, apperr.New(apperr.Invalid, "commitment_text", "sign the commitment exactly as the item words it (GET the application's modes.commitment_text)").WithDetails([]string{want})
	}
	d, err := s.ids.PersonDetails(ctx, a.personID)
	if err != nil {
		return a, err
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		locked, err := s.lockForAction(ctx, tx, id, expect)
		if err != nil {
			return err
		}
		if _, err := s.sign(ctx, tx, id, "approval", p, d.Name, want); err != nil {
			return err
		}
		return s.save(ctx, tx, &locked, update{})
	})
	if err != nil {
		return a, err
	}
	return s.get(ctx, p, id)
}

// draftOf is the caller's draft application and its item.
func (s *core) draftOf(ctx context.Context, p authz.Principal, id int64) (Application, catalog.Item, error) {
	a, err := s.get(ctx, p, id)
	if err != nil {
		return a, catalog.Item{}, err
	}
	if a.Status != string(workflow.Draft) {
		return a, catalog.Item{}, apperr.New(apperr.Conflict, "not_a_draft", "application %d is %s and can no longer be changed", id, a.Status)
	}
	v, err := s.catalog.VersionByID(ctx, a.VersionID)
	return a, v.Item, err
}

// PartyRequest names a co-party: the item's role, the person's ID number and name.
type PartyRequest struct {
	Role     string `json:"role"`
	IDNumber string `json:"id_number"`
	Name     string `json:"name"`
}

// NameParties sets the parties of a draft (一事多人): own is the item's role
// the applicant takes, and parties name a person for every other role by ID
// number and name. Naming again replaces them. The others are invited at
// submission; the applicant's own part is their submission.
func (s *Modes) NameParties(ctx context.Context, p authz.Principal, id, expect int64, own string, parties []PartyRequest) (Application, error) {
	a, it, err := s.draftOf(ctx, p, id)
	if err != nil {
		return a, err
	}
	if len(it.Parties) == 0 {
		return a, apperr.New(apperr.Invalid, "no_parties", "「%s」 has no co-parties", it.Name.Zh)
	}
	d, err := s.ids.PersonDetails(ctx, a.personID)
	if err != nil {
		return a, err
	}
	var problems []string
	isRole := func(r string) bool {
		return slices.ContainsFunc(it.Parties, func(x catalog.Party) bool { return x.Role == r })
	}
	if !isRole(own) {
		problems = append(problems, fmt.Sprintf("own_role: say which of the item's roles you take, not %q", own))
	}
	named := map[string]bool{own: true}
	people := map[string]bool{strings.ToUpper(d.IDNumber): true}
	for i, pr := range parties {
		idn := strings.ToUpper(strings.TrimSpace(pr.IDNumber))
		switch {
		case !isRole(pr.Role):
			problems = append(problems, fmt.Sprintf("party %d: the item has no role %q", i+1, pr.Role))
		case named[pr.Role]:
			problems = append(problems, fmt.Sprintf("party %d: the role %q is taken already", i+1, pr.Role))
		case strings.TrimSpace(pr.Name) == "":
			problems = append(problems, fmt.Sprintf("party %d: give the name as on the ID card", i+1))
		case people[idn]:
			problems = append(problems, fmt.Sprintf("party %d: one person cannot take two roles", i+1))
		}
		named[pr.Role], people[idn] = true, true
	}
	for _, ip := range it.Parties {
		if !named[ip.Role] {
			problems = append(problems, fmt.Sprintf("%s: name the %s", ip.Role, ip.Label.Zh))
		}
	}
	if len(problems) > 0 {
		return a, apperr.New(apperr.Invalid, "bad_parties", "the parties are not right").WithDetails(problems)
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		locked, err := s.lockForAction(ctx, tx, id, expect)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM application_parties WHERE application_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO application_parties (application_id, role, person_id, name, status, acted_at) VALUES ($1, $2, $3, $4, 'confirmed', $5)`,
			id, own, a.personID, d.Name, s.now()); err != nil {
			return err
		}
		for _, pr := range parties {
			person, err := s.partyPerson(ctx, tx, pr)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO application_parties (application_id, role, person_id, name, status) VALUES ($1, $2, $3, $4, 'named')`,
				id, pr.Role, person, strings.TrimSpace(pr.Name)); err != nil {
				return err
			}
		}
		return s.save(ctx, tx, &locked, update{})
	})
	if err != nil {
		return a, err
	}
	return s.get(ctx, p, id)
}

// partyPerson is the person a co-party names: one on record must have that
// name (an applicant cannot rename anyone); one not on record is recorded,
// so the invitation waits for them when they sign up.
func (s *core) partyPerson(ctx context.Context, tx *sql.Tx, pr PartyRequest) (int64, error) {
	known, err := s.ids.PersonByIDNumber(ctx, pr.IDNumber)
	if err == nil {
		d, err := s.ids.PersonDetails(ctx, known.ID)
		if err != nil {
			return 0, err
		}
		if d.Name != strings.TrimSpace(pr.Name) {
			return 0, apperr.New(apperr.Invalid, "name_mismatch", "the name of the %s does not match the one on record for that ID number", pr.Role)
		}
		return known.ID, nil
	}
	if !apperr.Is(err, apperr.NotFound) {
		return 0, err
	}
	return s.ids.PutPerson(ctx, tx, pr.IDNumber, pr.Name, "")
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
			return apperr.New(apperr.Invalid, "commitment_unsigned", "「%s」 is approved on commitment: sign the commitment before submitting", it.Name.Zh)
		}
	}
	if it.Approval.Mode == "commitment" || it.Approval.Mode == "filing" {
		// No person looks at these before approval: every required material
		// must be there, or pending under a signed deferral (容缺).
		var missing []string
		for _, m := range a.Materials {
			if !m.Required || m.Attached {
				continue
			}
			pending, err := s.pendingDeferral(ctx, a.ID, m.ID)
			if err != nil {
				return err
			}
			if !pending {
				missing = append(missing, m.ID+" ("+m.Name+")")
			}
		}
		if len(missing) > 0 {
			return apperr.New(apperr.Invalid, "materials_missing", "supply %d more material(s), or defer them under a commitment where the item allows, before submitting", len(missing)).WithDetails(missing)
		}
	}
	if len(it.Parties) > 0 {
		parties, err := s.parties(ctx, s.db, a.ID)
		if err != nil {
			return err
		}
		var missing []string
		for _, ip := range it.Parties {
			if !slices.ContainsFunc(parties, func(x Party) bool { return x.Role == ip.Role }) {
				missing = append(missing, ip.Role+" ("+ip.Label.Zh+")")
			}
		}
		if len(missing) > 0 {
			return apperr.New(apperr.Invalid, "parties_missing", "name every co-party before submitting").WithDetails(missing)
		}
	}
	return nil
}

// proceed continues a submission inside its transaction: co-parties are
// invited and waited for, then the item's mode takes it on.
func (s *core) proceed(ctx context.Context, tx *sql.Tx, a *Application, it catalog.Item, d *rules.Decision) error {
	if len(it.Parties) > 0 {
		if waiting, err := s.inviteParties(ctx, tx, a, it); err != nil || waiting {
			return err
		}
	}
	return s.decidePath(ctx, tx, a, it, d)
}

// decidePath starts the decision of a submitted application by its mode.
func (s *core) decidePath(ctx context.Context, tx *sql.Tx, a *Application, it catalog.Item, d *rules.Decision) error {
	switch it.Approval.Mode {
	case "commitment":
		return s.approveOnCommitment(ctx, tx, a, it)
	case "filing":
		return s.openNotice(ctx, tx, a, it)
	}
	return s.route(ctx, tx, a, it, d)
}

// ---- Commitment (告知承诺) ----

// approveOnCommitment approves at once, issues the licence, and puts an
// inspection in the department's inbox, due within the item's inspection days.
func (s *core) approveOnCommitment(ctx context.Context, tx *sql.Tx, a *Application, it catalog.Item) error {
	now := s.now()
	by := actor{kind: "machine", name: "告知承诺审批"}
	if err := s.move(ctx, tx, a, workflow.Approve, by, "申请人已签署告知承诺书", nil, update{DecidedAt: now, Reasons: "[]"}); err != nil {
		return err
	}
	if err := s.approved(ctx, tx, a, it, by); err != nil {
		return err
	}
	days := it.Approval.InspectionDays
	if days <= 0 {
		days = defaultInspectionDays
	}
	// Inspection days are working days. Months ahead the working-day
	// calendar may not hold the year yet: then the deadline is provisional,
	// and counted again when the year is loaded (Recount).
	due, cal, err := s.deadlineAfter(ctx, now, days)
	if err != nil {
		return err
	}
	day := due.In(workday.CST).Format(time.DateOnly)
	if _, err := insertModeTask(ctx, tx, modeTask{ApplicationID: a.ID, StepID: inspectionStep, NameZh: "告知承诺核查", NameEn: "Inspection of a commitment",
		Department: it.Department, Days: days, OpenedAt: now, Deadline: due, Note: "核查期限 " + day}); err != nil {
		return fmt.Errorf("plan the inspection of application %d: %w", a.ID, err)
	}
	return s.record(ctx, tx, a.ID, system, "inspection_scheduled", a.Status, a.Status, withProvisional("核查期限 "+day, cal, now, due, true), map[string]any{"due": day})
}

// RecordInspection is an inspector's finding on a commitment approval:
// fine closes the inspection; a false commitment revokes the approval and
// its licence and writes a credit record for the applicant.
func (s *Modes) RecordInspection(ctx context.Context, p authz.Principal, taskID, expect int64, truthful bool, note string) (Application, error) {
	if err := authz.Require(p, authz.Inspect); err != nil {
		return Application{}, err
	}
	note = strings.TrimSpace(note)
	if !truthful && note == "" {
		return Application{}, apperr.New(apperr.Invalid, "reason_required", "a false commitment must say what was found")
	}
	var appID int64
	err := s.withTask(ctx, p, taskID, expect, func(tx *sql.Tx, t Task, a *Application) error {
		if t.ModeTask() != "inspection" {
			return apperr.New(apperr.Conflict, "not_an_inspection", "task %d is not an inspection", t.ID)
		}
		if err := mustBeWorkable(p, t, a); err != nil {
			return err
		}
		appID = a.ID
		status, finding := workflow.TaskApproved, "核查属实"
		if !truthful {
			status, finding = workflow.TaskRejected, "虚假承诺："+note
		}
		if _, err := finishTask(ctx, tx, p, t, status, []string{finding}, sql.NullString{}, s.now()); err != nil {
			return err
		}
		by := staffActor(p)
		if truthful {
			return s.record(ctx, tx, a.ID, by, "inspection_passed", a.Status, a.Status, note, map[string]any{"task": t.ID})
		}
		if err := s.move(ctx, tx, a, workflow.Revoke, by, finding, map[string]any{"task": t.ID}, update{}); err != nil {
			return err
		}
		if err := s.revokeLicence(ctx, tx, a, finding, by); err != nil {
			return err
		}
		if _, err := s.writeCredit(ctx, tx, a, "false_commitment", "", finding); err != nil {
			return err
		}
		return s.tell(ctx, tx, a, "revoked")
	})
	if err != nil {
		return Application{}, err
	}
	return s.staffView(ctx, p, appID)
}

// ---- Credit records ----

// writeCredit writes a credit record about the applicant of a, once per
// (kind, ref), and counts it in the credit registry (信用库) where rules read
// it: records goes up by one, and overdue supplements put the person on the
// blacklist from the blacklistAfter-th on. It reports whether it was new.
func (s *core) writeCredit(ctx context.Context, tx *sql.Tx, a *Application, kind, ref, note string) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO credit_records (person_id, application_id, kind, ref, note, created_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (application_id, kind, ref) DO NOTHING`, a.personID, a.ID, kind, ref, note, s.now())
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	var overdue int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM credit_records WHERE person_id = $1 AND kind = 'overdue_supplement'`, a.personID).Scan(&overdue); err != nil {
		return false, err
	}
	d, err := s.ids.PersonDetails(ctx, a.personID)
	if err != nil {
		return false, err
	}
	blacklist := s.blacklistAfter > 0 && overdue >= s.blacklistAfter
	err = s.registries.Amend(ctx, tx, "credit", hub.Subject{Kind: hub.Person, Key: d.IDNumber}, func(r hub.Record) {
		n, _ := r["records"].(float64)
		r["records"] = n + 1
		if blacklist {
			r["blacklisted"] = true
		} else if _, ok := r["blacklisted"]; !ok {
			r["blacklisted"] = false
		}
	})
	if err != nil {
		return false, fmt.Errorf("credit record of application %d: %w", a.ID, err)
	}
	note = kind
	if blacklist {
		note += "；列入失信名单"
	}
	return true, s.record(ctx, tx, a.ID, system, "credit_record", a.Status, a.Status, note, map[string]any{"kind": kind, "ref": ref, "blacklisted": blacklist})
}

// ---- Filing (自审备案) ----

// NoticeEndArgs is the durable job that ends a filing's notice period.
type NoticeEndArgs struct {
	ApplicationID int64 `json:"application_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (NoticeEndArgs) Kind() string { return "filing_notice_end" }

// openNotice puts a filing on public notice for the item's notice days and
// schedules the job that ends it.
func (s *core) openNotice(ctx context.Context, tx *sql.Tx, a *Application, it catalog.Item) error {
	now := s.now()
	days := it.Approval.NoticeDays
	if days <= 0 {
		days = defaultNoticeDays
	}
	ends, cal, err := s.deadlineAfter(ctx, now, days)
	if err != nil {
		return err
	}
	d, err := s.ids.PersonDetails(ctx, a.personID)
	if err != nil {
		return err
	}
	title := "「" + it.Name.Zh + "」备案 — 申请人 " + pii.MaskName(d.Name)
	if _, err := tx.ExecContext(ctx, `INSERT INTO notices (application_id, status, title, department, starts_at, ends_at) VALUES ($1, 'open', $2, $3, $4, $5)`,
		a.ID, title, it.Department, now, ends); err != nil {
		return err
	}
	if err := s.schedule(ctx, tx, NoticeEndArgs{ApplicationID: a.ID}, ends); err != nil {
		return err
	}
	return s.record(ctx, tx, a.ID, system, "notice_opened", a.Status, a.Status, withProvisional("公示至 "+ends.In(workday.CST).Format(time.DateOnly), cal, now, ends, false), map[string]any{"ends_at": ends})
}

// schedule enqueues a mode's job for at, inside tx.
func (s *core) schedule(ctx context.Context, tx *sql.Tx, args river.JobArgs, at time.Time) error {
	if s.queue == nil {
		return errors.New("no job queue to schedule " + args.Kind())
	}
	_, err := s.queue.Enqueue(ctx, tx, args, &river.InsertOpts{ScheduledAt: at, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}})
	return err
}

const noticeColumns = `n.id, n.application_id, COALESCE(a.number, ''), n.title, n.department, n.status, n.starts_at, n.ends_at, a.person_id`

func (s *core) queryNotices(ctx context.Context, q store.Querier, where string, args ...any) ([]Notice, error) {
	return orEmpty(store.All(ctx, q, func(row store.Scanner) (Notice, error) {
		var n Notice
		err := row.Scan(&n.ID, &n.ApplicationID, &n.Number, &n.Title, &n.Department, &n.Status, &n.StartsAt, &n.EndsAt, &n.applicant)
		return n, err
	}, `SELECT `+noticeColumns+` FROM notices n JOIN applications a ON a.id = n.application_id WHERE `+where, args...))
}

// Notices lists the filings on public notice now, or halted by an
// objection, the newest first. Anyone may see them.
func (s *Modes) Notices(ctx context.Context) ([]Notice, error) {
	return s.queryNotices(ctx, s.db, `n.status IN ('open', 'halted') AND a.status = 'submitted' ORDER BY n.starts_at DESC, n.id DESC LIMIT 500`)
}

// Object is a signed-in person objecting to a filing on notice, with
// reasons: the notice halts and the department reviews the objection.
func (s *Modes) Object(ctx context.Context, p authz.Principal, noticeID int64, reasons string) (Notice, error) {
	if err := authz.Require(p, authz.SignedIn); err != nil {
		return Notice{}, err
	}
	if p.PersonID == 0 {
		return Notice{}, apperr.New(apperr.Forbidden, "persons_only", "objections are made by people, in their own name")
	}
	if reasons = strings.TrimSpace(reasons); reasons == "" || len([]rune(reasons)) > 2000 {
		return Notice{}, apperr.New(apperr.Invalid, "reasons_required", "say why you object (up to 2000 characters)")
	}
	var out Notice
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		list, err := s.queryNotices(ctx, tx, `n.id = $1`, noticeID)
		if err != nil {
			return err
		}
		if len(list) == 0 || (list[0].Status != "open" && list[0].Status != "halted") {
			return apperr.New(apperr.NotFound, "notice_not_found", "there is no notice %d open for objections", noticeID)
		}
		n := list[0]
		now := s.now()
		if n.Status == "open" && !now.Before(n.EndsAt) {
			return apperr.New(apperr.Conflict, "notice_ended", "the notice period of %s has ended", n.Number)
		}
		if n.FiledBy(p) {
			// An objection is the public's check on a filing; the applicant
			// who wants it stopped withdraws it instead.
			return apperr.New(apperr.Forbidden, "own_filing", "you cannot object to your own filing; withdraw it instead")
		}
		a, err := s.lockForAction(ctx, tx, n.ApplicationID, 0)
		if err != nil {
			return err
		}
		var oid int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO objections (notice_id, account_id, reasons, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			n.ID, p.AccountID, reasons, now).Scan(&oid); err != nil {
			return err
		}
		deadline, cal, err := s.deadlineAfter(ctx, now, objectionReviewDays)
		if err != nil {
			return err
		}
		tid, err := insertModeTask(ctx, tx, modeTask{ApplicationID: a.ID, StepID: fmt.Sprintf("%s:%d", objectionStep, oid), NameZh: "公示异议审查", NameEn: "Review of an objection",
			Department: n.Department, Days: objectionReviewDays, OpenedAt: now, Deadline: deadline, Note: reasons})
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE objections SET task_id = $1 WHERE id = $2`, tid, oid); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE notices SET status = 'halted' WHERE id = $1`, n.ID); err != nil {
			return err
		}
		n.Status = "halted"
		out = n
		if err := s.save(ctx, tx, &a, update{}); err != nil {
			return err
		}
		return s.record(ctx, tx, a.ID, actor{kind: "system", name: "公示异议"}, "objection", a.Status, a.Status, withProvisional(reasons, cal, now, deadline, true), map[string]any{"objection": oid, "task": tid})
	})
	return out, err
}

// ReviewObjection is the department's answer to an objection: upheld, the
// filing is rejected with the reasons; cleared, the notice goes on (and a
// notice whose period ended meanwhile approves at once).
func (s *Modes) ReviewObjection(ctx context.Context, p authz.Principal, taskID, expect int64, uphold bool, reasons []string) (Application, error) {
	reasons = cleanReasons(reasons)
	if uphold && len(reasons) == 0 {
		return Application{}, apperr.New(apperr.Invalid, "reasons_required", "upholding an objection must give the applicant its reasons")
	}
	var appID int64
	err := s.withTask(ctx, p, taskID, expect, func(tx *sql.Tx, t Task, a *Application) error {
		if t.ModeTask() != "objection" {
			return apperr.New(apperr.Conflict, "not_an_objection", "task %d is not the review of an objection", t.ID)
		}
		if err := mustBeWorkable(p, t, a); err != nil {
			return err
		}
		appID = a.ID
		now := s.now()
		status, outcome := workflow.TaskApproved, "cleared"
		if uphold {
			status, outcome = workflow.TaskRejected, "upheld"
		}
		rs, err := finishTask(ctx, tx, p, t, status, reasons, sql.NullString{}, now)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE objections SET outcome = $1 WHERE task_id = $2`, outcome, t.ID); err != nil {
			return err
		}
		by := staffActor(p)
		if uphold {
			if err := cancelTasks(ctx, tx, a.ID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE objections SET outcome = 'cleared' WHERE outcome = 'pending' AND notice_id = (SELECT id FROM notices WHERE application_id = $1)`, a.ID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE notices SET status = 'rejected' WHERE application_id = $1`, a.ID); err != nil {
				return err
			}
			if err := s.move(ctx, tx, a, workflow.Reject, by, "异议成立："+strings.Join(reasons, "；"), map[string]any{"task": t.ID}, update{DecidedAt: now, Reasons: string(rs)}); err != nil {
				return err
			}
			return s.tell(ctx, tx, a, "decision")
		}
		if err := s.record(ctx, tx, a.ID, by, "objection_cleared", a.Status, a.Status, strings.Join(reasons, "；"), map[string]any{"task": t.ID}); err != nil {
			return err
		}
		var pending int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM objections o JOIN notices n ON n.id = o.notice_id WHERE n.application_id = $1 AND o.outcome = 'pending'`, a.ID).Scan(&pending); err != nil {
			return err
		}
		if pending > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE notices SET status = 'open' WHERE application_id = $1 AND status = 'halted'`, a.ID); err != nil {
			return err
		}
		return s.endNotice(ctx, tx, a)
	})
	if err != nil {
		return Application{}, err
	}
	return s.staffView(ctx, p, appID)
}

// EndNotice ends the notice of a filing whose period is over: with no
// objection open, the filing is approved and its licence issued. Early, it
// fails so that the job is tried again later; done already, it does nothing.
func (s *Modes) EndNotice(ctx context.Context, applicationID int64) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		a, err := s.lockForAction(ctx, tx, applicationID, 0)
		if err != nil {
			return err
		}
		list, err := s.queryNotices(ctx, tx, `n.application_id = $1`, applicationID)
		if err != nil || len(list) == 0 || list[0].Status != "open" {
			return err // halted: the objection's review decides; ended or rejected: done
		}
		if s.now().Before(list[0].EndsAt) {
			return fmt.Errorf("the notice of application %d runs until %s", applicationID, list[0].EndsAt.Format(time.RFC3339))
		}
		return s.endNotice(ctx, tx, &a)
	})
}

// endNotice approves a filing whose notice is open and over, inside tx.
func (s *core) endNotice(ctx context.Context, tx *sql.Tx, a *Application) error {
	list, err := s.queryNotices(ctx, tx, `n.application_id = $1`, a.ID)
	if err != nil || len(list) == 0 || list[0].Status != "open" || s.now().Before(list[0].EndsAt) || a.Status != string(workflow.Submitted) {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE notices SET status = 'ended' WHERE id = $1`, list[0].ID); err != nil {
		return err
	}
	v, err := s.catalog.VersionByID(ctx, a.VersionID)
	if err != nil {
		return err
	}
	by := actor{kind: "system", name: "公示期满无异议"}
	if err := s.move(ctx, tx, a, workflow.Approve, by, "公示期满无异议，予以备案", nil, update{DecidedAt: s.now(), Reasons: "[]"}); err != nil {
		return err
	}
	return s.approved(ctx, tx, a, v.Item, by)
}

// NoticeWorker works NoticeEndArgs jobs.
type NoticeWorker struct {
	river.WorkerDefaults[NoticeEndArgs]
	svc *Modes
}

// NewNoticeWorker returns the worker; register it with jobs.Register.
func NewNoticeWorker(svc *Modes) *NoticeWorker { return &NoticeWorker{svc: svc} }

// Work ends the notice.
func (w *NoticeWorker) Work(ctx context.Context, job *river.Job[NoticeEndArgs]) error {
	return w.svc.EndNotice(ctx, job.Args.ApplicationID)
}

// ---- Co-parties (一事多人) ----

// PartyTimeoutArgs is the durable job that cancels an application whose
// co-parties did not all answer in time.
type PartyTimeoutArgs struct {
	ApplicationID int64 `json:"application_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (PartyTimeoutArgs) Kind() string { return "coparty_timeout" }

// inviteParties invites every named co-party of a submitted application and
// schedules the timeout; the decision path waits for all to confirm. It
// reports whether there is anyone to wait for.
func (s *core) inviteParties(ctx context.Context, tx *sql.Tx, a *Application, it catalog.Item) (bool, error) {
	now := s.now()
	due, cal, err := s.deadlineAfter(ctx, now, s.partyDays)
	if err != nil {
		return false, err
	}
	d, err := s.ids.PersonDetails(ctx, a.personID)
	if err != nil {
		return false, err
	}
	type invitee struct {
		id, person int64
		role       string
	}
	list, err := store.All(ctx, tx, func(row store.Scanner) (invitee, error) {
		var x invitee
		err := row.Scan(&x.id, &x.person, &x.role)
		return x, err
	}, `SELECT id, person_id, role FROM application_parties WHERE application_id = $1 AND status = 'named' ORDER BY id`, a.ID)
	if err != nil {
		return false, err
	}
	if len(list) == 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE application_parties SET status = 'invited', invited_at = $1, due_at = $2 WHERE application_id = $3 AND status = 'named'`, now, due, a.ID); err != nil {
		return false, err
	}
	day := due.In(workday.CST).Format(time.DateOnly)
	for _, x := range list {
		label := x.role
		if i := slices.IndexFunc(it.Parties, func(p catalog.Party) bool { return p.Role == x.role }); i >= 0 {
			label = it.Parties[i].Label.Zh
		}
		if _, err := s.notify.Send(ctx, tx, notify.Message{PersonID: x.person, Kind: notify.CopartyInvitation, ApplicationID: a.ID, Link: "/me/invitations",
			TitleZh: "请确认：" + d.Name + " 申请「" + it.Name.Zh + "」，您是" + label, TitleEn: d.Name + " applied for " + it.Name.In("en") + " naming you as a co-party: please confirm",
			BodyZh: "请于 " + day + " 前在“我的邀请”中确认签名或拒绝；逾期未确认的，申请将被取消。",
			BodyEn: "Confirm and sign, or refuse, under My invitations by " + day + "; without every co-party's answer by then the application is cancelled."}); err != nil {
			return false, err
		}
	}
	if err := s.schedule(ctx, tx, PartyTimeoutArgs{ApplicationID: a.ID}, due); err != nil {
		return false, err
	}
	return true, s.record(ctx, tx, a.ID, system, "parties_invited", a.Status, a.Status, withProvisional(fmt.Sprintf("%d 位共同申请人，%s 前确认", len(list), day), cal, now, due, false), map[string]any{"due_at": due})
}

// parties lists an application's co-parties.
func (s *core) parties(ctx context.Context, q store.Querier, applicationID int64) ([]Party, error) {
	return store.All(ctx, q, func(row store.Scanner) (Party, error) {
		var p Party
		var due, acted sql.NullTime
		if err := row.Scan(&p.Role, &p.Name, &p.Status, &p.Reason, &due, &acted); err != nil {
			return p, err
		}
		if due.Valid {
			p.DueAt = &due.Time
		}
		if acted.Valid {
			p.ActedAt = &acted.Time
		}
		return p, nil
	}, `SELECT role, name, status, reason, due_at, acted_at FROM application_parties WHERE application_id = $1 ORDER BY id`, applicationID)
}

// Invitation is a co-party's view of an application they are named in.
type Invitation struct {
	ApplicationID int64      `json:"application_id"`
	Number        string     `json:"number"`
	ItemName      string     `json:"item_name"`
	Applicant     string     `json:"applicant"` // masked
	Role          string     `json:"role"`
	Label         string     `json:"label"`
	Status        string     `json:"status"`
	Reason        string     `json:"reason,omitempty"`
	DueAt         *time.Time `json:"due_at,omitempty"`
	// Open says the invitation still waits for an answer: invited, and the
	// application not withdrawn or ended meanwhile.
	Open bool `json:"open"`
}

// Invitations lists the applications the signed-in person is a co-party
// of, once submitted, the newest first.
func (s *Modes) Invitations(ctx context.Context, p authz.Principal) ([]Invitation, error) {
	if p.PersonID == 0 {
		return []Invitation{}, nil
	}
	type row struct {
		Invitation
		version, person int64
	}
	list, err := store.All(ctx, s.db, func(sc store.Scanner) (row, error) {
		var r row
		var due sql.NullTime
		if err := sc.Scan(&r.ApplicationID, &r.Number, &r.version, &r.person, &r.Role, &r.Status, &r.Reason, &due, &r.Open); err != nil {
			return r, err
		}
		if due.Valid {
			r.DueAt = &due.Time
		}
		return r, nil
	}, `SELECT a.id, COALESCE(a.number, ''), a.version_id, a.person_id, ap.role, ap.status, ap.reason, ap.due_at,
		ap.status = 'invited' AND a.status = 'submitted'
		FROM application_parties ap JOIN applications a ON a.id = ap.application_id
		WHERE ap.person_id = $1 AND ap.status <> 'named' AND ap.person_id <> a.person_id ORDER BY a.id DESC LIMIT 200`, p.PersonID)
	if err != nil {
		return nil, err
	}
	out := []Invitation{}
	for _, r := range list {
		v, err := s.catalog.VersionByID(ctx, r.version)
		if err != nil {
			return nil, err
		}
		d, err := s.ids.PersonDetails(ctx, r.person)
		if err != nil {
			return nil, err
		}
		r.ItemName, r.Applicant, r.Label = v.Item.Name.Zh, pii.MaskName(d.Name), r.Role
		if i := slices.IndexFunc(v.Item.Parties, func(x catalog.Party) bool { return x.Role == r.Role }); i >= 0 {
			r.Label = v.Item.Parties[i].Label.Zh
		}
		out = append(out, r.Invitation)
	}
	return out, nil
}

// AnswerInvitation is a co-party confirming (signing) or refusing, with a
// reason. A refusal cancels the application; the last confirmation starts
// its decision path.
func (s *Modes) AnswerInvitation(ctx context.Context, p authz.Principal, applicationID int64, confirm bool, reason string) (Invitation, error) {
	if p.PersonID == 0 {
		return Invitation{}, apperr.New(apperr.Forbidden, "persons_only", "co-parties answer in their own name")
	}
	reason = strings.TrimSpace(reason)
	if !confirm && reason == "" {
		return Invitation{}, apperr.New(apperr.Invalid, "reason_required", "say why you refuse: the applicant is told")
	}
	var a0 Application
	if err := s.db.QueryRowContext(ctx, `SELECT version_id FROM applications WHERE id = $1`, applicationID).Scan(&a0.VersionID); err != nil {
		return Invitation{}, authz.NotYours("invitation")
	}
	v, err := s.catalog.VersionByID(ctx, a0.VersionID)
	if err != nil {
		return Invitation{}, err
	}
	var decision *rules.Decision
	if v.Item.Approval.Mode == "auto" {
		if d, err := s.decisionRecord(ctx, applicationID); err == nil {
			decision = &d
		} else if !apperr.Is(err, apperr.NotFound) {
			return Invitation{}, err
		}
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		a, err := s.lockForAction(ctx, tx, applicationID, 0)
		if err != nil {
			return err
		}
		var partyID int64
		var role, status string
		err = tx.QueryRowContext(ctx, `SELECT id, role, status FROM application_parties WHERE application_id = $1 AND person_id = $2`, applicationID, p.PersonID).Scan(&partyID, &role, &status)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && status == "named") {
			return authz.NotYours("invitation")
		}
		if err != nil {
			return err
		}
		if status != "invited" || a.Status != string(workflow.Submitted) {
			return apperr.New(apperr.Conflict, "already_answered", "this invitation is %s; the application is %s", status, a.Status)
		}
		now := s.now()
		by := actor{"party", p.AccountID, p.Name}
		if !confirm {
			if _, err := tx.ExecContext(ctx, `UPDATE application_parties SET status = 'refused', reason = $1, acted_at = $2 WHERE id = $3`, reason, now, partyID); err != nil {
				return err
			}
			return s.cancelForParties(ctx, tx, &a, by, "共同申请人拒绝："+reason)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE application_parties SET status = 'confirmed', acted_at = $1 WHERE id = $2`, now, partyID); err != nil {
			return err
		}
		text := "本人确认作为「" + v.Item.Name.Zh + "」的共同申请人，同意办件 " + a.Number + " 的申请内容。"
		if _, err := s.sign(ctx, tx, a.ID, "party:"+role, p, p.Name, text); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a.ID, by, "party_confirmed", a.Status, a.Status, role, nil); err != nil {
			return err
		}
		var waiting int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM application_parties WHERE application_id = $1 AND status <> 'confirmed'`, a.ID).Scan(&waiting); err != nil {
			return err
		}
		if waiting > 0 {
			return s.save(ctx, tx, &a, update{})
		}
		return s.decidePath(ctx, tx, &a, v.Item, decision)
	})
	if err != nil {
		return Invitation{}, err
	}
	list, err := s.Invitations(ctx, p)
	if err != nil {
		return Invitation{}, err
	}
	for _, inv := range list {
		if inv.ApplicationID == applicationID {
			return inv, nil
		}
	}
	return Invitation{}, authz.NotYours("invitation")
}

// cancelForParties ends an application the co-parties did not all confirm:
// not accepted (不予受理), with the reason, and the applicant told.
func (s *core) cancelForParties(ctx context.Context, tx *sql.Tx, a *Application, by actor, reason string) error {
	rs, _ := json.Marshal([]string{reason})
	if err := s.move(ctx, tx, a, workflow.Refuse, by, reason, nil, update{DecidedAt: s.now(), Reasons: string(rs)}); err != nil {
		return err
	}
	return s.tell(ctx, tx, a, "decision")
}

// PartiesTimedOut cancels an application whose co-parties have not all
// confirmed by their due time. Early, it fails so that the job is tried
// again later; answered already, it does nothing.
func (s *Modes) PartiesTimedOut(ctx context.Context, applicationID int64) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		a, err := s.lockForAction(ctx, tx, applicationID, 0)
		if err != nil || a.Status != string(workflow.Submitted) {
			return err
		}
		var due sql.NullTime
		err = tx.QueryRowContext(ctx, `SELECT due_at FROM application_parties WHERE application_id = $1 AND status = 'invited' ORDER BY due_at DESC LIMIT 1`, a.ID).Scan(&due)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // everyone answered
		}
		if err != nil {
			return err
		}
		if due.Valid && s.now().Before(due.Time) {
			return fmt.Errorf("the co-parties of application %d have until %s", a.ID, due.Time.Format(time.RFC3339))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE application_parties SET status = 'lapsed', acted_at = $1 WHERE application_id = $2 AND status = 'invited'`, s.now(), a.ID); err != nil {
			return err
		}
		return s.cancelForParties(ctx, tx, &a, system, fmt.Sprintf("共同申请人未在 %d 个工作日内确认", s.partyDays))
	})
}

// PartyTimeoutWorker works PartyTimeoutArgs jobs.
type PartyTimeoutWorker struct {
	river.WorkerDefaults[PartyTimeoutArgs]
	svc *Modes
}

// NewPartyTimeoutWorker returns the worker; register it with jobs.Register.
func NewPartyTimeoutWorker(svc *Modes) *PartyTimeoutWorker { return &PartyTimeoutWorker{svc: svc} }

// Work cancels the application if its co-parties did not all answer.
func (w *PartyTimeoutWorker) Work(ctx context.Context, job *river.Job[PartyTimeoutArgs]) error {
	return w.svc.PartiesTimedOut(ctx, job.Args.ApplicationID)
}

// ---- Deferred materials (容缺) ----

// DeferMaterial marks a deferrable material of an undecided application
// pending until due (YYYY-MM-DD), under the applicant's signed commitment to
// supply it by then; the applicant or a window clerk may. Processing goes on.
func (s *Modes) DeferMaterial(ctx context.Context, p authz.Principal, id, expect int64, materialID, due string) (Application, error) {
	a, err := s.deferrable(ctx, p, id)
	if err != nil {
		return a, err
	}
	v, err := s.catalog.VersionByID(ctx, a.VersionID)
	if err != nil {
		return a, err
	}
	i := slices.IndexFunc(v.Item.Materials, func(m catalog.Material) bool { return m.ID == materialID })
	j := slices.IndexFunc(a.Materials, func(m Material) bool { return m.ID == materialID })
	switch {
	case i < 0 || j < 0:
		return a, apperr.New(apperr.NotFound, "material_not_found", "application %d has no material %q", id, materialID)
	case !v.Item.Materials[i].Deferrable:
		return a, apperr.New(apperr.Invalid, "not_deferrable", "「%s」 cannot be supplied later: the item does not allow it", v.Item.Materials[i].Name.Zh)
	case a.Materials[j].Attached:
		return a, apperr.New(apperr.Conflict, "attached", "「%s」 is already supplied", a.Materials[j].Name)
	}
	dueAt, err := endOfDay(due)
	if err != nil {
		return a, err
	}
	if !dueAt.After(s.now()) {
		return a, apperr.New(apperr.Invalid, "due_passed", "the due date must be in the future")
	}
	d, err := s.ids.PersonDetails(ctx, a.personID)
	if err != nil {
		return a, err
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		locked, err := s.lockForAction(ctx, tx, id, expect)
		if err != nil {
			return err
		}
		cid, err := s.sign(ctx, tx, id, "deferral:"+materialID, p, d.Name, DeferralText(a.Materials[j].Name, due))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO deferrals (application_id, material_id, commitment_id, due_at, marked_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (application_id, material_id) DO UPDATE SET commitment_id = excluded.commitment_id, due_at = excluded.due_at, marked_at = excluded.marked_at
			WHERE deferrals.supplied_at IS NULL AND deferrals.overdue_at IS NULL`, id, materialID, cid, dueAt, s.now()); err != nil {
			return err
		}
		by := actor{"applicant", p.AccountID, p.Name}
		if p.PersonID != a.personID {
			by = staffActor(p)
		}
		if err := s.save(ctx, tx, &locked, update{}); err != nil {
			return err
		}
		return s.record(ctx, tx, id, by, "material_deferred", locked.Status, locked.Status, a.Materials[j].Name+" 容缺，"+due+" 前补交", map[string]any{"material": materialID, "due": due})
	})
	if err != nil {
		return a, err
	}
	return s.appFor(ctx, p, id)
}

// deferrable is an application the caller may defer materials of: their own
// undecided one, or any undecided one for a window clerk.
func (s *core) deferrable(ctx context.Context, p authz.Principal, id int64) (Application, error) {
	a, err := s.get(ctx, p, id)
	if err != nil && p.Can(authz.WindowIntake) {
		a, err = loadApplication(ctx, s.db, id)
		if errors.Is(err, sql.ErrNoRows) {
			err = authz.NotYours("application")
		}
	}
	if err != nil {
		return a, err
	}
	if workflow.Decided(workflow.Status(a.Status)) {
		return a, apperr.New(apperr.Conflict, "already_decided", "application %d is already %s", id, a.Status)
	}
	return a, nil
}

// appFor returns the application as the caller sees it.
func (s *core) appFor(ctx context.Context, p authz.Principal, id int64) (Application, error) {
	if a, err := s.get(ctx, p, id); err == nil || p.PersonID != 0 {
		return a, err
	}
	return s.staffView(ctx, p, id)
}

// pendingDeferral reports whether a material of an application waits to be
// supplied under a deferral.
func (s *core) pendingDeferral(ctx context.Context, applicationID int64, materialID string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM deferrals WHERE application_id = $1 AND material_id = $2 AND supplied_at IS NULL`, applicationID, materialID).Scan(&n)
	return n > 0, err
}

// supplied clears a deferral once its material is uploaded, inside tx.
func (s *core) supplied(ctx context.Context, tx *sql.Tx, applicationID int64, materialID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE deferrals SET supplied_at = $1 WHERE application_id = $2 AND material_id = $3 AND supplied_at IS NULL`, s.now(), applicationID, materialID)
	return err
}

// sweepDeferrals finds the supplements overdue at now: each writes one
// credit record for its applicant, who is told. It returns how many.
func (s *core) sweepDeferrals(ctx context.Context) (int, error) {
	type due struct {
		id, app int64
		mat     string
		at      time.Time
	}
	list, err := store.All(ctx, s.db, func(row store.Scanner) (due, error) {
		var d due
		err := row.Scan(&d.id, &d.app, &d.mat, &d.at)
		return d, err
	}, `SELECT id, application_id, material_id, due_at FROM deferrals WHERE supplied_at IS NULL AND overdue_at IS NULL AND due_at < $1 ORDER BY due_at, id`, s.now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range list {
		err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE deferrals SET overdue_at = $1 WHERE id = $2 AND overdue_at IS NULL AND supplied_at IS NULL`, s.now(), d.id)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				return nil
			}
			a, err := loadApplication(ctx, tx, d.app)
			if err != nil {
				return err
			}
			name := d.mat
			if i := slices.IndexFunc(a.Materials, func(m Material) bool { return m.ID == d.mat }); i >= 0 {
				name = a.Materials[i].Name
			}
			if _, err := s.writeCredit(ctx, tx, &a, "overdue_supplement", d.mat, "容缺材料「"+name+"」逾期未补交"); err != nil {
				return err
			}
			n++
			to := notify.Message{AccountID: a.accountID, Kind: notify.DeadlineWarning, ApplicationID: a.ID, Link: fmt.Sprintf("/applications/%d", a.ID),
				TitleZh: "办件 " + a.Number + " 的容缺材料逾期未补交", TitleEn: "A deferred material of application " + a.Number + " is overdue",
				BodyZh: "「" + name + "」未在承诺期限 " + d.at.In(workday.CST).Format(time.DateOnly) + " 前补交，已记入信用记录。",
				BodyEn: "The material you promised by " + d.at.In(workday.CST).Format(time.DateOnly) + " was not supplied; a credit record was written."}
			if a.HallCode != "" {
				to.AccountID, to.PersonID = 0, a.personID
			}
			_, err = s.notify.Send(ctx, tx, to)
			return err
		})
		if err != nil {
			return n, fmt.Errorf("overdue supplement %d: %w", d.id, err)
		}
	}
	return n, nil
}

// ---- What an application shows of its mode ----

// modes loads what an application's mode asks of it, for its views.
func (s *core) modes(ctx context.Context, a *Application, it catalog.Item) error {
	m := &ModeView{Mode: it.Approval.Mode}
	commitments, err := store.All(ctx, s.db, func(row store.Scanner) (Commitment, error) {
		var c Commitment
		err := row.Scan(&c.Purpose, &c.SignerName, &c.SignedAt, &c.Text, &c.Digest)
		return c, err
	}, `SELECT purpose, signer_name, signed_at, text, digest FROM commitments WHERE application_id = $1 AND purpose = 'approval'`, a.ID)
	if err != nil {
		return err
	}
	if len(commitments) > 0 {
		m.Commitment = &commitments[len(commitments)-1]
	}
	if it.Approval.Mode == "commitment" {
		m.CommitmentText = commitmentText(it)
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
		if err := row.Scan(&d.Material, &d.DueAt, &sup, &over); err != nil {
			return d, err
		}
		if sup.Valid {
			d.SuppliedAt = &sup.Time
		}
		if over.Valid {
			d.OverdueAt = &over.Time
		}
		return d, nil
	}, `SELECT material_id, due_at, supplied_at, overdue_at FROM deferrals WHERE application_id = $1 ORDER BY id`, a.ID)
	if err != nil {
		return err
	}
	if (m.Mode != "auto" && m.Mode != "manual") || m.Commitment != nil || m.Notice != nil || len(m.Parties) > 0 || len(m.Deferrals) > 0 {
		a.Modes = m
	}
	return nil
}

var _ Enqueuer = (*jobs.Queue)(nil)

// notAStep refuses the step actions on an inspection or an objection's
// review, which have their own.
func notAStep(t Task) error {
	return apperr.New(apperr.Conflict, "not_a_step", "task %d (%s) is not a step of the decision: record its outcome with its own action", t.ID, t.Name)
}
