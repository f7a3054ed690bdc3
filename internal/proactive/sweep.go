package proactive

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/workday"
)

// SweepRequest says which sweep to run.
type SweepRequest struct {
	// On is the day swept for; the triggers that fire after Since and up
	// to On are acted on.
	On time.Time
	// Since is the day before the first day swept. Zero: the day of the
	// last sweep that acted, if it is at most MaxCatchUp days back (a
	// platform that was down catches up), else the day before On.
	Since time.Time
	// DryRun finds and decides but writes nothing except the sweep's record.
	DryRun bool
	// By says who started the sweep: "schedule", "cli" or a person's name.
	By string
	// Progress, when set, is told how far each stage is: "find" over the
	// registry records, "act" over the candidates.
	Progress func(stage string, done, total int)
}

// MaxCatchUp is how many days a sweep looks back at most, after days
// without one.
const MaxCatchUp = 31

// Skip reasons, as counted in a sweep's report.
const (
	SkippedAlready  = "already_done" // the person got this item for this period before
	SkippedDeceased = "deceased"     // the population registry records a death
	SkippedRefused  = "rules_refuse" // the item's rules refuse the person
	SkippedFailed   = "failed"       // writing it failed; the error is logged
	SkippedNoPerson = "no_recipient" // nobody alive to tell (e.g. a death with no spouse on record)
	SkippedBadData  = "bad_record"   // the record cannot identify a person
)

// Report is what a sweep found and did.
type Report struct {
	ID         int64          `json:"id"`
	On         string         `json:"on"`
	Since      string         `json:"since"`
	DryRun     bool           `json:"dry_run"`
	By         string         `json:"started_by"`
	Status     string         `json:"status"` // running, done, failed
	Scanned    int            `json:"scanned"`
	Candidates int            `json:"candidates"`
	Granted    int            `json:"granted"`
	Offered    int            `json:"offered"`
	Skipped    map[string]int `json:"skipped"`
	StartedAt  time.Time      `json:"started_at"`
	FinishedAt *time.Time     `json:"finished_at,omitempty"`
	TookMS     int64          `json:"took_ms"`
	Error      string         `json:"error,omitempty"`
	// FindTook and ActTook split the time between finding the candidates
	// and acting on them (for the benchmark); not stored.
	FindTook time.Duration `json:"-"`
	ActTook  time.Duration `json:"-"`
}

func (r *Report) skip(reason string) {
	if r.Skipped == nil {
		r.Skipped = map[string]int{}
	}
	r.Skipped[reason]++
}

// Sweep finds the people whose triggers fired in the window of req and
// grants or offers them the items, recording the sweep and its counts.
func (e *Engine) Sweep(ctx context.Context, req SweepRequest) (Report, error) {
	began := e.now()
	on := req.On
	since := req.Since
	if since.IsZero() {
		var err error
		if since, err = e.lastSweptDay(ctx, on); err != nil {
			return Report{}, err
		}
	}
	if !since.Before(on) {
		return Report{}, fmt.Errorf("the sweep's first day (after %s) is later than its day %s", day(since), day(on))
	}
	if !req.DryRun && day(on) > day(e.now()) {
		return Report{}, fmt.Errorf("%s has not come yet: only a dry run sweeps a day to come", day(on))
	}
	rep := Report{On: day(on), Since: day(since), DryRun: req.DryRun, By: req.By, Status: "running", StartedAt: began, Skipped: map[string]int{}}
	if err := e.db.QueryRowContext(ctx, `INSERT INTO proactive_sweeps (on_date, since_date, dry_run, started_by, started_at, status) VALUES ($1, $2, $3, $4, $5, 'running') RETURNING id`,
		rep.On, rep.Since, rep.DryRun, rep.By, began).Scan(&rep.ID); err != nil {
		return rep, fmt.Errorf("record the sweep: %w", err)
	}
	err := e.sweep(ctx, req, since, &rep)
	if err != nil {
		rep.Status, rep.Error = "failed", err.Error()
	} else {
		rep.Status = "done"
	}
	end := e.now()
	rep.FinishedAt, rep.TookMS = &end, end.Sub(began).Milliseconds()
	if uerr := e.finish(context.WithoutCancel(ctx), &rep); uerr != nil && err == nil {
		err = uerr
	}
	return rep, err
}

// lastSweptDay is where a sweep for on starts by default: after the day of
// the last sweep that acted, at most MaxCatchUp days back.
func (e *Engine) lastSweptDay(ctx context.Context, on time.Time) (time.Time, error) {
	var last sql.NullString
	if err := e.db.QueryRowContext(ctx, `SELECT MAX(on_date) FROM proactive_sweeps WHERE status = 'done' AND NOT dry_run AND on_date < $1`, day(on)).Scan(&last); err != nil {
		return time.Time{}, err
	}
	floor := on.AddDate(0, 0, -MaxCatchUp)
	if last.Valid {
		if t, err := ParseDay(last.String); err == nil && t.After(floor) {
			return t, nil
		}
	}
	return on.AddDate(0, 0, -1), nil
}

func (e *Engine) sweep(ctx context.Context, req SweepRequest, since time.Time, rep *Report) error {
	svcs, err := e.services(ctx)
	if err != nil {
		return err
	}
	findStart := time.Now()
	cands, err := e.find(ctx, svcs, since, req.On, rep, req.Progress)
	if err != nil {
		return err
	}
	rep.FindTook = time.Since(findStart)
	rep.Candidates = len(cands)
	actStart := time.Now()
	err = e.act(ctx, cands, req.DryRun, rep, req.Progress)
	rep.ActTook = time.Since(actStart)
	return err
}

// inWindow reports whether t's day is after since and not after on.
func inWindow(t, since, on time.Time) bool {
	d := day(t)
	return d > day(since) && d <= day(on)
}

// populationRow is what the sweep reads of a population record.
type populationRow struct {
	IDNumber string `json:"id_number"`
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	Birth    string `json:"birth_date"`
	Alive    *bool  `json:"alive"`
}

// knownTurning lists, when the population registry is a department's
// system read over HTTP, the people the platform knows (persons, whose birth
// dates it keeps) who turn an age of ages in the window, each checked
// against the registry's record, read through the connector: alive, and
// with the name and phone it holds.
func (e *Engine) knownTurning(ctx context.Context, ages []service, since, on time.Time) ([]candidate, error) {
	born := map[string][]service{}
	for d := since.AddDate(0, 0, 1); !d.After(on); d = d.AddDate(0, 0, 1) {
		for _, s := range ages {
			b := day(d.AddDate(-s.age, 0, 0))
			born[b] = append(born[b], s)
		}
	}
	// A birthday on 29 February falls on 1 March in other years, as
	// AddDate counts it from the birth date.
	for b, svcs := range born {
		if strings.HasSuffix(b, "-03-01") {
			if t, err := ParseDay(b); err == nil && t.AddDate(0, 0, -1).Day() == 29 {
				born[day(t.AddDate(0, 0, -1))] = append(born[day(t.AddDate(0, 0, -1))], svcs...)
			}
		}
	}
	var out []candidate
	for b, svcs := range born {
		ids, err := e.ids.PersonsBornOn(ctx, b)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			d, err := e.ids.PersonDetails(ctx, e.db, id)
			if err != nil {
				return nil, err
			}
			who := hub.Subject{Kind: hub.Person, Key: d.IDNumber}
			rec, err := e.connector().Fetch(ctx, "population", who, []string{"name", "phone", "alive", "birth_date"})
			if errors.Is(err, hub.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("the population registry for a sweep: %w", err)
			}
			birth, err := ParseDay(fmt.Sprint(rec["birth_date"]))
			if err != nil {
				continue
			}
			name, _ := rec["name"].(string)
			phone, _ := rec["phone"].(string)
			alive, known := rec["alive"].(bool)
			for _, s := range svcs {
				if at := birth.AddDate(s.age, 0, 0); inWindow(at, since, on) {
					out = append(out, candidate{svc: s, idx: e.registries.SubjectIndex(who), idNumber: d.IDNumber, name: cmp.Or(name, d.Name), phone: cmp.Or(phone, d.Phone),
						period: day(at), dead: known && !alive, basis: fmt.Sprintf("年满%d周岁", s.age)})
				}
			}
		}
	}
	return out, nil
}

// birthKey is how a stored population record writes its birth date.
var birthKey = []byte(`"birth_date":"`)

// birthDate finds the birth date in a population record's JSON.
func birthDate(plain []byte) (time.Time, bool) {
	i := bytes.Index(plain, birthKey)
	if i < 0 || len(plain) < i+len(birthKey)+10 {
		return time.Time{}, false
	}
	s := plain[i+len(birthKey) : i+len(birthKey)+10]
	t, err := ParseDay(string(s))
	return t, err == nil
}

// licenceRow is what the sweep reads of an e-licence record.
type licenceRow struct {
	HolderID string `json:"holder_id"`
	Holder   string `json:"holder"`
	Issued   string `json:"issue_date"`
	Expiry   string `json:"expiry_date"`
	Status   string `json:"status"`
}

// find reads the registries the services' date triggers need, once each,
// and lists the candidates whose trigger day falls in the window.
func (e *Engine) find(ctx context.Context, svcs []service, since, on time.Time, rep *Report, progress func(string, int, int)) ([]candidate, error) {
	var ages []service
	licences := map[string][]service{}
	for _, s := range svcs {
		switch {
		case s.age > 0:
			ages = append(ages, s)
		case s.trigger == catalog.TriggerExpiring || s.trigger == catalog.TriggerAnniversary:
			licences[s.item.Proactive.Licence] = append(licences[s.item.Proactive.Licence], s)
		}
	}
	var mu sync.Mutex
	var out []candidate
	add := func(c candidate) {
		mu.Lock()
		out = append(out, c)
		mu.Unlock()
	}
	total := 0
	sources := []string{}
	if len(ages) > 0 && e.External["population"] {
		known, err := e.knownTurning(ctx, ages, since, on)
		if err != nil {
			return nil, err
		}
		out = append(out, known...)
		rep.Scanned += len(known)
	} else if len(ages) > 0 {
		sources = append(sources, "population")
	}
	for _, t := range slices.Sorted(maps.Keys(licences)) {
		sources = append(sources, "licence."+t)
	}
	for _, src := range sources {
		n, err := e.registries.Count(ctx, src)
		if err != nil {
			return nil, err
		}
		total += n
	}
	scanned := 0
	for _, src := range sources {
		base := scanned
		var read atomic.Int64
		done := func(n int) {
			read.Store(max(read.Load(), int64(n)))
			if progress != nil {
				progress("find", base+n, total)
			}
		}
		var each func(idx string, plain []byte) error
		if src == "population" {
			each = func(idx string, plain []byte) error {
				// Records are stored as json.Marshal writes them, so the
				// birth date is found without decoding the record; only
				// the few whose birthday falls in the window are decoded.
				birth, ok := birthDate(plain)
				if !ok {
					return nil // no birth date: no birthday
				}
				var p *populationRow
				for _, s := range ages {
					at := birth.AddDate(s.age, 0, 0)
					if !inWindow(at, since, on) {
						continue
					}
					if p == nil {
						p = new(populationRow)
						if err := json.Unmarshal(plain, p); err != nil {
							return err
						}
					}
					add(candidate{svc: s, idx: idx, idNumber: p.IDNumber, name: p.Name, phone: p.Phone, period: day(at),
						dead: p.Alive != nil && !*p.Alive, basis: fmt.Sprintf("年满%d周岁", s.age)})
				}
				return nil
			}
		} else {
			watch := licences[hub.StoredLicence(src)[len("licence."):]]
			each = func(idx string, plain []byte) error {
				var l licenceRow
				if err := json.Unmarshal(plain, &l); err != nil {
					return err
				}
				if l.Status != "" && l.Status != "valid" {
					return nil
				}
				for _, s := range watch {
					for _, at := range licenceDays(s, l, since, on) {
						add(candidate{svc: s, idx: idx, idNumber: l.HolderID, name: l.Holder, period: day(at), basis: licenceBasis(s, l)})
					}
				}
				return nil
			}
		}
		if err := e.registries.Scan(ctx, src, e.Workers, each, done); err != nil {
			return nil, err
		}
		scanned += int(read.Load())
	}
	rep.Scanned += scanned
	slices.SortFunc(out, func(a, b candidate) int {
		if c := strings.Compare(a.period, b.period); c != 0 {
			return c
		}
		return strings.Compare(a.key(), b.key())
	})
	return out, nil
}

// licenceDays are the days in the window a licence trigger fires for l.
func licenceDays(s service, l licenceRow, since, on time.Time) []time.Time {
	switch s.trigger {
	case catalog.TriggerExpiring:
		exp, err := ParseDay(l.Expiry)
		if err != nil {
			return nil
		}
		if at := exp.AddDate(0, 0, -s.item.Proactive.DaysBefore); inWindow(at, since, on) {
			return []time.Time{at}
		}
	case catalog.TriggerAnniversary:
		issued, err := ParseDay(l.Issued)
		if err != nil {
			return nil
		}
		var out []time.Time
		for y := since.In(workday.CST).Year(); y <= on.In(workday.CST).Year(); y++ {
			if k := y - issued.Year(); k >= 1 {
				if at := issued.AddDate(k, 0, 0); inWindow(at, since, on) {
					out = append(out, at)
				}
			}
		}
		return out
	}
	return nil
}

func licenceBasis(s service, l licenceRow) string {
	if s.trigger == catalog.TriggerExpiring {
		return fmt.Sprintf("证照将于%s到期", l.Expiry)
	}
	return "证照周年（" + l.Issued + "签发）"
}

// planned is a candidate with what its item's rules say.
type planned struct {
	c    candidate
	plan *application.PlannedInitiative // nil when skipped before planning
	skip string
	err  error
}

// act plans the candidates — reading each one's data and deciding by the
// item's rules, several at once — while it writes the grants and offers of
// those planned, a batch per transaction, so that reading and writing
// overlap; a dry run only counts.
func (e *Engine) act(ctx context.Context, cands []candidate, dry bool, rep *Report, progress func(string, int, int)) error {
	if len(cands) == 0 {
		return nil
	}
	by, err := e.principal(ctx)
	if err != nil {
		return err
	}
	done, err := e.doneKeys(ctx, cands)
	if err != nil {
		return err
	}
	// The rules judge now; a dry run for a day to come judges on that day,
	// so that it shows who will qualify then.
	var at time.Time
	if last := cands[len(cands)-1].period; dry && last > day(e.now()) {
		at, _ = ParseDay(last)
		at = at.Add(12 * time.Hour)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batch := max(e.Batch, 1)
	next := make(chan candidate)
	results := make(chan planned, 2*batch)
	var wg sync.WaitGroup
	for range max(e.Workers, 1) {
		wg.Go(func() {
			for c := range next {
				select {
				case results <- e.plan(ctx, by, c, done, at):
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		defer close(next)
		for _, c := range cands {
			select {
			case next <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	handled := 0
	tell := func(n int) {
		handled += n
		if progress != nil {
			progress("act", handled, len(cands))
		}
	}
	var todo []planned
	for p := range results {
		switch {
		case p.err != nil:
			return p.err
		case p.skip != "":
			rep.skip(p.skip)
			tell(1)
		case dry && e.grants(p):
			rep.Granted++
			tell(1)
		case dry:
			rep.Offered++
			tell(1)
		default:
			if todo = append(todo, p); len(todo) == batch {
				if err := e.write(ctx, by, todo, rep); err != nil {
					return err
				}
				tell(len(todo))
				todo = nil
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(todo) > 0 {
		if err := e.write(ctx, by, todo, rep); err != nil {
			return err
		}
		tell(len(todo))
	}
	return nil
}

// grants reports whether p is to be granted (not only offered).
func (e *Engine) grants(p planned) bool {
	return p.c.svc.item.Proactive.Mode == "grant" && p.plan != nil && p.plan.Outcome == application.InitiativeGrant
}

// plan decides what candidate c gets.
func (e *Engine) plan(ctx context.Context, by authz.Principal, c candidate, done map[string]bool, at time.Time) planned {
	switch {
	case done[c.key()]:
		return planned{c: c, skip: SkippedAlready}
	case c.dead:
		return planned{c: c, skip: SkippedDeceased}
	case c.idNumber == "" || c.name == "":
		return planned{c: c, skip: SkippedBadData}
	}
	if c.svc.item.Target != "person" {
		// An enterprise's item is offered to its representative; its
		// rules are the enterprise's to meet when it applies.
		return planned{c: c}
	}
	pl, err := e.apps.PlanInitiative(ctx, by, application.Initiative{ItemCode: c.svc.item.Code, Answers: c.svc.item.Proactive.Answers,
		IDNumber: c.idNumber, Name: c.name, Phone: c.phone, Basis: c.basis, At: at})
	if apperr.Is(err, apperr.Invalid) && c.svc.item.Proactive.Mode == "offer" {
		// The item asks what the trigger cannot answer (a situation,
		// say): the person answers when they take up the offer.
		return planned{c: c}
	}
	if err != nil {
		return planned{c: c, err: fmt.Errorf("plan %s for a candidate: %w", c.svc.item.Code, err)}
	}
	if pl.Outcome == application.InitiativeRefused {
		return planned{c: c, plan: pl, skip: SkippedRefused}
	}
	return planned{c: c, plan: pl}
}

// doneKeys are the actions already taken for the candidates' periods.
func (e *Engine) doneKeys(ctx context.Context, cands []candidate) (map[string]bool, error) {
	lo, hi := cands[0].period, cands[0].period
	for _, c := range cands {
		lo, hi = min(lo, c.period), max(hi, c.period)
	}
	rows, err := e.db.QueryContext(ctx, `SELECT item_code, subject_idx, period FROM proactive_actions WHERE period >= $1 AND period <= $2`, lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	done := map[string]bool{}
	for rows.Next() {
		var code, idx, period string
		if err := rows.Scan(&code, &idx, &period); err != nil {
			return nil, err
		}
		done[code+"|"+idx+"|"+period] = true
	}
	return done, rows.Err()
}
