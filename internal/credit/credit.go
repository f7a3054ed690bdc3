// Package credit keeps the credit standing of people and enterprises (信用):
// a level A to D computed from the platform's credit records, weighted by
// kind and fading with age; the red list (守信激励) and the blacklist (失信
// 名单); and the repair of a record (信用修复). The standing is written into
// the hub's credit registry, where the rules and the approval modes read it.
package credit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/hub"
	"yiwang/internal/identity"
	"yiwang/internal/notify"
	"yiwang/internal/pii"
	"yiwang/internal/store"
)

// The kinds of credit record (credit_records.kind).
const (
	FalseCommitment   = "false_commitment"   // an inspection found a commitment untrue
	OverdueSupplement = "overdue_supplement" // a deferred material not supplied by its date
	SpotCheckFailed   = "spot_check_failed"  // a machine approval failed its spot check
)

// Config says how records weigh. The defaults (DefaultConfig) are a
// starting point a district tunes: a false commitment weighs most, then a
// failed spot check, then a late supplement; each weighs half after a year.
type Config struct {
	// Weights is the score a record of each kind adds when new.
	Weights map[string]float64
	// HalfLife is the age at which a record counts half.
	HalfLife time.Duration
	// B, C and D are the scores from which the level is B, C, D; below B it is A.
	B, C, D float64
	// RedListYears: a subject at level A with no record at all in that
	// many years is on the red list.
	RedListYears int
	// BlacklistAfter is the number of unrepaired overdue supplements that
	// blacklists a subject (--blacklist-after), whatever the level; level D
	// always does.
	BlacklistAfter int
	// RepairAfter is how long after a record of each kind its repair may
	// be applied for.
	RepairAfter map[string]time.Duration
}

// DefaultBlacklistAfter is Config.BlacklistAfter when none is given.
const DefaultBlacklistAfter = 2

// DefaultConfig is the configuration when none is given:
//
//	weights     false_commitment 40, spot_check_failed 30, overdue_supplement 15
//	half-life   365 days
//	levels      A below 10, B from 10, C from 30, D from 60
//	red list    level A and no record in 3 years
//	blacklist   level D, or 2 unrepaired overdue supplements
//	repair      overdue_supplement after 90 days, the others after 180
func DefaultConfig() Config {
	return Config{
		Weights:        map[string]float64{FalseCommitment: 40, SpotCheckFailed: 30, OverdueSupplement: 15},
		HalfLife:       365 * 24 * time.Hour,
		B:              10,
		C:              30,
		D:              60,
		RedListYears:   3,
		BlacklistAfter: DefaultBlacklistAfter,
		RepairAfter:    map[string]time.Duration{OverdueSupplement: 90 * 24 * time.Hour, FalseCommitment: 180 * 24 * time.Hour, SpotCheckFailed: 180 * 24 * time.Hour},
	}
}

// Record is one credit record as its subject sees it.
type Record struct {
	ID            int64      `json:"id"`
	Kind          string     `json:"kind"`
	ApplicationID int64      `json:"application_id"`
	Number        string     `json:"application_number"`
	Note          string     `json:"note"`
	CreatedAt     time.Time  `json:"created_at"`
	RepairedAt    *time.Time `json:"repaired_at,omitempty"`
	// Repair is the latest repair applied for, if any.
	Repair *Repair `json:"repair,omitempty"`
	// RepairFrom is the first day a repair may be applied for.
	RepairFrom time.Time `json:"repair_from"`
	// CanRepair: a repair may be applied for now.
	CanRepair  bool `json:"can_repair"`
	ref        string
	department string
}

// Standing is a subject's credit as the registry holds it.
type Standing struct {
	Level       string  `json:"level"`
	Score       float64 `json:"score"`
	Blacklisted bool    `json:"blacklisted"`
	RedList     bool    `json:"red_list"`
	Open        int     `json:"open_records"` // records not repaired
}

// Assess computes the standing from records at now: the pure part of
// Recompute. A repaired record weighs nothing and does not count towards
// the blacklist, but still keeps its subject off the red list for
// RedListYears.
func (c Config) Assess(records []Record, now time.Time) Standing {
	var st Standing
	overdue := 0
	recent := false
	for _, r := range records {
		if r.CreatedAt.After(now.AddDate(-c.RedListYears, 0, 0)) {
			recent = true
		}
		if r.RepairedAt != nil {
			continue
		}
		st.Open++
		if r.Kind == OverdueSupplement {
			overdue++
		}
		age := max(now.Sub(r.CreatedAt), 0)
		w := c.Weights[r.Kind]
		if c.HalfLife > 0 {
			w *= math.Pow(0.5, float64(age)/float64(c.HalfLife))
		}
		st.Score += w
	}
	st.Score = math.Round(st.Score*100) / 100
	switch {
	case st.Score >= c.D:
		st.Level = "D"
	case st.Score >= c.C:
		st.Level = "C"
	case st.Score >= c.B:
		st.Level = "B"
	default:
		st.Level = "A"
	}
	st.Blacklisted = st.Level == "D" || (c.BlacklistAfter > 0 && overdue >= c.BlacklistAfter)
	st.RedList = st.Level == "A" && !recent
	return st
}

// Subject is whose credit: a person (for themselves) or an enterprise.
// Records made on an application for an enterprise are the enterprise's.
type Subject struct {
	PersonID     int64
	EnterpriseID int64
}

func (s Subject) where() (string, int64) {
	if s.EnterpriseID != 0 {
		return "c.enterprise_id = $1", s.EnterpriseID
	}
	return "c.person_id = $1 AND c.enterprise_id IS NULL", s.PersonID
}

// Persons opens a person's details (identity.Store).
type Persons interface {
	PersonDetails(ctx context.Context, q store.Querier, personID int64) (identity.PersonDetails, error)
}

// Notifier sends notifications inside the caller's transaction (notify.Outbox).
type Notifier interface {
	Send(ctx context.Context, tx *sql.Tx, m notify.Message) (int64, error)
}

// Deps are what the service needs.
type Deps struct {
	DB         *store.DB
	Registries *hub.Builtin // the credit registry is written through it
	Persons    Persons
	Notifier   Notifier
	Protector  *pii.Protector // seals what people write in a repair
	Config     *Config        // nil: DefaultConfig
	Now        func() time.Time
}

// Service computes and repairs credit.
type Service struct {
	db         *store.DB
	registries *hub.Builtin
	persons    Persons
	notifier   Notifier
	protector  *pii.Protector
	cfg        Config
	now        func() time.Time
}

// New returns the credit service.
func New(d Deps) *Service {
	cfg := DefaultConfig()
	if d.Config != nil {
		cfg = *d.Config
	}
	now := d.Now
	if now == nil {
		now = func() time.Time { return time.Now().UTC() }
	}
	return &Service{db: d.DB, registries: d.Registries, persons: d.Persons, notifier: d.Notifier, protector: d.Protector, cfg: cfg, now: now}
}

// Config returns the service's configuration.
func (s *Service) Config() Config { return s.cfg }

// registrySubject is the hub subject the credit registry keeps the standing under.
func (s *Service) registrySubject(ctx context.Context, q store.Querier, sub Subject) (hub.Subject, error) {
	if sub.EnterpriseID != 0 {
		var code string
		if err := q.QueryRowContext(ctx, `SELECT credit_code FROM enterprises WHERE id = $1`, sub.EnterpriseID).Scan(&code); err != nil {
			return hub.Subject{}, fmt.Errorf("enterprise %d: %w", sub.EnterpriseID, err)
		}
		return hub.Subject{Kind: hub.Enterprise, Key: code}, nil
	}
	d, err := s.persons.PersonDetails(ctx, q, sub.PersonID)
	if err != nil {
		return hub.Subject{}, err
	}
	return hub.Subject{Kind: hub.Person, Key: d.IDNumber}, nil
}

// records lists a subject's credit records, newest first, through q.
func records(ctx context.Context, q store.Querier, sub Subject) ([]Record, error) {
	where, id := sub.where()
	return store.All(ctx, q, scanRecord, `SELECT c.id, c.kind, c.application_id, COALESCE(a.number, ''), c.note, c.created_at, c.repaired_at, c.ref, i.department_code
		FROM credit_records c JOIN applications a ON a.id = c.application_id JOIN catalog_items i ON i.code = a.item_code
		WHERE `+where+` ORDER BY c.created_at DESC, c.id DESC`, id)
}

func scanRecord(row store.Scanner) (Record, error) {
	var r Record
	var repaired sql.NullTime
	err := row.Scan(&r.ID, &r.Kind, &r.ApplicationID, &r.Number, &r.Note, &r.CreatedAt, &repaired, &r.ref, &r.department)
	if repaired.Valid {
		t := repaired.Time
		r.RepairedAt = &t
	}
	return r, err
}

// Recompute computes sub's standing from its records as they are in tx
// and writes it into the credit registry in tx, keeping the registry's
// other fields (a court's dishonest-debtor flag).
func (s *Service) Recompute(ctx context.Context, tx *sql.Tx, sub Subject) (Standing, error) {
	list, err := records(ctx, tx, sub)
	if err != nil {
		return Standing{}, err
	}
	st := s.cfg.Assess(list, s.now())
	hs, err := s.registrySubject(ctx, tx, sub)
	if err != nil {
		return st, err
	}
	err = s.registries.Amend(ctx, tx, "credit", hs, func(r hub.Record) {
		r["level"], r["blacklisted"], r["red_list"], r["records"] = st.Level, st.Blacklisted, st.RedList, st.Open
	})
	if err != nil {
		return st, fmt.Errorf("credit registry: %w", err)
	}
	return st, nil
}

// StandingOf reads sub's standing as the registry holds it, through q; a
// subject the registry has no record of stands at level A, on no list.
// Blacklisted also covers a court's dishonest-debtor flag.
func (s *Service) StandingOf(ctx context.Context, q store.Querier, sub Subject) (Standing, error) {
	hs, err := s.registrySubject(ctx, q, sub)
	if err != nil {
		return Standing{}, err
	}
	rec, err := s.registries.RecordTx(ctx, q, "credit", hs)
	if errors.Is(err, hub.ErrNotFound) {
		return Standing{Level: "A"}, nil
	}
	if err != nil {
		return Standing{}, err
	}
	st := Standing{Level: "A"}
	if l, ok := rec["level"].(string); ok && l != "" {
		st.Level = l
	}
	st.Blacklisted, _ = rec["blacklisted"].(bool)
	if debtor, _ := rec["dishonest_judgment_debtor"].(bool); debtor {
		st.Blacklisted = true
	}
	st.RedList, _ = rec["red_list"].(bool)
	if n, ok := rec["records"].(float64); ok {
		st.Open = int(n)
	}
	return st, nil
}

// MayPledge is the one place that decides whether a subject may promise
// instead of proving: sign a commitment (告知承诺) or defer a material
// (容缺受理). The blacklisted may not; everyone else may, the red-listed
// included. It reads through q, the caller's transaction when it holds one.
func (s *Service) MayPledge(ctx context.Context, q store.Querier, sub Subject) error {
	st, err := s.StandingOf(ctx, q, sub)
	if err != nil {
		return err
	}
	if st.Blacklisted {
		return apperr.New(apperr.Forbidden, apperr.CreditBlacklisted, "the applicant is on the credit blacklist: commitments and deferrals are closed to them")
	}
	return nil
}

// RecomputeAll recomputes every subject with a credit record, each in its
// own transaction: records fade, so levels change without new ones. It
// returns how many subjects it recomputed.
func (s *Service) RecomputeAll(ctx context.Context) (int, error) {
	subs, err := store.All(ctx, s.db, func(row store.Scanner) (Subject, error) {
		var sub Subject
		var ent sql.NullInt64
		err := row.Scan(&sub.PersonID, &ent)
		if ent.Valid {
			sub = Subject{EnterpriseID: ent.Int64}
		}
		return sub, err
	}, `SELECT DISTINCT CASE WHEN enterprise_id IS NULL THEN person_id ELSE 0 END, enterprise_id FROM credit_records`)
	if err != nil {
		return 0, err
	}
	for i, sub := range subs {
		if err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			_, err := s.Recompute(ctx, tx, sub)
			return err
		}); err != nil {
			return i, err
		}
	}
	return len(subs), nil
}

// recorded audits a credit action inside tx.
func recorded(ctx context.Context, tx *sql.Tx, by audit.Actor, action string, repairID int64, detail map[string]any) error {
	return audit.Record(ctx, tx, audit.Event{Actor: by, Action: "credit." + action, ObjectKind: "credit_repair", ObjectID: fmt.Sprint(repairID), Detail: detail})
}
