package application

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/notify"
	"yiwang/internal/pii"
	"yiwang/internal/rules"
	"yiwang/internal/store"
	"yiwang/internal/workday"
	"yiwang/internal/workflow"
)

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
		return a, apperr.New(apperr.Invalid, apperr.NoParties, "「%s」 has no co-parties", it.Name.Zh)
	}
	d, err := s.ids.PersonDetails(ctx, s.db, a.personID)
	if err != nil {
		return a, err
	}
	var problems []apperr.Detail
	isRole := func(r string) bool {
		return slices.ContainsFunc(it.Parties, func(x catalog.Party) bool { return x.Role == r })
	}
	if !isRole(own) {
		problems = append(problems, detail("own_role",
			fmt.Sprintf("请选择您在本事项中的身份，本事项没有“%s”。", own), fmt.Sprintf("Say which of the item's roles you take, not %q.", own)))
	}
	named := map[string]bool{own: true}
	people := map[string]bool{strings.ToUpper(d.IDNumber): true}
	for i, pr := range parties {
		idn := strings.ToUpper(strings.TrimSpace(pr.IDNumber))
		party := fmt.Sprintf("party %d", i+1)
		switch {
		case !isRole(pr.Role):
			problems = append(problems, detail(party,
				fmt.Sprintf("第%d位当事人：本事项没有“%s”这一身份。", i+1, pr.Role), fmt.Sprintf("Party %d: the item has no role %q.", i+1, pr.Role)))
		case named[pr.Role]:
			l := partyLabel(it, pr.Role)
			problems = append(problems, detail(party,
				fmt.Sprintf("第%d位当事人：“%s”已有人担任。", i+1, l.Zh), fmt.Sprintf("Party %d: the role %s is taken already.", i+1, l.In("en"))))
		case strings.TrimSpace(pr.Name) == "":
			problems = append(problems, detail(party,
				fmt.Sprintf("第%d位当事人：请填写身份证上的姓名。", i+1), fmt.Sprintf("Party %d: give the name as on the ID card.", i+1)))
		case people[idn]:
			problems = append(problems, detail(party,
				fmt.Sprintf("第%d位当事人：同一人不能担任两个身份。", i+1), fmt.Sprintf("Party %d: one person cannot take two roles.", i+1)))
		}
		named[pr.Role], people[idn] = true, true
	}
	for _, ip := range it.Parties {
		if !named[ip.Role] {
			problems = append(problems, detail(ip.Role, "请填写"+ip.Label.Zh+"的信息。", ip.Label.In("en")+": give their name and ID number."))
		}
	}
	if len(problems) > 0 {
		return a, apperr.New(apperr.Invalid, apperr.BadParties, "the parties are not right: %s", apperr.JoinEnglish(problems)).WithDetails(problems)
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		locked, err := s.lockForAction(ctx, tx, id, expect)
		if err != nil {
			return err
		}
		if err := clearParties(ctx, tx, id); err != nil {
			return err
		}
		if err := insertApplicantParty(ctx, tx, party{ApplicationID: id, Role: own, PersonID: a.personID, Name: d.Name}, s.now()); err != nil {
			return err
		}
		for _, pr := range parties {
			person, err := s.partyPerson(ctx, tx, pr)
			if err != nil {
				return err
			}
			if err := insertNamedParty(ctx, tx, party{ApplicationID: id, Role: pr.Role, PersonID: person, Name: strings.TrimSpace(pr.Name)}); err != nil {
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
	known, err := s.ids.PersonByIDNumber(ctx, tx, pr.IDNumber)
	if err == nil {
		d, err := s.ids.PersonDetails(ctx, tx, known.ID)
		if err != nil {
			return 0, err
		}
		if d.Name != strings.TrimSpace(pr.Name) {
			return 0, apperr.New(apperr.Invalid, apperr.NameMismatch, "the name of the %s does not match the one on record for that ID number", pr.Role)
		}
		return known.ID, nil
	}
	if !apperr.Is(err, apperr.NotFound) {
		return 0, err
	}
	return s.ids.PutPerson(ctx, tx, pr.IDNumber, pr.Name, "")
}

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
	d, err := s.ids.PersonDetails(ctx, tx, a.personID)
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
	if err := inviteNamedParties(ctx, tx, a.ID, now, due); err != nil {
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
		WHERE ap.person_id = $1 AND ap.status <> 'named' AND ap.person_id <> a.person_id ORDER BY ap.application_id DESC LIMIT 200`, p.PersonID)
	if err != nil {
		return nil, err
	}
	out := []Invitation{}
	for _, r := range list {
		v, err := s.catalog.VersionByID(ctx, r.version)
		if err != nil {
			return nil, err
		}
		d, err := s.ids.PersonDetails(ctx, s.db, r.person)
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
		return Invitation{}, apperr.New(apperr.Forbidden, apperr.PersonsOnly, "co-parties answer in their own name")
	}
	reason = strings.TrimSpace(reason)
	if !confirm && reason == "" {
		return Invitation{}, apperr.New(apperr.Invalid, apperr.ReasonRequired, "say why you refuse: the applicant is told")
	}
	var a0 Application
	if err := s.db.QueryRowContext(ctx, `SELECT version_id FROM applications WHERE id = $1`, applicationID).Scan(&a0.VersionID); err != nil {
		return Invitation{}, authz.NotYours("invitation")
	}
	v, err := s.catalog.VersionByID(ctx, a0.VersionID)
	if err != nil {
		return Invitation{}, err
	}
	// The decision made at submission, which the path takes once everyone
	// confirmed; none when people alone decide the item.
	var decision *rules.Decision
	if d, err := s.decisionRecord(ctx, applicationID); err == nil {
		decision = &d
	} else if !apperr.Is(err, apperr.NotFound) {
		return Invitation{}, err
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
			return apperr.New(apperr.Conflict, apperr.AlreadyAnswered, "this invitation is %s; the application is %s", status, a.Status)
		}
		now := s.now()
		by := actor{"party", p.AccountID, p.Name}
		if !confirm {
			if err := refuseParty(ctx, tx, partyID, reason, now); err != nil {
				return err
			}
			return s.cancelForParties(ctx, tx, &a, by, "共同申请人拒绝："+reason)
		}
		if err := confirmParty(ctx, tx, partyID, now); err != nil {
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
		if err := lapseParties(ctx, tx, a.ID, s.now()); err != nil {
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
