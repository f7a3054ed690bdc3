package rating

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/store"
)

// Token is the rating token of one party of one application, which the
// QR code at the window and on the receipt carries: whoever holds it may
// rate as that party without an account. It is signed with the platform's
// key (an HMAC), so it cannot be guessed from the ids it names, and it
// stays the same, so a printed receipt keeps working.
func (s *Service) Token(application, person int64) string {
	return fmt.Sprintf("%d-%d-%s", application, person, s.signature(application, person))
}

func (s *Service) signature(application, person int64) string {
	return strings.ToLower(s.Protector.Index(fmt.Sprintf("rating-token|%d|%d", application, person)))
}

func (s *Service) parseToken(token string) (application, person int64, err error) {
	bad := apperr.New(apperr.NotFound, apperr.BadRatingToken, "this rating link is not valid: scan the QR code again, or ask at the window")
	parts := strings.Split(token, "-")
	if len(parts) != 3 {
		return 0, 0, bad
	}
	application, err1 := strconv.ParseInt(parts[0], 10, 64)
	person, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || subtle.ConstantTimeCompare([]byte(parts[2]), []byte(s.signature(application, person))) != 1 {
		return 0, 0, bad
	}
	return application, person, nil
}

// Party is what one party of an application sees of its rating.
type Party struct {
	ApplicationID int64
	Number        string
	ItemName      catalog.Text
	Status        string
	Finished      bool      // the application is finished
	Open          bool      // it may be rated, or the rating changed, now
	Until         time.Time // the last moment it may
	Rating        *Rating
	Rectification *Rectification
	Token         string // the party's rating token
	Applicant     bool   // the party is the applicant (not a co-party)
}

// ForParty returns what p, a party of application id, sees of its rating.
func (s *Service) ForParty(ctx context.Context, p authz.Principal, id int64) (Party, error) {
	a, err := readApplication(ctx, s.DB, id)
	if err != nil {
		return Party{}, err
	}
	person, err := partyOf(ctx, s.DB, p, a)
	if err != nil {
		return Party{}, err
	}
	return s.party(ctx, a, person)
}

// ByToken returns what the holder of a rating token sees.
func (s *Service) ByToken(ctx context.Context, token string) (Party, error) {
	id, person, err := s.parseToken(token)
	if err != nil {
		return Party{}, err
	}
	a, err := readApplication(ctx, s.DB, id)
	if err != nil {
		return Party{}, err
	}
	return s.party(ctx, a, person)
}

// ApplicantToken returns the rating token of the applicant of a finished
// application id; the caller has checked that its user may see it.
func (s *Service) ApplicantToken(ctx context.Context, id int64) (string, error) {
	a, err := readApplication(ctx, s.DB, id)
	if err != nil {
		return "", err
	}
	if !slices.Contains(Rateable, a.status) {
		return "", apperr.New(apperr.Conflict, apperr.NotFinished, "an application can be rated once it is finished")
	}
	return s.Token(a.id, a.person), nil
}

func (s *Service) party(ctx context.Context, a finished, person int64) (Party, error) {
	names, err := s.Catalog.Names(ctx)
	if err != nil {
		return Party{}, err
	}
	until := a.at.AddDate(0, 0, s.Days)
	pt := Party{ApplicationID: a.id, Number: a.number, ItemName: names[a.item], Status: a.status, Finished: slices.Contains(Rateable, a.status),
		Until: until, Token: s.Token(a.id, person), Applicant: person == a.person}
	pt.Open = pt.Finished && !s.now().After(until)
	var rt Rating
	var comment string
	err = s.DB.QueryRowContext(ctx, `SELECT id, stars, comment, channel, changes, created_at, updated_at FROM ratings WHERE application_id = $1 AND person_id = $2`, a.id, person).
		Scan(&rt.ID, &rt.Stars, &comment, &rt.Channel, &rt.Changes, &rt.CreatedAt, &rt.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return pt, nil
	}
	if err != nil {
		return Party{}, err
	}
	rt.ApplicationID = a.id
	if rt.Comment, err = s.openComment(comment); err != nil {
		return Party{}, err
	}
	pt.Rating = &rt
	xs, err := s.rectifications(ctx, s.DB, `WHERE x.rating_id = $1`, rt.ID)
	if err != nil {
		return Party{}, err
	}
	if len(xs) > 0 {
		pt.Rectification = &xs[0]
	}
	return pt, nil
}

// openComment opens a sealed comment; one an earlier version kept in
// plaintext, not yet sealed at start, is read as it is.
func (s *Service) openComment(v string) (string, error) {
	if v == "" || !strings.HasPrefix(v, "v1:") {
		return v, nil
	}
	return s.Protector.OpenFor(v, commentColumn)
}

// rectifications reads the rectifications matching where (a clause on x,
// the rectifications, and r, their ratings), oldest deadline first.
func (s *Service) rectifications(ctx context.Context, q store.Querier, where string, args ...any) ([]Rectification, error) {
	names, err := s.Catalog.Names(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	return store.All(ctx, q, func(sc store.Scanner) (Rectification, error) {
		var x Rectification
		var comment, note string
		var answered, closed sql.NullTime
		var resolved sql.NullBool
		err := sc.Scan(&x.ID, &x.RatingID, &x.ApplicationID, &x.Number, &x.Department, &x.DepartmentName.Zh, &x.DepartmentName.En, &x.ItemCode, &x.Stars, &comment, &x.Status, &x.OpenedAt, &x.DueAt,
			&x.Answer, &answered, &note, &closed, &resolved, &x.Verdict)
		if err != nil {
			return x, err
		}
		if answered.Valid {
			x.AnsweredAt = &answered.Time
		}
		if closed.Valid {
			x.ClosedAt = &closed.Time
		}
		if resolved.Valid {
			x.Resolved = &resolved.Bool
		}
		x.ItemName = names[x.ItemCode]
		x.Late = x.Status != Closed && now.After(x.DueAt)
		if x.Comment, err = s.openComment(comment); err != nil {
			return x, err
		}
		if note != "" {
			x.CallbackNote, err = s.Protector.OpenFor(note, callbackColumn)
		}
		return x, err
	}, `SELECT x.id, x.rating_id, x.application_id, COALESCE(a.number, ''), x.department_code, d.name_zh, d.name_en, x.item_code, r.stars, r.comment, x.status, x.opened_at, x.due_at,
		x.answer, x.answered_at, x.callback_note, x.closed_at, x.resolved, x.verdict
		FROM rectifications x JOIN ratings r ON r.id = x.rating_id JOIN applications a ON a.id = x.application_id JOIN departments d ON d.code = x.department_code `+where+` ORDER BY x.due_at, x.id`, args...)
}

// Filter chooses rectifications for a list.
type Filter struct {
	Department string // for supervisors: one department; staff always see their own
	State      string // "" (not closed), "closed" or "all"
}

// List returns the rectifications p may see: their department's for its
// staff, any department's (or the one of the filter) for supervisors.
func (s *Service) List(ctx context.Context, p authz.Principal, f Filter) ([]Rectification, error) {
	switch {
	case p.Can(authz.Supervise):
	case p.Can(authz.Rectify):
		f.Department = p.Department
	default:
		return nil, authz.Require(p, authz.Rectify)
	}
	var where []string
	var args []any
	if f.Department != "" {
		args = append(args, f.Department)
		where = append(where, fmt.Sprintf("x.department_code = $%d", len(args)))
	}
	switch f.State {
	case "":
		where = append(where, "x.status <> 'closed'")
	case Closed:
		where = append(where, "x.status = 'closed'")
	case "all":
	default:
		return nil, apperr.New(apperr.Invalid, apperr.InvalidRequest, "the state is empty (not closed), closed or all")
	}
	clause := ""
	if len(where) > 0 {
		clause = "WHERE " + strings.Join(where, " AND ")
	}
	xs, err := s.rectifications(ctx, s.DB, clause, args...)
	if xs == nil {
		xs = []Rectification{}
	}
	return xs, err
}

// Get returns rectification id to staff of its department and supervisors.
func (s *Service) Get(ctx context.Context, p authz.Principal, id int64) (Rectification, error) {
	if _, _, _, _, err := rectificationFor(ctx, s.DB, p, id); err != nil {
		return Rectification{}, err
	}
	xs, err := s.rectifications(ctx, s.DB, `WHERE x.id = $1`, id)
	if err != nil || len(xs) == 0 {
		return Rectification{}, err
	}
	return xs[0], nil
}

// Department is a department for the supervisors' filter.
type Department struct {
	Code string
	Name catalog.Text
}

// Departments lists the departments, for the supervisors' filter.
func (s *Service) Departments(ctx context.Context) ([]Department, error) {
	return store.All(ctx, s.DB, func(sc store.Scanner) (Department, error) {
		var d Department
		return d, sc.Scan(&d.Code, &d.Name.Zh, &d.Name.En)
	}, `SELECT code, name_zh, name_en FROM departments ORDER BY code`)
}
