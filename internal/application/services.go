package application

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"yiwang/internal/authz"
	"yiwang/internal/blob"
	"yiwang/internal/identity"
	"yiwang/internal/rules"
	"yiwang/internal/store"
)

// Services are the application services, each for one part of an
// application's life. They share one core (the rows, the timeline and the
// decision path) and are made together by NewServices; a caller keeps only
// the ones it uses.
type Services struct {
	Drafts    *Drafts
	Decisions *Decisions
	Tasks     *Tasks
	Deadlines *Deadlines
	Modes     *Modes
	// SpotChecks are the checks of sampled approvals (双随机一公开).
	SpotChecks *SpotChecks
}

// NewServices returns the application services.
func NewServices(d Deps) Services {
	c := newCore(d)
	return Services{Drafts: &Drafts{core: c, limits: d.Limits, blobs: d.Blobs}, Decisions: &Decisions{c}, Tasks: &Tasks{c}, Deadlines: &Deadlines{c}, Modes: &Modes{c},
		SpotChecks: &SpotChecks{core: c, Threshold: DefaultErrorThreshold, MinChecked: DefaultMinChecked, Window: DefaultErrorWindow}}
}

// Drafts is the applicant's side of an application: starting it (online or
// at a hall window), filling its form and materials, submitting it, and
// afterwards seeing it, supplying a correction or withdrawing it.
type Drafts struct {
	*core
	limits *identity.Limiter // abuse limits on submissions
	blobs  blob.Store        // uploaded materials
}

// Decisions is the machine decision (秒批) seen from outside: its records
// and the machine switch per item.
type Decisions struct{ *core }

// Tasks is the back office: inboxes, claiming, deciding steps, corrections,
// special procedures, revocation and the staff's view of an application.
type Tasks struct{ *core }

// Deadlines watches time limits: the sweep that turns them yellow and red
// and writes accountability records, the overdue board, and recounting
// deadlines when a calendar year is loaded.
type Deadlines struct{ *core }

// Modes runs the approval modes beyond machine and people: commitments,
// filings on public notice, co-parties and deferred materials.
type Modes struct{ *core }

// The methods below are also called inside the core, where their bodies
// live; each service exports the ones that belong to it.

// Get returns an application its applicant may see: their own, or their
// enterprise's while acting for it. Anyone else gets not-found.
func (s *Drafts) Get(ctx context.Context, p authz.Principal, id int64) (Application, error) {
	return s.get(ctx, p, id)
}

// StaffApplication returns an application for staff who have (or had) one
// of its steps in their department, clerks, and supervisors.
func (s *Tasks) StaffApplication(ctx context.Context, p authz.Principal, id int64) (StaffView, error) {
	return s.staffApplication(ctx, p, id)
}

// DecisionRecord returns the record of an application's machine decision
// to staff of the deciding department (the item's) and to supervisors,
// with the personal data of its inputs masked: the record is for checking
// the rules, not for reading people's data. Others get not-found.
func (s *Decisions) DecisionRecord(ctx context.Context, p authz.Principal, applicationID int64) (rules.Decision, error) {
	return s.staffDecisionRecord(ctx, p, applicationID)
}

// MachineSuspended reports whether machine approval of an item is switched off.
func (s *Decisions) MachineSuspended(ctx context.Context, code string) (bool, error) {
	return s.machineSuspended(ctx, code)
}

// Progress is where an application stands, for a bundle that holds it.
type Progress struct {
	ID       int64
	Number   string
	Status   string
	Reasons  []string
	Deadline *time.Time
}

// ProgressOf returns the progress of the applications with ids, read
// through q, by id; it checks no access: the caller holds the
// applications (a bundle case its applicant may see).
func (s *Drafts) ProgressOf(ctx context.Context, q store.Querier, ids []int64) (map[int64]Progress, error) {
	out := map[int64]Progress{}
	for _, id := range ids {
		var p Progress
		var reasons string
		var deadline sql.NullTime
		err := q.QueryRowContext(ctx, `SELECT id, COALESCE(number, ''), status, COALESCE(reasons, '[]'), deadline FROM applications WHERE id = $1`, id).
			Scan(&p.ID, &p.Number, &p.Status, &reasons, &deadline)
		if err != nil {
			return nil, fmt.Errorf("application %d: %w", id, err)
		}
		json.Unmarshal([]byte(reasons), &p.Reasons)
		if deadline.Valid {
			p.Deadline = &deadline.Time
		}
		out[id] = p
	}
	return out, nil
}

// Sequence returns the next number, from 1, of the sequence named prefix,
// inside tx: for numbering what holds applications (a bundle case).
func (s *Drafts) Sequence(ctx context.Context, tx *sql.Tx, prefix string) (int64, error) {
	return s.nextSequence(ctx, tx, prefix)
}

// Deadline is the end of the n-th working day after t's day, on the
// working-day calendar deadlines are counted on.
func (s *Drafts) Deadline(ctx context.Context, t time.Time, n int) (time.Time, error) {
	cal, err := s.calendars(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return cal.Deadline(t, n)
}
