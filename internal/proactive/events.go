package proactive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"yiwang/internal/hub"
	"yiwang/internal/store"
)

// eventRow is one pending registry event.
type eventRow struct {
	id      int64
	event   string
	idx     string
	subject string // sealed
	at      time.Time
}

// Events acts on the registry events the built-in registries recorded and
// nobody has handled yet, up to limit of them: each item whose trigger is
// the event is offered or granted to the people it concerns — the subject
// for a move or a retirement, the parents on record for a birth, the
// spouse on record for a death, the legal representative for a new
// enterprise. The events are marked handled after; handling one twice
// does nothing twice. It returns the report, recorded as a sweep when
// there was anything to handle.
func (e *Engine) Events(ctx context.Context, limit int) (Report, error) {
	evs, err := store.All(ctx, e.db, func(s store.Scanner) (eventRow, error) {
		var r eventRow
		return r, s.Scan(&r.id, &r.event, &r.idx, &r.subject, &r.at)
	}, `SELECT id, event, subject_idx, subject_enc, at FROM registry_events WHERE handled_at IS NULL ORDER BY id LIMIT $1`, limit)
	if err != nil || len(evs) == 0 {
		return Report{}, err
	}
	began := e.now()
	rep := Report{On: day(began), Since: day(evs[0].at), By: "events", Status: "running", StartedAt: began, Skipped: map[string]int{}}
	if err := e.db.QueryRowContext(ctx, `INSERT INTO proactive_sweeps (on_date, since_date, dry_run, started_by, started_at, status) VALUES ($1, $2, false, 'events', $3, 'running') RETURNING id`,
		rep.On, rep.Since, began).Scan(&rep.ID); err != nil {
		return rep, err
	}
	svcs, err := e.services(ctx)
	if err == nil {
		var cands []candidate
		if cands, err = e.eventCandidates(ctx, svcs, evs, &rep); err == nil {
			rep.Candidates = len(cands)
			err = e.act(ctx, cands, false, &rep, nil)
		}
	}
	if err == nil {
		for _, ev := range evs {
			if _, uerr := e.db.ExecContext(ctx, `UPDATE registry_events SET handled_at = $1 WHERE id = $2`, e.now(), ev.id); uerr != nil {
				err = uerr
				break
			}
		}
	}
	rep.Status = "done"
	if err != nil {
		rep.Status, rep.Error = "failed", err.Error()
	}
	end := e.now()
	rep.FinishedAt, rep.TookMS = &end, end.Sub(began).Milliseconds()
	if uerr := e.finish(context.WithoutCancel(ctx), &rep); uerr != nil && err == nil {
		err = uerr
	}
	return rep, err
}

// eventCandidates turns events into the candidates of the services they
// trigger.
func (e *Engine) eventCandidates(ctx context.Context, svcs []service, evs []eventRow, rep *Report) ([]candidate, error) {
	var out []candidate
	for _, ev := range evs {
		rep.Scanned++
		var watching []service
		for _, s := range svcs {
			if s.trigger == ev.event {
				watching = append(watching, s)
			}
		}
		if len(watching) == 0 {
			continue
		}
		subject, err := e.registries.OpenEventSubject(ev.subject)
		if err != nil {
			return nil, fmt.Errorf("registry event %d: %w", ev.id, err)
		}
		recipients, err := e.recipients(ctx, ev.event, subject)
		if err != nil {
			return nil, err
		}
		for _, s := range watching {
			if len(recipients) == 0 {
				rep.skip(SkippedNoPerson)
				continue
			}
			for _, r := range recipients {
				c := r
				c.svc, c.period, c.basis = s, day(ev.at), eventBasis(ev.event)
				if s.item.Target != "person" && subject.Kind == hub.Enterprise {
					c.idx = ev.idx // one offer per enterprise
				}
				out = append(out, c)
			}
		}
	}
	return out, nil
}

func eventBasis(event string) string {
	if t, ok := eventNames[event]; ok {
		return t
	}
	return event
}

var eventNames = map[string]string{
	"population.born": "出生登记", "population.died": "亲属死亡登记", "population.moved_in": "户籍迁入",
	"enterprise.established": "企业设立登记", "social_insurance.retired": "办理退休",
}

// recipients are the people an event concerns, as candidates without
// their service.
func (e *Engine) recipients(ctx context.Context, event string, subject hub.Subject) ([]candidate, error) {
	source, fields := "population", []string{"parent_id_numbers", "spouse_id_number"}
	if subject.Kind == hub.Enterprise {
		source, fields = "enterprise", []string{"legal_rep_id_number"}
	}
	rec, err := e.connector().Fetch(ctx, source, subject, fields)
	if errors.Is(err, hub.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	switch event {
	case "population.born":
		if list, ok := rec["parent_id_numbers"].([]string); ok {
			ids = list
		}
	case "population.died":
		if s, _ := rec["spouse_id_number"].(string); s != "" {
			ids = []string{s}
		}
	case "enterprise.established":
		if s, _ := rec["legal_rep_id_number"].(string); s != "" {
			ids = []string{s}
		}
	default:
		ids = []string{subject.Key}
	}
	var out []candidate
	for _, id := range ids {
		who := hub.Subject{Kind: hub.Person, Key: id}
		p, err := e.connector().Fetch(ctx, "population", who, []string{"name", "phone", "alive"})
		if errors.Is(err, hub.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		name, _ := p["name"].(string)
		phone, _ := p["phone"].(string)
		alive, known := p["alive"].(bool)
		out = append(out, candidate{idx: e.registries.SubjectIndex(who), idNumber: id, name: name, phone: phone, dead: known && !alive})
	}
	return out, nil
}

// finish stores a report's end.
func (e *Engine) finish(ctx context.Context, rep *Report) error {
	skipped, _ := json.Marshal(rep.Skipped)
	_, err := e.db.ExecContext(ctx, `UPDATE proactive_sweeps SET status = $1, finished_at = $2, scanned = $3, candidates = $4, granted = $5, offered = $6,
		skipped = $7, took_ms = $8, error = $9 WHERE id = $10`, rep.Status, rep.FinishedAt, rep.Scanned, rep.Candidates, rep.Granted, rep.Offered, string(skipped), rep.TookMS, rep.Error, rep.ID)
	return err
}
