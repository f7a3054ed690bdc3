package rating

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/notify"
	"yiwang/internal/store"
)

// MaxAnswer bounds a department's answer, in characters.
const MaxAnswer = 2000

// Sealed columns: a value opens only in the column it was sealed for.
const (
	commentColumn  = "ratings.comment"
	callbackColumn = "rectifications.callback_note"
)

// finished is what a rating needs of an application, read in the
// rating's transaction.
type finished struct {
	id, person, account int64
	enterprise          sql.NullInt64
	item, department    string
	status, number      string
	at                  time.Time // when it was finished
}

func readApplication(ctx context.Context, q store.Querier, id int64) (finished, error) {
	var a finished
	var decided sql.NullTime
	err := q.QueryRowContext(ctx, `SELECT a.id, a.person_id, a.account_id, a.enterprise_id, a.item_code, i.department_code, a.status, COALESCE(a.number, ''), a.decided_at, a.updated_at
		FROM applications a JOIN catalog_items i ON i.code = a.item_code WHERE a.id = $1`, id).
		Scan(&a.id, &a.person, &a.account, &a.enterprise, &a.item, &a.department, &a.status, &a.number, &decided, &a.at)
	if errors.Is(err, sql.ErrNoRows) {
		return a, authz.NotYours("application")
	}
	if decided.Valid {
		a.at = decided.Time
	}
	return a, err
}

// partyOf is the person p rates application a as: its applicant (the
// account that applied, or its enterprise's representative), or a
// co-party who confirmed. Anyone else gets not-found.
func partyOf(ctx context.Context, q store.Querier, p authz.Principal, a finished) (int64, error) {
	if p.AccountID == a.account || p.SeesPerson(a.person) || (a.enterprise.Valid && p.SeesEnterprise(a.enterprise.Int64)) {
		return a.person, nil
	}
	if p.PersonID != 0 {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM application_parties WHERE application_id = $1 AND person_id = $2 AND status = 'confirmed'`, a.id, p.PersonID).Scan(&n); err != nil {
			return 0, err
		}
		if n > 0 {
			return p.PersonID, nil
		}
	}
	return 0, authz.NotYours("application")
}

// Input is what a person says in a rating.
type Input struct {
	Stars   int    `json:"stars"`
	Comment string `json:"comment"`
}

func (in *Input) check() error {
	in.Comment = strings.TrimSpace(in.Comment)
	if in.Stars < MinStars || in.Stars > MaxStars {
		return apperr.New(apperr.Invalid, apperr.BadStars, "choose one of the five levels, from 1 (very dissatisfied) to 5 (very satisfied)")
	}
	if len([]rune(in.Comment)) > MaxComment {
		return apperr.New(apperr.Invalid, apperr.CommentTooLong, "the comment may be at most %d characters", MaxComment)
	}
	return nil
}

// by is who gives or records a rating.
type by struct {
	channel  string
	account  int64           // the rating person's account, 0 without one
	recorder authz.Principal // the staff member who recorded it (phone)
}

// RateOnline records the rating p gives application id on their page or
// through the API, as its applicant or a co-party.
func (s *Service) RateOnline(ctx context.Context, p authz.Principal, id int64, in Input) (Rating, error) {
	if err := authz.Require(p, authz.ActForOwn); err != nil {
		return Rating{}, err
	}
	return s.rate(ctx, id, in, func(tx *sql.Tx, a finished) (int64, by, error) {
		person, err := partyOf(ctx, tx, p, a)
		return person, by{channel: Online, account: p.AccountID}, err
	})
}

// RateByToken records the rating given through a rating token — the QR
// code at the window (channel window) or the same page on a kiosk
// (channel kiosk) — without an account.
func (s *Service) RateByToken(ctx context.Context, token, channel string, in Input) (Rating, error) {
	if channel != Window && channel != Kiosk {
		return Rating{}, fmt.Errorf("rating by token: channel %q", channel)
	}
	id, person, err := s.parseToken(token)
	if err != nil {
		return Rating{}, err
	}
	return s.rate(ctx, id, in, func(tx *sql.Tx, a finished) (int64, by, error) {
		return person, by{channel: channel}, nil
	})
}

// RatePhone records a rating the applicant of the application numbered
// number gave on the phone, heard by staff member p.
func (s *Service) RatePhone(ctx context.Context, p authz.Principal, number string, in Input) (Rating, error) {
	if err := authz.Require(p, authz.RatePhone); err != nil {
		return Rating{}, err
	}
	var id int64
	err := s.DB.QueryRowContext(ctx, `SELECT id FROM applications WHERE number = $1`, strings.TrimSpace(number)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Rating{}, apperr.New(apperr.NotFound, apperr.ApplicationNotFound, "no application has the number %q", number)
	}
	if err != nil {
		return Rating{}, err
	}
	return s.rate(ctx, id, in, func(tx *sql.Tx, a finished) (int64, by, error) {
		return a.person, by{channel: Phone, recorder: p}, nil
	})
}

// rate writes a rating in one transaction: party says, inside it, who
// rates (and refuses those who may not) before anything is written. The
// first rating of a party is kept; it may be changed once, within the days
// after the application was finished. A rating of 1 or 2 opens a
// rectification, if the rating has none yet.
func (s *Service) rate(ctx context.Context, id int64, in Input, party func(*sql.Tx, finished) (int64, by, error)) (Rating, error) {
	if err := in.check(); err != nil {
		return Rating{}, err
	}
	cal, err := s.Calendars(ctx)
	if err != nil {
		return Rating{}, err
	}
	now := s.now()
	due, err := cal.Deadline(now, s.RectifyDays)
	if err != nil {
		return Rating{}, err
	}
	comment, err := s.Protector.SealFor(in.Comment, commentColumn)
	if err != nil {
		return Rating{}, err
	}
	var rt Rating
	err = s.DB.InTx(ctx, func(tx *sql.Tx) error {
		a, err := readApplication(ctx, tx, id)
		if err != nil {
			return err
		}
		person, b, err := party(tx, a)
		if err != nil {
			return err
		}
		if !slices.Contains(Rateable, a.status) {
			return apperr.New(apperr.Conflict, apperr.NotFinished, "an application can be rated once it is finished")
		}
		if now.After(a.at.AddDate(0, 0, s.Days)) {
			return apperr.New(apperr.Conflict, apperr.RatingClosed, "ratings are given within %d days after the application is finished; that time is over", s.Days)
		}
		var account, recorder any
		if b.account != 0 {
			account = b.account
		}
		if b.recorder.AccountID != 0 {
			recorder = b.recorder.AccountID
		}
		var changes int
		err = tx.QueryRowContext(ctx, `SELECT id, changes FROM ratings WHERE application_id = $1 AND person_id = $2`, a.id, person).Scan(&rt.ID, &changes)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			err = tx.QueryRowContext(ctx, `INSERT INTO ratings (application_id, person_id, account_id, item_code, department_code, stars, comment, channel, recorded_by, changes, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $10) ON CONFLICT (application_id, person_id) DO NOTHING RETURNING id`,
				a.id, person, account, a.item, a.department, in.Stars, comment, b.channel, recorder, now).Scan(&rt.ID)
			if errors.Is(err, sql.ErrNoRows) {
				return apperr.New(apperr.Conflict, apperr.AlreadyRated, "a rating was given meanwhile; reload the page to see it")
			}
		case err != nil:
			return err
		case changes > 0:
			return apperr.New(apperr.Conflict, apperr.RatingChangedOnce, "this rating has been changed once already; it cannot be changed again")
		default:
			var res sql.Result
			res, err = tx.ExecContext(ctx, `UPDATE ratings SET stars = $1, comment = $2, channel = $3, recorded_by = $4, account_id = COALESCE($5, account_id), changes = changes + 1, updated_at = $6
				WHERE id = $7 AND changes = 0`, in.Stars, comment, b.channel, recorder, account, now, rt.ID)
			if n, _ := rowsAffected(res, err); err == nil && n == 0 {
				return apperr.New(apperr.Conflict, apperr.RatingChangedOnce, "this rating has been changed once already; it cannot be changed again")
			}
			changes++
		}
		if err != nil {
			return err
		}
		rt = Rating{ID: rt.ID, ApplicationID: a.id, Stars: in.Stars, Comment: in.Comment, Channel: b.channel, Changes: changes, UpdatedAt: now}
		if in.Stars <= BadStars {
			if _, err := tx.ExecContext(ctx, `INSERT INTO rectifications (rating_id, application_id, department_code, item_code, status, opened_at, due_at)
				VALUES ($1, $2, $3, $4, 'open', $5, $6) ON CONFLICT (rating_id) DO NOTHING`, rt.ID, a.id, a.department, a.item, now, due); err != nil {
				return err
			}
		}
		if b.recorder.AccountID != 0 {
			return audit.Record(ctx, tx, audit.Event{Actor: staff(b.recorder), Action: "rating.phone", ObjectKind: "application", ObjectID: strconv.FormatInt(a.id, 10),
				Detail: map[string]any{"rating": rt.ID, "stars": in.Stars}})
		}
		return nil
	})
	return rt, err
}

func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func staff(p authz.Principal) audit.Actor { return audit.Person("staff", p.AccountID, p.Name) }

// rectificationFor reads what acting on rectification id needs, and
// refuses — as not found — staff outside its department, unless they
// supervise.
func rectificationFor(ctx context.Context, q store.Querier, p authz.Principal, id int64) (department, status string, application, person int64, err error) {
	err = q.QueryRowContext(ctx, `SELECT x.department_code, x.status, x.application_id, r.person_id
		FROM rectifications x JOIN ratings r ON r.id = x.rating_id WHERE x.id = $1`, id).
		Scan(&department, &status, &application, &person)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !p.Can(authz.Supervise) && (department != p.Department || !p.Can(authz.Rectify))) {
		return "", "", 0, 0, apperr.New(apperr.NotFound, apperr.RectificationNotFound, "there is no such rectification for your department")
	}
	return department, status, application, person, err
}

// Answer records what the department changed after the bad rating; the
// person is told. Only staff of the rectification's department answer.
func (s *Service) Answer(ctx context.Context, p authz.Principal, id int64, answer string) error {
	if err := authz.Require(p, authz.Rectify); err != nil {
		return err
	}
	answer = strings.TrimSpace(answer)
	if answer == "" || len([]rune(answer)) > MaxAnswer {
		return apperr.New(apperr.Invalid, apperr.AnswerRequired, "say what the department changed (at most %d characters)", MaxAnswer)
	}
	now := s.now()
	return s.DB.InTx(ctx, func(tx *sql.Tx) error {
		department, status, app, person, err := rectificationFor(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if department != p.Department {
			// A supervisor outside the department watches; the department answers.
			return apperr.New(apperr.NotFound, apperr.RectificationNotFound, "there is no such rectification for your department")
		}
		if status != Open {
			return apperr.New(apperr.Conflict, apperr.RectificationState, "this rectification has been answered already")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE rectifications SET status = 'answered', answer = $1, answered_by = $2, answered_at = $3 WHERE id = $4 AND status = 'open'`,
			answer, p.AccountID, now, id); err != nil {
			return err
		}
		if _, err := s.Notifier.Send(ctx, tx, notify.Message{PersonID: person, Kind: notify.RectificationAnswer, ApplicationID: app, Link: s.partyLink(ctx, tx, app, person),
			TitleZh: "您的差评已有整改答复", TitleEn: "Your bad rating has been answered",
			BodyZh: "办理部门已答复整改情况，请查看；您可以对整改结果进行评价。", BodyEn: "The department has said what it changed. See it, and say whether you are satisfied."}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: staff(p), Action: "rectification.answer", ObjectKind: "rectification", ObjectID: strconv.FormatInt(id, 10),
			Detail: map[string]any{"application": app, "department": department}})
	})
}

// partyLink is where the person of a rating sees it: their application
// page for its applicant, the rating page of their token for a co-party.
func (s *Service) partyLink(ctx context.Context, q store.Querier, app, person int64) string {
	var applicant int64
	if err := q.QueryRowContext(ctx, `SELECT person_id FROM applications WHERE id = $1`, app).Scan(&applicant); err == nil && applicant == person {
		return fmt.Sprintf("/me/applications/%d#rating", app)
	}
	return "/rate/" + s.Token(app, person)
}

// Callback records a supervisor's call back to the person (回访) and closes
// the rectification as resolved or not.
func (s *Service) Callback(ctx context.Context, p authz.Principal, id int64, note string, resolved bool) error {
	if err := authz.Require(p, authz.Supervise); err != nil {
		return err
	}
	note = strings.TrimSpace(note)
	if note == "" || len([]rune(note)) > MaxAnswer {
		return apperr.New(apperr.Invalid, apperr.CallbackNoteRequired, "write down what the person said on the call (at most %d characters)", MaxAnswer)
	}
	sealed, err := s.Protector.SealFor(note, callbackColumn)
	if err != nil {
		return err
	}
	now := s.now()
	return s.DB.InTx(ctx, func(tx *sql.Tx) error {
		department, status, app, _, err := rectificationFor(ctx, tx, p, id)
		if err != nil {
			return err
		}
		switch status {
		case Open:
			return apperr.New(apperr.Conflict, apperr.RectificationState, "the department has not answered yet; call back once it has")
		case Closed:
			return apperr.New(apperr.Conflict, apperr.RectificationState, "this rectification is closed already")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE rectifications SET status = 'closed', callback_note = $1, callback_by = $2, closed_at = $3, resolved = $4 WHERE id = $5 AND status = 'answered'`,
			sealed, p.AccountID, now, resolved, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: staff(p), Action: "rectification.callback", ObjectKind: "rectification", ObjectID: strconv.FormatInt(id, 10),
			Detail: map[string]any{"application": app, "department": department, "resolved": resolved}})
	})
}

// Verdicts a person gives a rectification.
const (
	Satisfied   = "satisfied"
	Unsatisfied = "unsatisfied"
)

// VerdictOnline records whether p, a party of application id, is
// satisfied with the rectification of their bad rating.
func (s *Service) VerdictOnline(ctx context.Context, p authz.Principal, id int64, verdict string) error {
	if err := authz.Require(p, authz.ActForOwn); err != nil {
		return err
	}
	return s.verdict(ctx, id, verdict, func(tx *sql.Tx, a finished) (int64, error) { return partyOf(ctx, tx, p, a) })
}

// VerdictByToken is VerdictOnline for the holder of a rating token.
func (s *Service) VerdictByToken(ctx context.Context, token, verdict string) error {
	id, person, err := s.parseToken(token)
	if err != nil {
		return err
	}
	return s.verdict(ctx, id, verdict, func(*sql.Tx, finished) (int64, error) { return person, nil })
}

func (s *Service) verdict(ctx context.Context, id int64, verdict string, party func(*sql.Tx, finished) (int64, error)) error {
	if verdict != Satisfied && verdict != Unsatisfied {
		return apperr.New(apperr.Invalid, apperr.BadVerdict, "say whether you are satisfied with the rectification or not")
	}
	now := s.now()
	return s.DB.InTx(ctx, func(tx *sql.Tx) error {
		a, err := readApplication(ctx, tx, id)
		if err != nil {
			return err
		}
		person, err := party(tx, a)
		if err != nil {
			return err
		}
		var rect int64
		var status, given string
		err = tx.QueryRowContext(ctx, `SELECT x.id, x.status, x.verdict FROM rectifications x JOIN ratings r ON r.id = x.rating_id WHERE r.application_id = $1 AND r.person_id = $2`, a.id, person).
			Scan(&rect, &status, &given)
		if errors.Is(err, sql.ErrNoRows) {
			// The application is theirs (checked above): a state, not a secret.
			return apperr.New(apperr.Conflict, apperr.RectificationState, "your rating of this application has no rectification: only a bad rating has one")
		}
		if err != nil {
			return err
		}
		if status == Open {
			return apperr.New(apperr.Conflict, apperr.RectificationState, "the department has not answered yet; you can judge the rectification once it has")
		}
		if given != "" {
			return apperr.New(apperr.Conflict, apperr.VerdictGiven, "you have judged this rectification already; it is judged once")
		}
		res, err := tx.ExecContext(ctx, `UPDATE rectifications SET verdict = $1, verdict_at = $2 WHERE id = $3 AND verdict = ''`, verdict, now, rect)
		if n, err := rowsAffected(res, err); err != nil {
			return err
		} else if n == 0 {
			return apperr.New(apperr.Conflict, apperr.VerdictGiven, "you have judged this rectification already; it is judged once")
		}
		return nil
	})
}

// sealedSetting is the settings row SealPlaintext leaves once every
// comment is sealed, so later starts skip the scan.
const sealedSetting = "rating_comments_sealed"

// SealPlaintext seals the comments an earlier version kept in plaintext
// (migration 0028 copied them as they were); it returns how many.
func (s *Service) SealPlaintext(ctx context.Context) (int, error) {
	n := 0
	err := s.DB.InTx(ctx, func(tx *sql.Tx) error {
		var done int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM settings WHERE key = $1`, sealedSetting).Scan(&done); err != nil || done > 0 {
			return err
		}
		type plain struct {
			id      int64
			comment string
		}
		rows, err := store.All(ctx, tx, func(sc store.Scanner) (plain, error) {
			var p plain
			return p, sc.Scan(&p.id, &p.comment)
		}, `SELECT id, comment FROM ratings WHERE comment NOT LIKE 'v1:%'`)
		if err != nil {
			return err
		}
		for _, p := range rows {
			sealed, err := s.Protector.SealFor(p.comment, commentColumn)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE ratings SET comment = $1 WHERE id = $2`, sealed, p.id); err != nil {
				return err
			}
			n++
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, 'v1', $2) ON CONFLICT (key) DO NOTHING`, sealedSetting, s.now())
		return err
	})
	return n, err
}
