package identity

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/store"
)

// Limit is at most N actions per Window.
type Limit struct {
	N      int
	Window time.Duration
	What   string // what is limited, for the message: "applications", "registrations"
}

// The limits in force.
var (
	registrationLimit = Limit{N: 5, Window: time.Hour, What: "new accounts from this address"}
	// signInLimit counts failed sign-ins only: a service hall or an office
	// signs many people in from one address. It stops floods of guesses and
	// unknown names; the lockout stops guessing one account's password.
	signInLimit = Limit{N: 60, Window: time.Minute, What: "failed sign-ins from this address"}
	// SubmissionLimit bounds how many applications one account may submit.
	SubmissionLimit = Limit{N: 30, Window: 24 * time.Hour, What: "submitted applications"}
)

// Limiter counts actions in the database, so the limit holds across every
// process sharing it.
type Limiter struct {
	db          *store.DB
	now         func() time.Time
	submissions Limit // what SubmissionLimit means here: the default unless configured
}

// NewLimiter returns a limiter on db with the default limits.
func NewLimiter(db *store.DB) *Limiter {
	return NewLimiterSubmissions(db, SubmissionLimit.N)
}

// NewLimiterSubmissions returns a limiter on db that lets an account submit
// perDay applications in 24 hours instead of SubmissionLimit.N (for load
// tests, through serve --submission-limit); perDay < 1 keeps the default.
func NewLimiterSubmissions(db *store.DB, perDay int) *Limiter {
	sub := SubmissionLimit
	if perDay > 0 {
		sub.N = perDay
	}
	return &Limiter{db: db, now: func() time.Time { return time.Now().UTC() }, submissions: sub}
}

// Allow records one action by account (0 for anonymous, with the caller's
// address in action) if the limit allows it, and otherwise says when the
// next one will be possible.
func (l *Limiter) Allow(ctx context.Context, account int64, action string, lim Limit) error {
	return l.allow(ctx, l.db, account, action, lim)
}

// AllowTx is Allow inside tx: the action counts only if tx commits, so a
// request that fails, or dies with its process, and is retried is counted
// once.
func (l *Limiter) AllowTx(ctx context.Context, tx *sql.Tx, account int64, action string, lim Limit) error {
	return l.allow(ctx, tx, account, action, lim)
}

func (l *Limiter) allow(ctx context.Context, db execQuerier, account int64, action string, lim Limit) error {
	if err := l.check(ctx, db, account, action, lim); err != nil {
		return err
	}
	return l.record(ctx, db, account, action, lim)
}

// Check says whether account may act once more under lim, recording
// nothing: for actions that count only when they fail (sign-ins), recorded
// with Record.
func (l *Limiter) Check(ctx context.Context, account int64, action string, lim Limit) error {
	return l.check(ctx, l.db, account, action, lim)
}

// Record counts one action by account under lim, whatever the limit says.
func (l *Limiter) Record(ctx context.Context, account int64, action string, lim Limit) error {
	return l.record(ctx, l.db, account, action, lim)
}

func (l *Limiter) check(ctx context.Context, db execQuerier, account int64, action string, lim Limit) error {
	if lim == SubmissionLimit {
		lim = l.submissions // callers name the limit; the configured number applies
	}
	now := l.now()
	// The newest N events in the window: with N of them the limit is
	// reached, and a place frees when the oldest of those leaves the window.
	recent, err := store.All(ctx, db, store.Value[time.Time], `SELECT at FROM rate_events WHERE account_id = $1 AND action = $2 AND at > $3 ORDER BY at DESC LIMIT $4`,
		account, action, now.Add(-lim.Window), lim.N)
	if err != nil {
		return fmt.Errorf("rate limit: %w", err)
	}
	if len(recent) >= lim.N {
		retry := (recent[len(recent)-1].Add(lim.Window).Sub(now) + time.Minute - 1).Truncate(time.Minute) // rounded up: never too early
		retry = max(retry, time.Minute)
		minutes := int(retry / time.Minute)
		return apperr.New(apperr.TooMany, apperr.RateLimited, "limit reached: at most %d %s per %s; try again in %s", lim.N, lim.What, lim.Window, retry).
			WithDetails([]apperr.Detail{{Subject: "retry_after", Words: apperr.Words{Zh: fmt.Sprintf("请%d分钟后再试。", minutes), En: fmt.Sprintf("Try again in %d minute(s).", minutes)}}})
	}
	return nil
}

func (l *Limiter) record(ctx context.Context, db execQuerier, account int64, action string, lim Limit) error {
	now := l.now()
	if _, err := db.ExecContext(ctx, `INSERT INTO rate_events (account_id, action, at) VALUES ($1, $2, $3)`, account, action, now); err != nil {
		return err
	}
	// Forget what no window can count any more.
	_, err := db.ExecContext(ctx, `DELETE FROM rate_events WHERE account_id = $1 AND action = $2 AND at <= $3`, account, action, now.Add(-lim.Window))
	return err
}
