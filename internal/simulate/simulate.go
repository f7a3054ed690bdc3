// Package simulate replays a changed rule set over past machine decisions
// (决策模拟): each stored decision record keeps the canonical input it was
// decided on, so deciding that input again with a draft item's rules, on
// the original decision day, shows which outcomes the change would flip.
// A simulation only reads applications and decisions; it never writes them.
package simulate

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.yaml.in/yaml/v3"

	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/pii"
	"yiwang/internal/rules"
	"yiwang/internal/store"
	"yiwang/internal/workday"
)

// Options say what to replay.
type Options struct {
	// Item is the code whose past decisions are replayed.
	Item string
	// Program is the draft's compiled rules.
	Program *rules.Program
	// Since is the first decision day (China time) replayed.
	Since workday.Date
	// Snapshot overrides registry fields in every replayed input.
	Snapshot Snapshot
	// Progress, when set, is told how many decisions are done of how many;
	// it may be called from several goroutines.
	Progress func(done, total int)
	// Batch is how many decisions are read at a time (1,000 when 0).
	Batch int
}

// Report is what a simulation found. Examples name applications by their
// masked number only: the inputs hold personal data and never leave here.
type Report struct {
	Item       string `json:"item"`
	Since      string `json:"since"`
	Replayed   int    `json:"replayed"`
	Unreadable int    `json:"unreadable"` // records that could not be opened or read
	Before     Counts `json:"before"`
	After      Counts `json:"after"`
	// Flips are the changed outcomes by pair, most first.
	Flips  []Flip `json:"flips"`
	TookMS int64  `json:"took_ms"`
}

// Counts are decisions by outcome.
type Counts struct {
	Approve int `json:"approve"`
	Reject  int `json:"reject"`
	Manual  int `json:"manual"`
}

// ApprovalRate is the share of machine approvals, 0 to 1.
func (c Counts) ApprovalRate() float64 {
	n := c.Approve + c.Reject + c.Manual
	if n == 0 {
		return 0
	}
	return float64(c.Approve) / float64(n)
}

func (c *Counts) add(o rules.Outcome, n int) {
	switch o {
	case rules.Approve:
		c.Approve += n
	case rules.Reject:
		c.Reject += n
	default:
		c.Manual += n
	}
}

// Flip is the decisions whose outcome went From → To.
type Flip struct {
	From   rules.Outcome `json:"from"`
	To     rules.Outcome `json:"to"`
	Count  int           `json:"count"`
	Groups []Group       `json:"groups"`
}

// Group is the flipped decisions of one reason: the new decision's first
// reason or, for a flip to approval, the old decision's first reason (the
// one that no longer holds).
type Group struct {
	Code     string       `json:"code"`
	Text     catalog.Text `json:"text"`
	Count    int          `json:"count"`
	Examples []string     `json:"examples"` // masked application numbers, the earliest decisions first
}

// examplesPerGroup is how many applications a group names.
const examplesPerGroup = 3

// row is one stored decision as read.
type row struct {
	id      int64
	number  string
	outcome rules.Outcome
	record  string
}

const where = `FROM decisions d JOIN applications a ON a.id = d.application_id
	WHERE a.item_code = $1 AND d.decided_at >= $2`

// Run replays opt.Program over the item's decisions since opt.Since:
// rows are read in batches by id and decided by one worker per CPU.
func Run(ctx context.Context, db *store.DB, protector *pii.Protector, opt Options) (Report, error) {
	start := time.Now()
	since := opt.Since.Start().UTC() // midnight in China
	batch := opt.Batch
	if batch <= 0 {
		batch = 1000
	}
	var total int
	if err := db.QueryRowContext(ctx, `SELECT count(*) `+where, opt.Item, since).Scan(&total); err != nil {
		return Report{}, fmt.Errorf("count the decisions: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []row, 4)
	var readErr error
	go func() {
		defer close(batches)
		readErr = read(ctx, db, opt.Item, since, batch, batches)
	}()
	var done atomic.Int64
	tallies := make([]*tally, runtime.NumCPU())
	var wg sync.WaitGroup
	for w := range tallies {
		t := newTally()
		tallies[w] = t
		wg.Go(func() {
			for rows := range batches {
				for _, r := range rows {
					t.replay(r, protector, opt)
				}
				if opt.Progress != nil {
					opt.Progress(int(done.Add(int64(len(rows)))), total)
				}
			}
		})
	}
	wg.Wait()
	if readErr != nil {
		return Report{}, readErr
	}
	rep := merge(tallies)
	rep.Item, rep.Since, rep.TookMS = opt.Item, opt.Since.String(), time.Since(start).Milliseconds()
	return rep, nil
}

// read sends the decisions in batches, by id (keyset pagination), so no
// query holds more than one batch.
func read(ctx context.Context, db *store.DB, item string, since time.Time, batch int, out chan<- []row) error {
	after := int64(0)
	for {
		rows, err := db.QueryContext(ctx, `SELECT d.id, COALESCE(a.number, ''), d.outcome, d.record `+where+` AND d.id > $3 ORDER BY d.id LIMIT $4`, item, since, after, batch)
		if err != nil {
			return fmt.Errorf("read the decisions: %w", err)
		}
		got, err := scan(rows, batch)
		if err != nil {
			return fmt.Errorf("read the decisions: %w", err)
		}
		if len(got) == 0 {
			return nil
		}
		select {
		case out <- got:
		case <-ctx.Done():
			return ctx.Err()
		}
		if len(got) < batch {
			return nil
		}
		after = got[len(got)-1].id
	}
}

func scan(rows *sql.Rows, batch int) ([]row, error) {
	defer rows.Close()
	got := make([]row, 0, batch)
	for rows.Next() {
		var r row
		var outcome string
		if err := rows.Scan(&r.id, &r.number, &outcome, &r.record); err != nil {
			return nil, err
		}
		r.outcome = rules.Outcome(outcome)
		got = append(got, r)
	}
	return got, rows.Err()
}

// stored is what a replay needs of a stored rules.Decision: not its
// trace, which is most of the record and would only slow the reading.
type stored struct {
	Today   string          `json:"today"`
	Reasons []rules.Reason  `json:"reasons"`
	Inputs  json.RawMessage `json:"inputs"`
}

// tally is one worker's counts.
type tally struct {
	rep    Report
	groups map[groupKey]*groupTally
}

type groupKey struct {
	from, to rules.Outcome
	code     string
}

type groupTally struct {
	text     catalog.Text
	count    int
	examples []example
}

type example struct {
	id     int64
	number string
}

func newTally() *tally { return &tally{groups: map[groupKey]*groupTally{}} }

// replay decides one stored decision again and counts it.
func (t *tally) replay(r row, protector *pii.Protector, opt Options) {
	plain, err := protector.OpenFor(r.record, "decisions.record")
	if err != nil {
		t.rep.Unreadable++
		return
	}
	var old stored
	if err := json.Unmarshal([]byte(plain), &old); err != nil {
		t.rep.Unreadable++
		return
	}
	var in rules.Input
	day, err := workday.ParseDate(old.Today)
	if err != nil || json.Unmarshal(old.Inputs, &in) != nil {
		t.rep.Unreadable++
		return
	}
	opt.Snapshot.apply(&in)
	// The original day: a rule that reads today, or is in force from a
	// day, sees what it saw, so only the rule change flips outcomes.
	now := opt.Program.Decide(in, rules.DecisionTime(day))
	t.rep.Replayed++
	t.rep.Before.add(r.outcome, 1)
	t.rep.After.add(now.Outcome, 1)
	if now.Outcome == r.outcome {
		return
	}
	reason := rules.Reason{Code: "-"}
	if len(now.Reasons) > 0 {
		reason = now.Reasons[0]
	} else if len(old.Reasons) > 0 {
		reason = old.Reasons[0]
	}
	k := groupKey{r.outcome, now.Outcome, reason.Code}
	g := t.groups[k]
	if g == nil {
		g = &groupTally{text: reason.Text}
		t.groups[k] = g
	}
	g.count++
	if len(g.examples) < examplesPerGroup {
		g.examples = append(g.examples, example{r.id, MaskNumber(r.number)})
	}
}

// merge adds the workers' tallies into one report.
func merge(ts []*tally) Report {
	var rep Report
	all := map[groupKey]*groupTally{}
	for _, t := range ts {
		rep.Replayed += t.rep.Replayed
		rep.Unreadable += t.rep.Unreadable
		for _, o := range []rules.Outcome{rules.Approve, rules.Reject, rules.Manual} {
			rep.Before.add(o, t.rep.Before.of(o))
			rep.After.add(o, t.rep.After.of(o))
		}
		for k, g := range t.groups {
			a := all[k]
			if a == nil {
				a = &groupTally{text: g.text}
				all[k] = a
			}
			a.count += g.count
			a.examples = append(a.examples, g.examples...)
		}
	}
	flips := map[[2]rules.Outcome]*Flip{}
	for k, g := range all {
		f := flips[[2]rules.Outcome{k.from, k.to}]
		if f == nil {
			f = &Flip{From: k.from, To: k.to}
			flips[[2]rules.Outcome{k.from, k.to}] = f
		}
		// Each worker kept its earliest; the earliest of all are among them.
		slices.SortFunc(g.examples, func(a, b example) int { return int(a.id - b.id) })
		ex := []string{}
		for _, e := range g.examples[:min(len(g.examples), examplesPerGroup)] {
			ex = append(ex, e.number)
		}
		f.Count += g.count
		f.Groups = append(f.Groups, Group{Code: k.code, Text: g.text, Count: g.count, Examples: ex})
	}
	rep.Flips = []Flip{}
	for _, f := range flips {
		slices.SortFunc(f.Groups, func(a, b Group) int {
			if a.Count != b.Count {
				return b.Count - a.Count
			}
			return strings.Compare(a.Code, b.Code)
		})
		rep.Flips = append(rep.Flips, *f)
	}
	slices.SortFunc(rep.Flips, func(a, b Flip) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(string(a.From)+string(a.To), string(b.From)+string(b.To))
	})
	return rep
}

func (c Counts) of(o rules.Outcome) int {
	switch o {
	case rules.Approve:
		return c.Approve
	case rules.Reject:
		return c.Reject
	}
	return c.Manual
}

// Flipped is how many decisions changed outcome.
func (r Report) Flipped() int {
	n := 0
	for _, f := range r.Flips {
		n += f.Count
	}
	return n
}

// MaskNumber hides the middle of an application number, keeping its
// region prefix and last digits: "9101022026120800001" → "9101***…001".
func MaskNumber(n string) string {
	if len(n) < 8 {
		return "***"
	}
	return n[:4] + "***…" + n[len(n)-3:]
}

// Snapshot is a changed data-source snapshot: registry fields by source,
// set in every replayed input, as if the registries now answered so.
type Snapshot map[string]hub.Record

// ReadSnapshot reads a YAML mapping of field paths to values, a path being
// source.field with or without a leading "sources.":
//
//	population.household_region: "910102"
func ReadSnapshot(b []byte) (Snapshot, error) {
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("the snapshot is not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	s := Snapshot{}
	for path, v := range m {
		source, field, ok := strings.Cut(strings.TrimPrefix(path, "sources."), ".")
		if !ok || source == "" || field == "" {
			return nil, fmt.Errorf("snapshot key %q is not a source field: write source.field, e.g. population.household_region", path)
		}
		if s[source] == nil {
			s[source] = hub.Record{}
		}
		s[source][field] = v
	}
	return s, nil
}

// apply sets the snapshot's fields in the input; a field so set is known.
func (s Snapshot) apply(in *rules.Input) {
	if len(s) == 0 {
		return
	}
	if in.Sources == nil {
		in.Sources = map[string]hub.Record{}
	}
	for source, fields := range s {
		rec := in.Sources[source]
		if rec == nil {
			rec = hub.Record{}
			in.Sources[source] = rec
		}
		for f, v := range fields {
			rec[f] = v
			in.Unknown = slices.DeleteFunc(in.Unknown, func(u string) bool {
				return u == "sources."+source || u == "sources."+source+"."+f
			})
		}
	}
}
