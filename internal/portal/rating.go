package portal

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/store"
)

// Rating is an applicant's 好差评 of a finished application: one to five
// stars and an optional comment, one per application.
type Rating struct {
	ApplicationID int64
	Stars         int
	Comment       string
	CreatedAt     time.Time
}

// Ratings keeps ratings in the database.
type Ratings struct{ db *store.DB }

// NewRatings returns the ratings store on db.
func NewRatings(db *store.DB) *Ratings { return &Ratings{db: db} }

// rateable are the statuses in which an application is finished, so its
// service can be judged.
var rateable = []string{"approved", "rejected", "not_accepted", "licence_issued", "delivered", "revoked"}

// MaxComment bounds a rating's comment, in characters.
const MaxComment = 500

// Add stores the rating of application, made by account. A second rating of
// the same application is a conflict: a rating is given once.
func (s *Ratings) Add(ctx context.Context, accountID int64, itemCode string, rt Rating) error {
	rt.Comment = strings.TrimSpace(rt.Comment)
	if rt.Stars < 1 || rt.Stars > 5 {
		return apperr.New(apperr.Invalid, apperr.BadStars, "choose from one to five stars")
	}
	if len([]rune(rt.Comment)) > MaxComment {
		return apperr.New(apperr.Invalid, apperr.CommentTooLong, "the comment may be at most %d characters", MaxComment)
	}
	if _, ok, err := s.Of(ctx, rt.ApplicationID); err != nil {
		return err
	} else if ok {
		return apperr.New(apperr.Conflict, apperr.AlreadyRated, "this application has been rated already; a rating is given once")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO ratings (application_id, account_id, item_code, stars, comment, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		rt.ApplicationID, accountID, itemCode, rt.Stars, rt.Comment, time.Now().UTC())
	if err != nil && s.taken(ctx, rt.ApplicationID) {
		return apperr.New(apperr.Conflict, apperr.AlreadyRated, "this application has been rated already; a rating is given once")
	}
	return err
}

// taken reports whether a rating of the application exists (after a
// concurrent insert lost the race on the unique key).
func (s *Ratings) taken(ctx context.Context, applicationID int64) bool {
	_, ok, err := s.Of(ctx, applicationID)
	return err == nil && ok
}

// Of returns the rating of an application, if it has one.
func (s *Ratings) Of(ctx context.Context, applicationID int64) (Rating, bool, error) {
	rt := Rating{ApplicationID: applicationID}
	err := s.db.QueryRowContext(ctx, `SELECT stars, comment, created_at FROM ratings WHERE application_id = $1`, applicationID).Scan(&rt.Stars, &rt.Comment, &rt.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Rating{}, false, nil
	}
	return rt, err == nil, err
}
