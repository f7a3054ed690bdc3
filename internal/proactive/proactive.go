// Package proactive is the government acting first (主动服务): it finds the
// people who now qualify for an item — by a date reached (an age, a
// licence's expiry or anniversary) or a registry event (a birth, a death, a
// move into the district, an enterprise set up, a retirement) — and either
// offers them the item one click away or, for an item in grant mode,
// applies for them, decides by the item's rules and issues the result
// without an application (免申即享).
//
// A daily sweep reads the registries in bulk (never through HTTP) and
// evaluates the items' rules for the candidates it finds; what it does is
// written in batched transactions, each action keyed by item, person and
// period, so a sweep run twice, or by two processes at once, never acts
// twice. Every sweep is recorded with its counts for the supervisors.
package proactive

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/identity"
	"yiwang/internal/notify"
	"yiwang/internal/store"
	"yiwang/internal/workday"
)

// Account is the username of the system account the platform applies
// under when it acts on its own initiative.
const Account = "proactive-service"

// Notifier writes a message in the caller's transaction.
type Notifier interface {
	Send(ctx context.Context, tx *sql.Tx, m notify.Message) (int64, error)
}

// Engine runs the proactive services.
type Engine struct {
	db         *store.DB
	catalog    *catalog.Store
	registries *hub.Builtin
	apps       *application.Drafts
	ids        *identity.Store
	notify     Notifier
	// External names the sources read from departments' systems over HTTP
	// (--hub-config), which cannot be read in bulk: a date trigger on one
	// is swept over the people the platform knows (persons), their records
	// read one by one through Connector.
	External map[string]bool
	// Connector reads a record wherever its source is kept (the hub's
	// router); nil: the built-in registries.
	Connector hub.Connector
	// Workers is how many goroutines open records and plan candidates.
	Workers int
	// Batch is how many actions one transaction writes.
	Batch int
	now   func() time.Time
}

// New returns the engine.
func New(db *store.DB, cat *catalog.Store, registries *hub.Builtin, apps *application.Drafts, ids *identity.Store, n Notifier) *Engine {
	return &Engine{db: db, catalog: cat, registries: registries, apps: apps, ids: ids, notify: n, Workers: 4, Batch: 200,
		now: func() time.Time { return time.Now().UTC() }}
}

// connector reads records wherever their source is kept.
func (e *Engine) connector() hub.Connector {
	if e.Connector != nil {
		return e.Connector
	}
	return e.registries
}

// principal is the platform's proactive-service account, made the first
// time it is needed.
func (e *Engine) principal(ctx context.Context) (authz.Principal, error) {
	var id int64
	err := e.db.QueryRowContext(ctx, `SELECT id FROM accounts WHERE kind = 'system' AND username = $1`, Account).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		acc, cerr := e.ids.CreateSystem(ctx, Account, nil, 0)
		if cerr != nil {
			// Another process made it first.
			if err2 := e.db.QueryRowContext(ctx, `SELECT id FROM accounts WHERE kind = 'system' AND username = $1`, Account).Scan(&id); err2 != nil {
				return authz.Principal{}, cerr
			}
		} else {
			id = acc.ID
		}
		err = nil
	}
	if err != nil {
		return authz.Principal{}, err
	}
	return authz.Principal{AccountID: id, Kind: "system", Name: "主动服务", RealNameLevel: 3}, nil
}

// service is a published item with a proactive trigger.
type service struct {
	item    catalog.Item
	trigger string
	age     int // for population.turns_N
}

// services lists the published items with a proactive trigger.
func (e *Engine) services(ctx context.Context) ([]service, error) {
	vs, err := e.catalog.Published(ctx)
	if err != nil {
		return nil, err
	}
	var out []service
	for _, v := range vs {
		if pr := v.Item.Proactive; pr != nil {
			age, _ := catalog.TurnsAge(pr.Trigger)
			out = append(out, service{item: v.Item, trigger: pr.Trigger, age: age})
		}
	}
	return out, nil
}

// candidate is one person an item's trigger fired for, in one period.
type candidate struct {
	svc      service
	idx      string // the person's blind index in the registries
	idNumber string
	name     string
	phone    string
	period   string // the day the trigger fired, or the event's day
	dead     bool
	basis    string // why, in Chinese
}

// key identifies the action a candidate may get: never twice.
func (c candidate) key() string { return c.svc.item.Code + "|" + c.idx + "|" + c.period }

// day is t's calendar day in China.
func day(t time.Time) string { return t.In(workday.CST).Format(time.DateOnly) }

// ParseDay reads a YYYY-MM-DD day as midnight China time.
func ParseDay(s string) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(s), workday.CST)
	if err != nil {
		return time.Time{}, fmt.Errorf("a day is written YYYY-MM-DD, not %q", s)
	}
	return t, nil
}

// Sweeps lists the latest sweeps, newest first, for supervisors.
func (e *Engine) Sweeps(ctx context.Context, p authz.Principal, limit int) ([]Report, error) {
	if err := authz.Require(p, authz.Supervise); err != nil {
		return nil, err
	}
	return store.All(ctx, e.db, func(s store.Scanner) (Report, error) {
		var r Report
		var skipped string
		var finished sql.NullTime
		err := s.Scan(&r.ID, &r.On, &r.Since, &r.DryRun, &r.By, &r.StartedAt, &finished, &r.Status, &r.Scanned, &r.Candidates, &r.Granted, &r.Offered, &skipped, &r.TookMS, &r.Error)
		if finished.Valid {
			r.FinishedAt = &finished.Time
		}
		if err == nil {
			err = json.Unmarshal([]byte(skipped), &r.Skipped)
		}
		return r, err
	}, `SELECT id, on_date, since_date, dry_run, started_by, started_at, finished_at, status, scanned, candidates, granted, offered, skipped, took_ms, error
		FROM proactive_sweeps ORDER BY id DESC LIMIT $1`, limit)
}

// SkipReasons name the skip reasons for people, in Chinese and English.
var SkipReasons = map[string]catalog.Text{
	SkippedAlready:  {Zh: "此前已办理", En: "Done before"},
	SkippedDeceased: {Zh: "人口库记载已死亡", En: "Recorded as deceased"},
	SkippedRefused:  {Zh: "不符合事项规则", En: "The item's rules refuse"},
	SkippedFailed:   {Zh: "写入失败（见日志）", En: "Could not be written (see the log)"},
	SkippedNoPerson: {Zh: "无可告知的人", En: "Nobody to tell"},
	SkippedBadData:  {Zh: "记录无法识别当事人", En: "The record names nobody"},
}
