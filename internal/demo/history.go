package demo

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	licences "yiwang/internal/licence"
	"yiwang/internal/org"
	"yiwang/internal/pii"
	"yiwang/internal/rules"
	"yiwang/internal/store"
	"yiwang/internal/workday"
	"yiwang/internal/workflow"
)

// MaxHistory bounds the applications one history run writes.
const MaxHistory = 10_000_000

// historyKey is the settings row a finished history run leaves: a second
// run would number its applications again from the same days.
const historyKey = "demo_history_at"

// ErrHistoryWritten is WriteHistory's answer on a database that has its
// history: a second would number its applications again from the same days.
var ErrHistoryWritten = errors.New("this database has a demo history already: write another into a fresh demo database")

// HistoryOptions say how much past activity WriteHistory writes.
type HistoryOptions struct {
	Applications int
	// Persons is the size of the registries 'demo generate' wrote (its
	// --persons), so that applicants are persons of those registries; 0:
	// Applications / 5. Applicants are its first Applications / 5 persons.
	Persons  int
	Seed     uint64
	Today    time.Time             // history ends the day before; zero: today
	Progress func(done, total int) // persons, then applications; may be nil
}

// HistoryStats says what a history run wrote.
type HistoryStats struct {
	Applicants int
	Rows       map[string]int // by table
	Elapsed    time.Duration
}

// Total is the number of rows written.
func (s HistoryStats) Total() int { return total(s.Rows) }

// historyDays is how far back the history goes, in days: the years the shipped
// working-day calendar holds, so that every deadline is counted on a
// loaded year.
const historyDays = 2 * 365

// WriteHistory writes the past activity of a district into a demo database
// (one seeded by 'yiwang serve' with the demo catalogue and accounts):
// opts.Applications applications over the two years before today, made in
// time order by fictional applicants (persons with applicant accounts, and
// the demo people, who each get a few dozen at a million so that their
// lists have a realistic size) for the published items, weighted so that
// some are applied for far more than others. Each is written as the
// platform writes it — sealed form, answers, provenance and materials, its
// consent and the reads it made, its number, its timeline of events, a
// machine decision and spot check where the item is decided by machine,
// the tasks of its steps (done, or open in the departments' inboxes for
// the applications still under way), and the messages that told the
// applicant. Licences are left to IssueHistoryLicences: each
// is an SM2 signature.
//
// It writes as 'demo generate' does: rows made and sealed on one goroutine
// per CPU but one, one writer inserting them in multi-row statements in
// transactions of a few thousand applications. It needs the database to
// itself while it runs (it numbers rows itself) and runs once: a database
// that has a history refuses another.
func WriteHistory(ctx context.Context, db *store.DB, protector *pii.Protector, opts HistoryOptions) (HistoryStats, error) {
	began := time.Now()
	stats := HistoryStats{Rows: map[string]int{}}
	if opts.Applications < 1 || opts.Applications > MaxHistory {
		return stats, fmt.Errorf("the number of applications must be between 1 and %s, not %d", thousands(MaxHistory), opts.Applications)
	}
	h, err := planHistory(ctx, db, protector, opts)
	if err != nil {
		return stats, err
	}
	stats.Applicants = h.applicants
	total := h.applicants + opts.Applications
	done := 0
	progress := func(n int) {
		done += n
		if opts.Progress != nil {
			opts.Progress(done, total)
		}
	}
	progress(0)
	w, err := newWriter(ctx, db)
	if err != nil {
		return stats, err
	}
	closed := false
	defer func() {
		if !closed {
			w.close(false)
		}
	}()
	personChunks := (h.applicants + historyChunk - 1) / historyChunk
	if err := h.pipeline(ctx, w, personChunks, h.personChunk, stats.Rows, progress); err != nil {
		return stats, err
	}
	appChunks := (opts.Applications + historyChunk - 1) / historyChunk
	if err := h.pipeline(ctx, w, appChunks, h.applicationChunk, stats.Rows, progress); err != nil {
		return stats, err
	}
	if err := h.finish(ctx, w); err != nil {
		return stats, err
	}
	closed = true
	if err := w.close(true); err != nil {
		return stats, err
	}
	stats.Elapsed = time.Since(began)
	return stats, nil
}

// historyChunk is how many persons or applications a worker makes at a
// time; historyTx how many chunks one transaction writes.
const (
	historyChunk = 500
	historyTx    = 8
)

// histItem is a published item as the history applies for it.
type histItem struct {
	item      catalog.Item
	versionID int64
	stages    [][]workflow.Step
	sources   []string // the registry sources its form and materials read
	weight    float64  // cumulative, for picking
	auto      bool
	// licence is the holder kind of the licence the platform issues on
	// approval (person or enterprise), or "" where it issues none (no
	// output, or a licence issued outside the platform).
	licence string
	// computes works out its computed fields; nil when it has none.
	computes *rules.Program
}

// staff is a demo staff account.
type staff struct {
	id   int64
	name string
}

// history is what the generator needs to know about the database, read
// once before anything is written.
type history struct {
	opts       HistoryOptions
	backend    store.Backend
	pii        *pii.Protector
	builtin    *hub.Builtin
	gen        *Generator
	cal        *workday.Calendar
	items      []histItem // target person or both
	entItems   []histItem // target enterprise or both
	applicants int
	demo       []demoApplicant
	company    int64
	hall       string
	clerk      staff
	staffOf    map[string]staff // department + "/" + role, and "hall:" + hall code + "/" + role
	hallIDs    map[string]int64 // by code
	start, end time.Time
	// first ids of the rows numbered here, and the application numbers'
	// sequences of each day: seq[k] is application k's, 0 for a draft.
	personBase, accountBase, appBase, consentBase int64
	seq                                           []int32
	now                                           time.Time
}

// demoApplicant is one of the demo people.
type demoApplicant struct {
	person, account int64
	id, name        string
	company         bool // acts for the demo company too
}

func planHistory(ctx context.Context, db *store.DB, protector *pii.Protector, opts HistoryOptions) (*history, error) {
	if opts.Today.IsZero() {
		opts.Today = time.Now()
	}
	h := &history{opts: opts, backend: db.Backend, pii: protector, builtin: hub.NewBuiltin(db, protector), staffOf: map[string]staff{}, hallIDs: map[string]int64{}, now: time.Now().UTC()}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM settings WHERE key = $1`, historyKey).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, ErrHistoryWritten
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM settings WHERE key = $1`, seededKey).Scan(&n); err != nil || n == 0 {
		return nil, errors.Join(err, errors.New("not a demo database: start 'yiwang serve' on it once first (with --demo on PostgreSQL), so that the demo catalogue and accounts are there"))
	}
	h.applicants = max(1, opts.Applications/5)
	persons := max(opts.Persons, h.applicants)
	if persons > MaxGenerated {
		return nil, fmt.Errorf("at most %s persons", thousands(MaxGenerated))
	}
	var err error
	if h.gen, err = NewGenerator(persons, 0, opts.Seed, opts.Today); err != nil {
		return nil, err
	}
	ws, err := workday.NewStore(ctx, db)
	if err != nil {
		return nil, err
	}
	if h.cal, err = ws.Calendar(ctx); err != nil {
		return nil, err
	}
	y, m, d := opts.Today.In(workday.CST).Date()
	h.end = time.Date(y, m, d, 0, 0, 0, 0, workday.CST)
	h.start = h.end.AddDate(0, 0, -historyDays)

	published, err := catalog.NewStore(db).Published(ctx)
	if err != nil {
		return nil, err
	}
	holders := map[string]string{}
	types, err := store.All(ctx, db, func(row store.Scanner) ([2]string, error) {
		var t [2]string
		return t, row.Scan(&t[0], &t[1])
	}, `SELECT code, holder FROM licence_types WHERE issuer <> 'external'`)
	if err != nil {
		return nil, err
	}
	for _, t := range types {
		holders[t[0]] = t[1]
	}
	var wp, we float64
	for k, v := range published {
		it := histItem{item: v.Item, versionID: v.ID, auto: v.Item.Approval.Mode == "auto",
			stages: workflow.Stages(stepsOf(v.Item)), sources: itemSources(v.Item)}
		if st, ok := application.ManualRouteStep(v.Item); ok {
			it.stages = [][]workflow.Step{{st}} // the machine's manual cases, the only ones that reach people
		}
		if out := v.Item.Output; out != nil && out.Holder == "" {
			// A licence held by a co-party (a transfer's buyer) is left
			// out: the history has no co-parties to give it to.
			it.licence = holders[out.Licence]
		}
		if len(rules.ComputedFields(v.Item)) > 0 {
			var problems []rules.Problem
			if it.computes, problems = rules.Compile(v.Item); len(problems) > 0 {
				return nil, fmt.Errorf("item %s: %s", v.Item.Code, problems[0])
			}
		}
		// Some items are applied for far more than others: a Zipf-like
		// weight over the catalogue's order.
		weight := 1 / float64(1+k%12)
		if it.item.Target != "enterprise" {
			wp += weight
			it.weight = wp
			h.items = append(h.items, it)
		}
		if it.item.Target != "person" {
			we += weight
			it.weight = we
			h.entItems = append(h.entItems, it)
		}
	}
	if len(h.items) == 0 {
		return nil, errors.New("no published item is for persons: publish the demo catalogue first")
	}
	for k, p := range demoPersons() {
		a := demoApplicant{id: p.id, name: p.name, company: k < 2}
		err := db.QueryRowContext(ctx, `SELECT p.id, a.id FROM persons p JOIN accounts a ON a.person_id = p.id WHERE p.id_number_idx = $1`,
			protector.Index(p.id)).Scan(&a.person, &a.account)
		if err != nil {
			return nil, fmt.Errorf("demo person %s: %w (not a demo database?)", p.name, err)
		}
		h.demo = append(h.demo, a)
	}
	if err := db.QueryRowContext(ctx, `SELECT id FROM enterprises WHERE credit_code = $1`, DemoCompany).Scan(&h.company); err != nil {
		return nil, fmt.Errorf("demo company: %w", err)
	}
	h.hall = "mingde-center"
	rows, err := store.All(ctx, db, func(row store.Scanner) (struct {
		s                staff
		dept, role, hall string
	}, error) {
		var r struct {
			s                staff
			dept, role, hall string
		}
		err := row.Scan(&r.s.id, &r.s.name, &r.dept, &r.role, &r.hall)
		return r, err
	}, `SELECT a.id, a.display_name, COALESCE(a.department_code, ''), r.role, COALESCE(h.code, '') FROM accounts a JOIN account_roles r ON r.account_id = a.id
		LEFT JOIN halls h ON h.id = a.hall_id WHERE a.kind = 'staff' ORDER BY a.id`)
	if err != nil {
		return nil, err
	}
	halls, err := store.All(ctx, db, func(row store.Scanner) (org.Hall, error) {
		var x org.Hall
		return x, row.Scan(&x.ID, &x.Code)
	}, `SELECT id, code FROM halls`)
	if err != nil {
		return nil, err
	}
	for _, x := range halls {
		h.hallIDs[x.Code] = x.ID
	}
	for _, r := range rows {
		if _, ok := h.staffOf[r.dept+"/"+r.role]; !ok {
			h.staffOf[r.dept+"/"+r.role] = r.s
		}
		if _, ok := h.staffOf["hall:"+r.hall+"/"+r.role]; r.hall != "" && !ok {
			h.staffOf["hall:"+r.hall+"/"+r.role] = r.s
		}
		if r.role == "clerk" && h.clerk.id == 0 {
			h.clerk = r.s
		}
	}
	for _, b := range []struct {
		table string
		base  *int64
	}{{"persons", &h.personBase}, {"accounts", &h.accountBase}, {"applications", &h.appBase}, {"consents", &h.consentBase}} {
		if err := db.QueryRowContext(ctx, `SELECT COALESCE(max(id), 0) FROM `+b.table).Scan(b.base); err != nil {
			return nil, err
		}
	}
	last, err := store.All(ctx, db, func(row store.Scanner) (struct {
		prefix string
		last   int64
	}, error) {
		var r struct {
			prefix string
			last   int64
		}
		err := row.Scan(&r.prefix, &r.last)
		return r, err
	}, `SELECT prefix, last FROM application_numbers`)
	if err != nil {
		return nil, err
	}
	taken := map[string]int64{}
	for _, r := range last {
		taken[r.prefix] = r.last
	}
	// Numbers are given at submission, a sequence a day: worked out here,
	// in order, so that the workers can make any chunk on its own.
	h.seq = make([]int32, opts.Applications)
	day, n32 := "", int32(0)
	for k := range h.seq {
		if h.isDraft(k) {
			continue
		}
		if p := h.prefix(h.createdAt(k)); p != day {
			day, n32 = p, int32(taken[p])
		}
		n32++
		h.seq[k] = n32
	}
	return h, nil
}

// stepsOf are an item's steps without situations answered: those that
// apply to every answer, or the default steps.
func stepsOf(it catalog.Item) []workflow.Step {
	var out []workflow.Step
	for _, st := range it.Steps {
		if len(st.When) == 0 {
			out = append(out, workflow.Step{ID: st.ID, NameZh: st.Name.Zh, NameEn: st.Name.En, Department: st.Department, Role: st.Role, Days: st.Days, Group: st.Group})
		}
	}
	if len(out) == 0 {
		return workflow.DefaultSteps(it.Department, max(it.TimeLimit.PromisedDays, 1))
	}
	return out
}

// itemSources are the registry sources an item's form and materials read.
func itemSources(it catalog.Item) []string {
	var out []string
	add := func(s string) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, f := range it.Form {
		if f.Prefill != nil {
			if src, _, ok := hub.Named(f.Prefill.Source); ok {
				add(src.Name)
			}
		}
	}
	for _, m := range it.Materials {
		for _, s := range m.Sources {
			if s.Licence != "" {
				add("licence." + s.Licence)
			}
			if src, _, ok := hub.Named(s.Registry); ok && s.Registry != "" {
				add(src.Name)
			}
		}
	}
	return out
}

// createdAt is when application k was started: evenly over the history,
// so that ids follow time as they do on the platform.
func (h *history) createdAt(k int) time.Time {
	span := h.end.Sub(h.start)
	return h.start.Add(time.Duration(float64(span) * (float64(k) + 0.5) / float64(h.opts.Applications))).UTC()
}

func (h *history) prefix(at time.Time) string {
	return "910102-" + at.In(workday.CST).Format("20060102")
}

// isDraft reports whether application k was never submitted: about one in
// twenty-five.
func (h *history) isDraft(k int) bool { return mix(h.opts.Seed^mix(uint64(k)+0x5eed))%25 == 0 }

// pipeline makes chunks 0..chunks-1 with build (see fanOut) and writes
// them in order, historyTx chunks a transaction.
func (h *history) pipeline(ctx context.Context, w *writer, chunks int, build func(k int) (*histBatch, error), rows map[string]int, progress func(int)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	made := fanOut(ctx, chunks, func() func(k int) *histBatch {
		return func(k int) *histBatch {
			b, err := build(k)
			if err != nil {
				b = &histBatch{err: err}
			}
			b.seq = k
			return b
		}
	})
	early := map[int]*histBatch{}
	next := 0
	var pending []*histBatch
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		err := w.writeTables(ctx, pending, rows)
		for _, b := range pending {
			progress(b.subjects)
		}
		pending = pending[:0]
		return err
	}
	for b := range made {
		if b.err != nil {
			return b.err
		}
		early[b.seq] = b
		for {
			b, ok := early[next]
			if !ok {
				break
			}
			delete(early, next)
			next++
			if pending = append(pending, b); len(pending) == historyTx {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if next < chunks {
		return errors.New("demo history: a chunk was lost")
	}
	return flush()
}

// table is rows of one table, as values in column order.
type table struct {
	name string
	cols []string
	ids  bool // the first column is an identity column given explicitly
	vals []any
}

func (t *table) add(vals ...any) { t.vals = append(t.vals, vals...) }

func (t *table) rows() int { return len(t.vals) / len(t.cols) }

// histBatch is the rows of one chunk, tables in the order they are written
// (a row's references first).
type histBatch struct {
	tables   []*table
	subjects int
	seq      int
	err      error
}

func (b *histBatch) table(name string, ids bool, cols ...string) *table {
	t := &table{name: name, cols: cols, ids: ids}
	b.tables = append(b.tables, t)
	return t
}

// insertTableSQL is the INSERT of n rows of t's columns.
func insertTableSQL(backend store.Backend, t *table, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) ", t.name, strings.Join(t.cols, ", "))
	if t.ids && backend == store.Postgres {
		b.WriteString("OVERRIDING SYSTEM VALUE ")
	}
	b.WriteString("VALUES ")
	p := 0
	for r := range n {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range t.cols {
			if c > 0 {
				b.WriteByte(',')
			}
			if backend == store.SQLite {
				b.WriteByte('?')
			} else {
				p++
				b.WriteString("$" + strconv.Itoa(p))
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// writeTables inserts the batches in one transaction, table by table in
// the batches' order, counting the rows in rows.
func (w *writer) writeTables(ctx context.Context, batches []*histBatch, rows map[string]int) error {
	tx, err := w.begin(ctx)
	if err != nil {
		return fmt.Errorf("begin writing the demo history: %w", err)
	}
	defer tx.Rollback()
	stmts := map[string]*sql.Stmt{}
	defer func() {
		for _, s := range stmts {
			s.Close()
		}
	}()
	for i := range batches[0].tables {
		// The same table of every batch, then the next table.
		merged := *batches[0].tables[i]
		merged.vals = nil
		for _, b := range batches {
			merged.vals = append(merged.vals, b.tables[i].vals...)
		}
		per := min(500, 30_000/len(merged.cols))
		n := merged.rows()
		for at := 0; at < n; at += per {
			m := min(per, n-at)
			args := merged.vals[at*len(merged.cols) : (at+m)*len(merged.cols)]
			key := merged.name + "/" + strconv.Itoa(m)
			st, ok := stmts[key]
			if !ok {
				if st, err = tx.PrepareContext(ctx, insertTableSQL(w.backend, &merged, m)); err != nil {
					return fmt.Errorf("prepare the insert into %s: %w", merged.name, err)
				}
				stmts[key] = st
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("write %s: %w", merged.name, err)
			}
		}
		rows[merged.name] += n
	}
	if err := w.commit(tx); err != nil {
		return fmt.Errorf("commit the demo history: %w", err)
	}
	return nil
}

// personChunk makes the applicants of chunk k: person, applicant account
// and its role, as registration writes them.
func (h *history) personChunk(k int) (*histBatch, error) {
	b := &histBatch{}
	persons := b.table("persons", true, "id", "id_number_enc", "id_number_idx", "name", "birth_date", "sex", "created_at")
	accounts := b.table("accounts", true, "id", "kind", "person_id", "display_name", "real_name_level", "created_at", "updated_at")
	roles := b.table("account_roles", false, "account_id", "role", "granted_at")
	grants := b.table("role_grants", false, "account_id", "role", "granted_at")
	for i := k * historyChunk; i < min((k+1)*historyChunk, h.applicants); i++ {
		p := h.gen.core(i)
		enc, err := h.pii.SealFor(p.id, "persons.id_number")
		if err != nil {
			return nil, err
		}
		sex := "female"
		if p.male {
			sex = "male"
		}
		id, acc := h.personBase+int64(i)+1, h.accountBase+int64(i)+1
		at := h.start.UTC()
		persons.add(id, enc, h.pii.Index(p.id), p.name, p.birth.Format(time.DateOnly), sex, at)
		accounts.add(acc, "person", id, p.name, 2, at, at)
		roles.add(acc, "applicant", at)
		grants.add(acc, "applicant", at)
		b.subjects++
	}
	return b, nil
}

// applicant is who made an application.
type applicant struct {
	person, account int64
	id, name        string
	enterprise      int64
}

// applicantOf is who made application k: now and then a demo person (each
// gets about one in 20,000, at least three), otherwise one of the
// generated applicants.
func (h *history) applicantOf(k int, r *rand.Rand) applicant {
	n := h.opts.Applications
	share := max(3, n/20_000)
	if stride := max(1, n/(len(h.demo)*share)); k%stride == 0 && k/stride < len(h.demo)*share {
		d := h.demo[(k/stride)%len(h.demo)]
		a := applicant{person: d.person, account: d.account, id: d.id, name: d.name}
		if d.company && len(h.entItems) > 0 && r.IntN(4) == 0 {
			a.enterprise = h.company
		}
		return a
	}
	i := int(mix(h.opts.Seed^uint64(k)*0x9e37) % uint64(h.applicants))
	p := h.gen.core(i)
	return applicant{person: h.personBase + int64(i) + 1, account: h.accountBase + int64(i) + 1, id: p.id, name: p.name}
}

func pickItem(r *rand.Rand, items []histItem) histItem {
	x := r.Float64() * items[len(items)-1].weight
	for _, it := range items {
		if x < it.weight {
			return it
		}
	}
	return items[len(items)-1]
}

// appTables are the tables of an application chunk.
type appTables struct {
	consents, apps, events, decisions, spot, tasks, reads, messages *table
}

// applicationChunk makes the applications of chunk k with everything the
// platform writes with them.
func (h *history) applicationChunk(k int) (*histBatch, error) {
	b := &histBatch{}
	t := appTables{
		consents: b.table("consents", true, "id", "account_id", "subject_idx", "sources", "purpose", "application", "created_at", "expires_at"),
		apps: b.table("applications", true, "id", "item_code", "version_id", "account_id", "person_id", "enterprise_id", "status", "answers", "form", "provenance",
			"materials", "mismatches", "consent_id", "fields_total", "fields_prefilled", "materials_total", "materials_attached", "created_at", "updated_at",
			"submitted_at", "number", "channel", "hall_code", "intake_by", "stage", "accepted_at", "deadline", "decided_at", "reasons", "revision"),
		events:    b.table("application_events", false, "application_id", "at", "actor_kind", "actor_id", "actor_name", "action", "from_status", "to_status", "note", "details"),
		decisions: b.table("decisions", false, "application_id", "outcome", "version_id", "rules_digest", "inputs_digest", "record", "took_ns", "actor", "decided_at"),
		spot:      b.table("spot_checks", false, "application_id", "item_code", "status", "created_at", "checked_by", "checked_at", "department", "mode", "inspector", "due_at"),
		tasks: b.table("tasks", false, "application_id", "stage", "step_id", "name_zh", "name_en", "department", "role", "days", "grp", "status",
			"assignee", "opened_at", "deadline", "claimed_at", "done_at", "done_by", "reasons", "hall_id"),
		reads:    b.table("data_reads", false, "at", "subject_idx", "source", "fields", "reader", "reader_name", "purpose", "application", "consent_id", "outcome"),
		messages: b.table("outbox_messages", false, "account_id", "person_id", "kind", "channel", "title_zh", "title_en", "body_zh", "body_en", "link", "application_id", "status", "attempts", "created_at", "delivered_at", "read_at"),
	}
	for i := k * historyChunk; i < min((k+1)*historyChunk, h.opts.Applications); i++ {
		if err := h.application(i, t); err != nil {
			return nil, err
		}
		b.subjects++
	}
	return b, nil
}

// life is what happens to one application, worked out before its rows.
type life struct {
	app       applicant
	it        histItem
	id        int64
	created   time.Time
	status    string
	number    string
	channel   string
	submitted time.Time
	accepted  time.Time
	decided   time.Time
	deadline  time.Time
	stage     int
	stageAt   []time.Time // when each stage it reached opened
	reasons   []string
	revision  int
	outcome   rules.Outcome // the machine's, if it decided
	events    []histEvent
	lastAt    time.Time
}

type histEvent struct {
	at               time.Time
	kind             string
	actorID          int64
	actorName        string
	action, from, to string
	note             string
}

func (l *life) event(at time.Time, kind string, id int64, name, action, from, to, note string) {
	l.events = append(l.events, histEvent{at, kind, id, name, action, from, to, note})
	l.lastAt = at
	if action != "start" {
		l.revision++
	}
}

// application makes application k's rows into t.
func (h *history) application(k int, t appTables) error {
	r := rand.New(rand.NewPCG(mix(h.opts.Seed^mix(0xa99)), mix(uint64(k))))
	l := life{id: h.appBase + int64(k) + 1, created: h.createdAt(k), revision: 1}
	l.app = h.applicantOf(k, r)
	if l.app.enterprise != 0 {
		l.it = pickItem(r, h.entItems)
	} else {
		l.it = pickItem(r, h.items)
	}
	it := l.it.item
	l.channel = []string{"web", "web", "web", "web", "web", "web", "mobile", "mobile", "mobile", "window"}[r.IntN(10)]
	if l.channel == "window" && l.app.enterprise != 0 {
		l.channel = "web"
	}
	l.event(l.created, "applicant", l.app.account, l.app.name, "start", "", "draft", l.channel)
	l.status = "draft"
	if !h.isDraft(k) {
		h.live(&l, r)
	}

	// The consent and the reads of the prefill, as Start makes them.
	consent := h.consentBase + int64(k) + 1
	subject := hub.Subject{Kind: hub.Person, Key: l.app.id}
	idx := h.builtin.SubjectIndex(subject)
	purpose := "申请「" + it.Name.Zh + "」预填"
	t.consents.add(consent, l.app.account, idx, strings.Join(l.it.sources, " "), purpose, l.id, l.created, l.created.Add(24*time.Hour))
	for _, src := range l.it.sources {
		t.reads.add(l.created, idx, src, "*", l.app.account, l.app.name, purpose, l.id, consent, "ok")
	}

	form, prov, mats := h.formOf(l.app, it, l.it.computes, l.created)
	sealed := make([]string, 5)
	for c, v := range []any{map[string]string{}, form, prov, mats, []application.Mismatch{}} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		col := []string{"answers", "form", "provenance", "materials", "mismatches"}[c]
		if sealed[c], err = h.pii.SealFor(string(b), "applications."+col); err != nil {
			return err
		}
	}
	attached := 0
	for _, m := range mats {
		if m.Attached {
			attached++
		}
	}
	reasons, _ := json.Marshal(l.reasons)
	if l.reasons == nil {
		reasons = []byte("[]")
	}
	var hall, intake any
	if l.channel == "window" {
		hall, intake = h.hall, nullID(h.clerk.id)
	}
	var enterprise any
	if l.app.enterprise != 0 {
		enterprise = l.app.enterprise
	}
	t.apps.add(l.id, it.Code, l.it.versionID, l.app.account, l.app.person, enterprise, l.status, sealed[0], sealed[1], sealed[2],
		sealed[3], sealed[4], consent, len(form), len(prov), len(mats), attached, l.created, l.lastAt,
		nullTime(l.submitted), nullString(l.number), l.channel, hall, intake, l.stage, nullTime(l.accepted), nullTime(l.deadline), nullTime(l.decided), string(reasons), l.revision)
	for _, e := range l.events {
		note, err := h.pii.SealFor(e.note, "application_events.note")
		if err != nil {
			return err
		}
		details, err := h.pii.SealFor("{}", "application_events.details")
		if err != nil {
			return err
		}
		t.events.add(l.id, e.at, e.kind, nullID(e.actorID), e.actorName, e.action, e.from, e.to, note, details)
	}
	if l.outcome != "" {
		if err := h.decision(&l, t, r); err != nil {
			return err
		}
	}
	h.tasks(&l, t, r)
	h.messages(&l, t, r)
	return nil
}

// live takes a submitted application through its life: decided by machine
// at once, or through its steps, still under way if it is recent.
func (h *history) live(l *life, r *rand.Rand) {
	it := l.it.item
	l.submitted = l.created.Add(time.Duration(2+r.IntN(40)) * time.Minute)
	l.number = fmt.Sprintf("%s-%06d", h.prefix(l.created), h.seq[l.id-h.appBase-1]) // the day it was started: submitted minutes later
	who := l.app.name
	kind := "applicant"
	if l.channel == "window" {
		who, kind = h.clerk.name, "staff"
	}
	l.event(l.submitted, kind, l.app.account, who, "submit", "draft", "submitted", "")
	l.status = "submitted"
	if l.it.auto {
		switch x := r.IntN(100); {
		case x < 70:
			l.outcome = rules.Approve
		case x < 95:
			l.outcome = rules.Reject
		default:
			l.outcome = rules.Manual
		}
		at := l.submitted.Add(time.Duration(50+r.IntN(400)) * time.Millisecond)
		switch l.outcome {
		case rules.Approve:
			l.decided = at
			l.event(at, "machine", 0, "自动审批", "approve", "submitted", "approved", "")
			h.approved(l, at)
			return
		case rules.Reject:
			l.decided = at
			l.reasons = []string{rejectReason(it)}
			l.event(at, "machine", 0, "自动审批", "reject", "submitted", "rejected", l.reasons[0])
			l.status = "rejected"
			return
		}
	}
	// Through the steps: acceptance at the window, then the review stages,
	// each done within its time limit but now and then (one in twenty)
	// late. An application whose steps reach past the end of the history
	// is under way: waiting for acceptance, or in the stage it reached.
	fate := r.IntN(100)
	l.stageAt = []time.Time{l.submitted}
	acceptAt := l.submitted.Add(h.took(r, l.submitted, l.it.stages[0]))
	switch {
	case acceptAt.After(h.end):
		return // waits for acceptance
	case fate < 3:
		l.event(acceptAt, "applicant", l.app.account, l.app.name, "withdraw", "submitted", "withdrawn", "")
		l.status = "withdrawn"
		return
	case fate < 7:
		l.decided = acceptAt
		l.reasons = []string{"申请事项不属于本机关职权范围"}
		l.event(acceptAt, "staff", h.clerk.id, h.clerk.name, "refuse", "submitted", "not_accepted", l.reasons[0])
		l.status = "not_accepted"
		return
	}
	l.accepted = acceptAt
	l.deadline, _ = h.cal.Deadline(acceptAt, max(it.TimeLimit.PromisedDays, 1))
	l.event(acceptAt, "staff", h.clerk.id, h.clerk.name, "accept", "submitted", "accepted", "")
	l.event(acceptAt, "system", 0, "系统", "start_review", "accepted", "under_review", "")
	l.status = "under_review"
	at := acceptAt
	for s := 1; s < len(l.it.stages); s++ {
		l.stageAt = append(l.stageAt, at)
		l.stage = s
		next := at.Add(h.took(r, at, l.it.stages[s]))
		if next.After(h.end) {
			return // this stage is under way
		}
		at = next
	}
	dept := h.staffFor(it.Department, "head")
	l.decided = at
	if fate < 88 {
		l.event(at, "staff", dept.id, dept.name, "approve", "under_review", "approved", "")
		h.approved(l, at)
		return
	}
	l.reasons = []string{rejectReason(it)}
	l.event(at, "staff", dept.id, dept.name, "reject", "under_review", "rejected", l.reasons[0])
	l.status = "rejected"
}

// took is how long a stage opened at at takes: a random part of its time
// limit, at least an hour, or one time in twenty up to three days more.
func (h *history) took(r *rand.Rand, at time.Time, stage []workflow.Step) time.Duration {
	days := 0
	for _, st := range stage {
		days = max(days, st.Days)
	}
	due, _ := h.cal.Deadline(at, days)
	span := due.Sub(at) - time.Hour
	if span <= 0 || r.IntN(20) == 0 {
		return max(span, 0) + time.Duration(1+r.IntN(72))*time.Hour
	}
	return time.Hour + time.Duration(r.Int64N(int64(span)))
}

// approved is what follows an approval: the licence, where the platform
// issues one for this applicant (its row is IssueHistoryLicences's), or
// the note that it was not.
func (h *history) approved(l *life, at time.Time) {
	l.status = "approved"
	switch holder := l.it.licence; {
	case holder == "person" || holder == "enterprise" && l.app.enterprise != 0:
		l.event(at, "system", 0, "系统", "issue", "approved", "licence_issued", "")
		l.status = "licence_issued"
	case l.it.item.Output != nil:
		l.event(at, "system", 0, "系统", "licence_not_issued", "approved", "approved", "no licence issued here for this applicant")
	}
}

func rejectReason(it catalog.Item) string {
	for _, r := range it.Rules {
		if r.OnFail == "reject" && r.Reason.Zh != "" {
			return r.Reason.Zh
		}
	}
	return "申请材料不符合法定形式"
}

// staffFor is the demo staff member who works a department's steps of a
// role, or 0 where the demo has none.
func (h *history) staffFor(dept, role string) staff {
	if s, ok := h.staffOf[dept+"/"+role]; ok {
		return s
	}
	if role == "head" {
		if s, ok := h.staffOf[dept+"/reviewer"]; ok {
			return s
		}
	}
	return staff{name: "审批人员"}
}

// decision writes the machine's decision record and, for an approval, the
// spot check it may have drawn.
func (h *history) decision(l *life, t appTables, r *rand.Rand) error {
	it := l.it.item
	d := rules.Decision{Outcome: l.outcome, Item: it.Code, Version: l.it.versionID, Actor: "machine", At: l.submitted,
		Today: l.submitted.In(workday.CST).Format(time.DateOnly), Reasons: []rules.Reason{}, Rules: []rules.RuleTrace{}, TookNS: int64(200_000 + r.IntN(3_000_000))}
	for _, rule := range it.Rules {
		res := rules.Result("true")
		if l.outcome == rules.Reject && rule.OnFail == "reject" && len(d.Reasons) == 0 {
			res = rules.Result("false")
			d.Reasons = append(d.Reasons, rules.Reason{Code: rule.ID, Text: rule.Reason})
		}
		d.Rules = append(d.Rules, rules.RuleTrace{ID: rule.ID, OnFail: rule.OnFail, InForce: true, Applies: true, Result: res})
	}
	if l.outcome == rules.Manual {
		d.Reasons = append(d.Reasons, rules.Reason{Code: "credit.unknown", Text: catalog.Text{Zh: "信用信息暂不可用，转人工审核", En: "Credit data are unavailable; a person will review it"}})
	}
	d.Inputs = json.RawMessage(`{"applicant":{"kind":"person"}}`)
	sum := sha256.Sum256(d.Inputs)
	d.InputsDigest = hex.EncodeToString(sum[:])
	sum = sha256.Sum256([]byte(it.Code + strconv.FormatInt(l.it.versionID, 10)))
	d.RulesDigest = hex.EncodeToString(sum[:])
	record, err := json.Marshal(d)
	if err != nil {
		return err
	}
	sealed, err := h.pii.SealFor(string(record), "decisions.record")
	if err != nil {
		return err
	}
	t.decisions.add(l.id, string(d.Outcome), l.it.versionID, d.RulesDigest, d.InputsDigest, sealed, d.TookNS, "machine", d.At)
	if l.outcome == rules.Approve && it.Approval.SamplePercent > 0 && r.Float64()*100 < it.Approval.SamplePercent {
		// Assigned to the department's inspector (双随机), due in two weeks:
		// about ten working days.
		inspector := nullID(h.staffFor(it.Department, "reviewer").id)
		due := l.submitted.AddDate(0, 0, 14)
		if l.created.Before(h.end.AddDate(0, 0, -30)) {
			t.spot.add(l.id, it.Code, "confirmed", l.submitted, inspector, l.submitted.Add(72*time.Hour), it.Department, "auto", inspector, due)
		} else {
			t.spot.add(l.id, it.Code, "open", l.submitted, nil, nil, it.Department, "auto", inspector, due)
		}
	}
	return nil
}

// tasks writes the tasks of an application that went to its steps: done
// for the stages behind it, open (some claimed) for the stage it is in,
// waiting after it, cancelled after a refusal or a rejection.
func (h *history) tasks(l *life, t appTables, r *rand.Rand) {
	if len(l.stageAt) == 0 {
		return // a draft, a machine decision
	}
	refusedAt := -1
	switch l.status {
	case "not_accepted":
		refusedAt = 0
	case "rejected":
		refusedAt = len(l.stageAt) - 1
	}
	for s, stage := range l.it.stages {
		for _, st := range stage {
			who := h.staffFor(st.Department, st.Role)
			var hall any
			if st.Hall != "" {
				who, hall = h.staffFor("hall:"+st.Hall, st.Role), nullID(h.hallIDs[st.Hall])
			}
			if st.Role == "clerk" {
				who = h.clerk
			}
			status, reasons := "waiting", "[]"
			var opened, deadline, claimed, assignee, done, by any
			if s < len(l.stageAt) {
				open := l.stageAt[s]
				dl, _ := h.cal.Deadline(open, st.Days)
				opened, deadline = open, dl
				var end time.Time
				switch {
				case s+1 < len(l.stageAt):
					end = l.stageAt[s+1]
				case !l.decided.IsZero():
					end = l.decided
				}
				switch {
				case l.status == "withdrawn":
					status = "cancelled"
				case end.IsZero():
					status = "open"
					if who.id != 0 && r.IntN(10) == 0 {
						status, claimed, assignee = "claimed", open.Add(time.Hour), who.id
					}
				case s == refusedAt:
					b, _ := json.Marshal(l.reasons)
					status, reasons, done, by, assignee = "rejected", string(b), end, nullID(who.id), nullID(who.id)
				default:
					status, done, by, assignee = "approved", end, nullID(who.id), nullID(who.id)
				}
			} else if refusedAt >= 0 || l.status == "withdrawn" {
				status = "cancelled"
			}
			t.tasks.add(l.id, s, st.ID, st.NameZh, st.NameEn, st.Department, st.Role, st.Days, st.Group, status, assignee, opened, deadline, claimed, done, by, reasons, hall)
		}
	}
}

// messages writes what told the applicant of the decision: delivered in
// the app's inbox, most of them read.
func (h *history) messages(l *life, t appTables, r *rand.Rand) {
	zh, en := map[string]string{"approved": "已准予", "licence_issued": "已准予", "rejected": "未予准许", "not_accepted": "不予受理"}[l.status],
		map[string]string{"approved": "approved", "licence_issued": "approved", "rejected": "rejected", "not_accepted": "not accepted"}[l.status]
	if zh == "" {
		return
	}
	account, person := any(l.app.account), any(nil)
	if l.channel == "window" {
		account, person = nil, l.app.person
	}
	var read any
	if l.decided.Before(h.end.AddDate(0, 0, -7)) || r.IntN(2) == 0 {
		read = l.decided.Add(time.Duration(1+r.IntN(72)) * time.Hour)
	}
	kind, titleZh, titleEn := "decision", "办件 "+l.number+" "+zh, "Application "+l.number+" "+en
	bodyZh, bodyEn := "详情及理由见办件页面。", "The details and reasons are on the application's page."
	if l.status == "licence_issued" {
		kind, titleZh, titleEn = "licence_issued", "办件 "+l.number+" 已办结，电子证照已签发", "Application "+l.number+" is approved and its e-licence issued"
		bodyZh, bodyEn = "「"+l.it.item.Name.Zh+"」的电子证照可在“我的证照”查看、下载和分享。", "The e-licence of "+l.it.item.Name.En+" is under My licences."
	}
	t.messages.add(account, person, kind, "in_app", titleZh, titleEn, bodyZh, bodyEn, fmt.Sprintf("/applications/%d", l.id), l.id,
		"delivered", 1, l.decided, l.decided.Add(time.Second), read)
}

// formOf is the application's form as the prefill fills it: the
// applicant's own data where a field names a source, the computed fields
// as computes works them out, plausible values elsewhere, and its
// materials attached from licences and registries.
func (h *history) formOf(a applicant, it catalog.Item, computes *rules.Program, at time.Time) (map[string]any, map[string]application.Provenance, []application.Material) {
	form := map[string]any{}
	prov := map[string]application.Provenance{}
	for _, f := range it.Form {
		if len(f.When) > 0 {
			continue
		}
		var v any
		switch f.Type {
		case "number":
			v = 1.0
		case "date":
			v = at.In(workday.CST).Format(time.DateOnly)
		case "enum":
			if len(f.Options) > 0 {
				v = f.Options[0].Value
			}
		case "bool":
			v = true
		case "id_number":
			v = a.id
		case "phone":
			v = "13900000000"
		case "address":
			v = "示范市明德区福安街道示范路1号"
		case "file", "table":
			continue
		default:
			v = "示例"
		}
		if f.Prefill != nil {
			if strings.HasSuffix(f.Prefill.Source, ".name") {
				v = a.name
			}
			label := "申请人账户" // applicant.*: what the account knows
			if src, _, ok := hub.Named(f.Prefill.Source); ok {
				label = src.LabelZh
			}
			prov[f.ID] = application.Provenance{Source: f.Prefill.Source, Label: label, Editable: f.Prefill.Editable, Status: "filled", Value: v}
		}
		form[f.ID] = v
	}
	if computes != nil {
		// The values the system computes, on what the applicant's ID
		// number says; those that need registry data are left empty.
		rules.SetComputed(form, computes.Compute(rules.Input{Applicant: rules.Applicant{Name: a.name, IDNumber: a.id, Kind: "person"}, Form: form}, at))
		for _, id := range rules.ComputedFields(it) {
			prov[id] = application.Provenance{Source: "computed", Label: "系统计算", Status: "computed"}
		}
	}
	var mats []application.Material
	for _, m := range it.Materials {
		if len(m.When) > 0 {
			continue
		}
		mat := application.Material{ID: m.ID, Name: m.Name.Zh, Required: m.Required}
		for _, s := range m.Sources {
			switch {
			case s.Licence != "":
				mat.Attached, mat.Source, mat.Trust = true, "licence:"+s.Licence, "A"
			case s.Registry != "":
				mat.Attached, mat.Source, mat.Trust = true, "registry:"+s.Registry, "A"
			}
			if mat.Attached {
				break
			}
		}
		mats = append(mats, mat)
	}
	if mats == nil {
		mats = []application.Material{}
	}
	return form, prov, mats
}

// finish brings the sequences the rows were numbered past up to date and
// marks the database as having its history.
func (h *history) finish(ctx context.Context, w *writer) error {
	tx, err := w.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	last := map[string]int32{}
	for k, n := range h.seq {
		if n > 0 {
			p := h.prefix(h.createdAt(k))
			last[p] = max(last[p], n)
		}
	}
	for p, n := range last {
		if _, err := tx.ExecContext(ctx, `INSERT INTO application_numbers (prefix, last) VALUES ($1, $2)
			ON CONFLICT (prefix) DO UPDATE SET last = CASE WHEN excluded.last > application_numbers.last THEN excluded.last ELSE application_numbers.last END`, p, int64(n)); err != nil {
			return err
		}
	}
	if w.backend == store.Postgres {
		for _, t := range []string{"persons", "accounts", "applications", "consents"} {
			if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'), (SELECT max(id) FROM `+t+`))`); err != nil {
				return fmt.Errorf("sequence of %s: %w", t, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)`, historyKey, strconv.Itoa(h.opts.Applications), h.now); err != nil {
		return err
	}
	return w.commit(tx)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// IssueHistoryLicences issues, through the platform's own issuance, the
// licences of the demo people's applications that WriteHistory left as
// issued, each in its own transaction, and returns how many. Every other
// applicant's are left out: each licence is two SM2 signatures and a
// registry record, which at a million applications would be most of the
// run. The licences are dated today, not the day of their approval.
func IssueHistoryLicences(ctx context.Context, db *store.DB, protector *pii.Protector, lic *licences.Service) (int, error) {
	var persons []any
	var ph []string
	for _, p := range demoPersons() {
		persons = append(persons, protector.Index(p.id))
		ph = append(ph, "$"+strconv.Itoa(len(persons)))
	}
	type pending struct {
		id, version            int64
		number, form, idNumber string
		name                   string
		enterprise             bool
	}
	list, err := store.All(ctx, db, func(row store.Scanner) (pending, error) {
		var p pending
		err := row.Scan(&p.id, &p.version, &p.number, &p.form, &p.idNumber, &p.name, &p.enterprise)
		return p, err
	}, `SELECT a.id, a.version_id, a.number, a.form, p.id_number_enc, p.name, a.enterprise_id IS NOT NULL FROM applications a JOIN persons p ON p.id = a.person_id
		WHERE a.status = 'licence_issued' AND p.id_number_idx IN (`+strings.Join(ph, ", ")+`)
		AND NOT EXISTS (SELECT 1 FROM licences l WHERE l.application_id = a.id) ORDER BY a.id`, persons...)
	if err != nil {
		return 0, err
	}
	cs := catalog.NewStore(db)
	var company string
	if err := db.QueryRowContext(ctx, `SELECT name FROM enterprises WHERE credit_code = $1`, DemoCompany).Scan(&company); err != nil {
		return 0, err
	}
	n := 0
	for _, p := range list {
		v, err := cs.VersionByID(ctx, p.version)
		if err != nil {
			return n, err
		}
		formJSON, err := protector.OpenFor(p.form, "applications.form")
		if err != nil {
			return n, err
		}
		idNumber, err := protector.OpenFor(p.idNumber, "persons.id_number")
		if err != nil {
			return n, err
		}
		var form map[string]any
		if err := json.Unmarshal([]byte(formJSON), &form); err != nil {
			return n, err
		}
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			t, err := licences.TypeTx(ctx, tx, v.Item.Output.Licence)
			if err != nil {
				return err
			}
			fields := t.FieldsFromForm(form, v.Item.Form)
			for _, f := range t.Fields {
				if f.Required && fields[f.ID] == "" {
					fields[f.ID] = "示例"
				}
			}
			holder := licences.Holder{Kind: hub.Person, ID: idNumber, Name: p.name}
			if p.enterprise { // the enterprise it was made for, as the platform issues it
				holder = licences.Holder{Kind: hub.Enterprise, ID: DemoCompany, Name: company}
			}
			_, err = lic.IssueTx(ctx, tx, licences.Request{ApplicationID: p.id, ApplicationNumber: p.number, ItemCode: v.ItemCode,
				Type: t.Code, Holder: holder, Fields: fields, IssuedBy: "machine"})
			return err
		})
		if apperr.Is(err, apperr.Invalid) {
			continue // refused, as issuance on approval would have been: no licence
		}
		if err != nil {
			return n, fmt.Errorf("licence of application %s: %w", p.number, err)
		}
		n++
	}
	return n, nil
}
