package hub

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"yiwang/internal/ident"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/workday"
)

// Builtin is the connector to the registries kept in the platform's own
// database: the embedded default, which the demo generator fills. Records
// are sealed with the personal-data key and keyed by the blind index of
// their subject.
type Builtin struct {
	db  *store.DB
	pii *pii.Protector
}

// NewBuiltin returns the built-in connector.
func NewBuiltin(db *store.DB, protector *pii.Protector) *Builtin {
	return &Builtin{db: db, pii: protector}
}

// SubjectIndex is the blind index under which a subject's records are kept.
func (b *Builtin) SubjectIndex(s Subject) string {
	key := strings.TrimSpace(s.Key)
	if s.Kind == Person {
		key = ident.NormalizeIDNumber(key)
	}
	return b.pii.Index(string(s.Kind) + ":" + key)
}

func recordContext(source string) string { return "registry." + source }

// Fetch implements Connector.
func (b *Builtin) Fetch(ctx context.Context, source string, subject Subject, fields []string) (Record, error) {
	src, ok := Lookup(source)
	if !ok {
		return nil, fmt.Errorf("%w: unknown source %q", ErrNotFound, source)
	}
	_, last, isLicence := LicenceSource(source)
	stored := StoredLicence(source)
	var sealed string
	err := b.db.QueryRowContext(ctx, `SELECT data FROM registry_records WHERE source = $1 AND subject_idx = $2`, stored, b.SubjectIndex(subject)).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, source)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnavailable, source, err)
	}
	plain, err := b.pii.OpenFor(sealed, recordContext(stored))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, source, err)
	}
	var all Record
	if err := json.Unmarshal([]byte(plain), &all); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, source, err)
	}
	if isLicence && !last && !InForce(all, time.Now()) {
		// A revoked, cancelled, superseded or expired licence is no
		// licence to prefill from, attach or decide on; only
		// licence_last.TYPE, which a rule asks for by name, shows it.
		return nil, fmt.Errorf("%w: %s: not in force", ErrNotFound, source)
	}
	return project(src, all, fields)
}

// InForce reports whether a licence.TYPE record is of a licence in force
// on now's day, China time: its status is valid (or not given) and its
// expiry date, if any, not passed.
func InForce(rec Record, now time.Time) bool {
	if st, ok := rec["status"].(string); ok && st != "" && st != "valid" {
		return false
	}
	exp, _ := rec["expiry_date"].(string)
	return exp == "" || exp >= now.In(workday.CST).Format(time.DateOnly)
}

// RecordTx reads subject's whole record in source inside q (a transaction
// that is about to change it), wrapping ErrNotFound when there is none.
func (b *Builtin) RecordTx(ctx context.Context, q store.Querier, source string, subject Subject) (Record, error) {
	var sealed string
	err := q.QueryRowContext(ctx, `SELECT data FROM registry_records WHERE source = $1 AND subject_idx = $2`, source, b.SubjectIndex(subject)).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, source)
	}
	if err != nil {
		return nil, err
	}
	plain, err := b.pii.OpenFor(sealed, recordContext(source))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	rec := Record{}
	if err := json.Unmarshal([]byte(plain), &rec); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return rec, nil
}

// project keeps the asked fields, converted to their declared types.
func project(src Source, all Record, fields []string) (Record, error) {
	out := Record{}
	for _, name := range fields {
		v, present := all[name]
		if !present || v == nil {
			continue
		}
		fd, ok := src.Field(name)
		if !ok {
			if IsLicence(src.Name) { // a licence's own field
				out[name] = v
				continue
			}
			return nil, fmt.Errorf("%w: %s has no field %q", ErrNotFound, src.Name, name)
		}
		cv, err := convert(fd.Type, v)
		if err != nil {
			return nil, fmt.Errorf("%w: %s.%s: %v", ErrMalformed, src.Name, name, err)
		}
		out[name] = cv
	}
	return out, nil
}

// convert checks and normalises a JSON value to a field type.
func convert(t FieldType, v any) (any, error) {
	switch t {
	case String:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want text, got %T", v)
		}
		return s, nil
	case Date:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a date, got %T", v)
		}
		if _, err := time.Parse("2006-01-02", s); err != nil {
			return nil, fmt.Errorf("want a date YYYY-MM-DD, got text of another form") // the value itself may be personal data
		}
		return s, nil
	case Int:
		switch n := v.(type) {
		case float64:
			if n != float64(int64(n)) {
				return nil, fmt.Errorf("want a whole number, got a fraction")
			}
			return int64(n), nil
		case int64:
			return n, nil
		case int:
			return int64(n), nil
		}
		return nil, fmt.Errorf("want a whole number, got %T", v)
	case Double:
		switch n := v.(type) {
		case float64:
			return n, nil
		case int64:
			return float64(n), nil
		case int:
			return float64(n), nil
		}
		return nil, fmt.Errorf("want a number, got %T", v)
	case Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want true or false, got %T", v)
		}
		return b, nil
	case StringList:
		switch l := v.(type) {
		case []string:
			return l, nil
		case []any:
			out := make([]string, len(l))
			for i, x := range l {
				s, ok := x.(string)
				if !ok {
					return nil, fmt.Errorf("want a list of text, got %T inside", x)
				}
				out[i] = s
			}
			return out, nil
		}
		return nil, fmt.Errorf("want a list of text, got %T", v)
	}
	return nil, fmt.Errorf("unknown field type %s", t)
}

// Put stores subject's record in source (replacing any), checking every
// field against the source's schema. A change that is a registry event
// (Events: a birth, a death, a move into the district, an enterprise set
// up, a retirement) is recorded in registry_events in the same write, for
// the proactive services to act on.
func (b *Builtin) Put(ctx context.Context, q store.Execer, source string, subject Subject, rec Record) error {
	row, err := b.Seal(source, subject, rec)
	if err != nil {
		return err
	}
	var events []string
	if watch, ok := eventWatchers[source]; ok {
		old, err := b.RecordTx(ctx, q, source, subject)
		if errors.Is(err, ErrNotFound) {
			old, err = nil, nil
		}
		if err != nil {
			return err
		}
		events = watch(old, rec)
	}
	now := time.Now().UTC()
	_, err = q.ExecContext(ctx, `INSERT INTO registry_records (source, subject_idx, data, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (source, subject_idx) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
		row.Source, row.SubjectIdx, row.Data, now)
	if err != nil || len(events) == 0 {
		return err
	}
	key, err := b.pii.SealFor(string(subject.Kind)+":"+subject.Key, "registry_events.subject")
	if err != nil {
		return err
	}
	for _, e := range events {
		if _, err := q.ExecContext(ctx, `INSERT INTO registry_events (event, subject_idx, subject_enc, at) VALUES ($1, $2, $3, $4)`, e, row.SubjectIdx, key, now); err != nil {
			return fmt.Errorf("record registry event %s: %w", e, err)
		}
	}
	return nil
}

// OpenEventSubject opens the subject of a registry event as stored.
func (b *Builtin) OpenEventSubject(sealed string) (Subject, error) {
	plain, err := b.pii.OpenFor(sealed, "registry_events.subject")
	if err != nil {
		return Subject{}, err
	}
	kind, key, _ := strings.Cut(plain, ":")
	return Subject{Kind: SubjectKind(kind), Key: key}, nil
}

// eventWatchers tell, per source, which registry events a change of a
// record from old (nil: a new record) to new is.
var eventWatchers = map[string]func(old, new Record) []string{
	"population": func(old, new Record) []string {
		var out []string
		if old == nil && new["birth_event"] != nil && new["birth_event"] != "" {
			out = append(out, "population.born")
		}
		if alive, ok := new["alive"].(bool); ok && !alive && (old == nil || old["alive"] != false) {
			out = append(out, "population.died")
		}
		if region, _ := new["household_region"].(string); old != nil && region != "" && old["household_region"] != region {
			out = append(out, "population.moved_in")
		}
		return out
	},
	"enterprise": func(old, new Record) []string {
		if new["status"] == "active" && (old == nil || old["status"] != "active") {
			return []string{"enterprise.established"}
		}
		return nil
	},
	"social_insurance": func(old, new Record) []string {
		if new["retired"] == true && (old == nil || old["retired"] != true) {
			return []string{"social_insurance.retired"}
		}
		return nil
	},
}

// Amend changes subject's record in source inside tx, starting from an
// empty record when there is none: how the platform writes its own findings,
// such as the credit records of broken commitments, where later reads (and
// rules) see them.
func (b *Builtin) Amend(ctx context.Context, tx *sql.Tx, source string, subject Subject, change func(Record)) error {
	rec, err := b.RecordTx(ctx, tx, source, subject)
	if errors.Is(err, ErrNotFound) {
		rec, err = Record{}, nil
	}
	if err != nil {
		return err
	}
	change(rec)
	return b.Put(ctx, tx, source, subject, rec)
}

// SealedRecord is a record ready to insert, for bulk loaders.
type SealedRecord struct {
	Source, SubjectIdx, Data string
}

// Seal checks rec against source's schema and seals it for storage.
func (b *Builtin) Seal(source string, subject Subject, rec Record) (SealedRecord, error) {
	return b.NewSealer().Seal(source, subject, rec)
}

// Sealer does what Seal does for bulk loaders, which seal millions of
// records: it reuses its buffers, encodes records without reflection, and
// keeps the blind index of the last subject, whose next record usually
// follows. A Sealer is for one goroutine.
type Sealer struct {
	b              *Builtin
	subject        Subject
	idx            string
	keys           []string
	plain, scratch []byte
	sealed         []byte
}

// NewSealer returns a Sealer of records for this connector.
func (b *Builtin) NewSealer() *Sealer { return &Sealer{b: b} }

// Seal checks rec against source's schema and seals it for storage.
func (s *Sealer) Seal(source string, subject Subject, rec Record) (SealedRecord, error) {
	var err error
	row := SealedRecord{Source: source}
	if s.sealed, row.SubjectIdx, err = s.AppendSeal(s.sealed[:0], source, subject, rec); err != nil {
		return SealedRecord{}, err
	}
	row.Data = string(s.sealed)
	return row, nil
}

// AppendSeal is Seal appending the sealed record to dst, for loaders that
// make one string of many records' data rather than one each; it returns
// the subject's blind index.
func (s *Sealer) AppendSeal(dst []byte, source string, subject Subject, rec Record) (sealed []byte, subjectIdx string, err error) {
	src, ok := Lookup(source)
	if !ok {
		return dst, "", fmt.Errorf("unknown source %q", source)
	}
	if StoredLicence(source) != source {
		return dst, "", fmt.Errorf("%s is read from %s: store the licence there", source, StoredLicence(source))
	}
	if !src.Keeps(subject.Kind) && !strings.HasPrefix(source, "licence.") {
		return dst, "", fmt.Errorf("%s keeps %s records, not %s", source, src.Subject, subject.Kind)
	}
	for name, v := range rec {
		fd, ok := src.Field(name)
		if !ok {
			if strings.HasPrefix(source, "licence.") {
				continue
			}
			return dst, "", fmt.Errorf("%s has no field %q", source, name)
		}
		if _, err := convert(fd.Type, v); err != nil {
			return dst, "", fmt.Errorf("%s.%s: %v", source, name, err)
		}
	}
	if s.plain, err = appendRecord(s.plain[:0], &s.keys, rec); err != nil {
		return dst, "", err
	}
	if sealed, err = s.b.pii.AppendSealFor(dst, &s.scratch, s.plain, recordContext(source)); err != nil {
		return dst, "", err
	}
	if subject != s.subject || s.idx == "" {
		s.subject, s.idx = subject, s.b.SubjectIndex(subject)
	}
	return sealed, s.idx, nil
}

// appendRecord appends rec as json.Marshal encodes it (keys sorted, HTML
// characters escaped), byte for byte, using keys as scratch. The types
// records hold are encoded here; anything else, and any string that needs
// escaping, goes through encoding/json.
func appendRecord(b []byte, keys *[]string, rec Record) ([]byte, error) {
	if rec == nil {
		return append(b, "null"...), nil
	}
	*keys = (*keys)[:0]
	for k := range rec {
		*keys = append(*keys, k)
	}
	slices.Sort(*keys)
	b = append(b, '{')
	var err error
	for n, k := range *keys {
		if n > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		if b, err = appendJSONValue(b, rec[k]); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

func appendJSONValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case float64:
		if a := math.Abs(v); a == 0 || a >= 1e-6 && a < 1e21 { // json.Marshal's plain form
			return strconv.AppendFloat(b, v, 'f', -1, 64), nil
		}
	case []string:
		if v == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for n, s := range v {
			if n > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		return append(b, ']'), nil
	}
	enc, err := json.Marshal(v)
	return append(b, enc...), err
}

// appendJSONString quotes s as json.Marshal does: as it is, unless it has
// something to escape.
func appendJSONString(b []byte, s string) []byte {
	plain := true
	for k := 0; plain && k < len(s); {
		if c := s[k]; c < utf8.RuneSelf {
			plain = c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
			k++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[k:])
		plain = (r != utf8.RuneError || size > 1) && r != '\u2028' && r != '\u2029'
		k += size
	}
	if !plain {
		enc, _ := json.Marshal(s) // a string always encodes
		return append(b, enc...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// scanRow is one record as Scan reads it, still sealed.
type scanRow struct{ idx, data string }

// Scan reads every record of source in the order of their blind index and
// gives each, opened, to each as its JSON: for sweeps over a whole registry
// (the proactive services' daily sweep), which decode only the fields they
// need. Records are read a page at a time, so no read holds the database
// for long, and opened by workers goroutines at once; each is called from
// those goroutines, concurrently. done counts the records given so far.
func (b *Builtin) Scan(ctx context.Context, source string, workers int, each func(subjectIdx string, plain []byte) error, done func(n int)) error {
	const page = 5000
	rows := make(chan []scanRow, workers)
	errc := make(chan error, workers+1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var n atomic.Int64
	for range max(workers, 1) {
		wg.Go(func() {
			for batch := range rows {
				for _, r := range batch {
					plain, err := b.pii.OpenFor(r.data, recordContext(source))
					if err == nil {
						err = each(r.idx, []byte(plain))
					}
					if err != nil {
						errc <- fmt.Errorf("%s record %s: %w", source, r.idx, err)
						cancel()
						return
					}
				}
				if done != nil {
					done(int(n.Add(int64(len(batch)))))
				}
			}
		})
	}
	readErr := func() error {
		defer close(rows)
		if b.db.Backend == store.Postgres {
			return b.stream(ctx, source, page, rows)
		}
		after := ""
		for {
			list, err := store.All(ctx, b.db, func(s store.Scanner) (scanRow, error) {
				var r scanRow
				return r, s.Scan(&r.idx, &r.data)
			}, `SELECT subject_idx, data FROM registry_records WHERE source = $1 AND subject_idx > $2 ORDER BY subject_idx LIMIT `+strconv.Itoa(page), source, after)
			if err != nil {
				return err
			}
			if len(list) == 0 {
				return nil
			}
			select {
			case rows <- list:
			case <-ctx.Done():
				return ctx.Err()
			}
			after = list[len(list)-1].idx
		}
	}()
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	return readErr
}

// stream is Scan's reading on PostgreSQL: one query, whose rows come in the
// table's order (a scan of the table, not a walk of the key's index that
// fetches a table page for every record: measured at 1,000,000 persons, 50 s
// against NN s), sent on in pages. PostgreSQL reads a snapshot without
// holding back writers, so one long read costs nobody.
func (b *Builtin) stream(ctx context.Context, source string, page int, out chan<- []scanRow) error {
	rs, err := b.db.QueryContext(ctx, `SELECT subject_idx, data FROM registry_records WHERE source = $1`, source)
	if err != nil {
		return err
	}
	defer rs.Close()
	list := make([]scanRow, 0, page)
	for rs.Next() {
		var r scanRow
		if err := rs.Scan(&r.idx, &r.data); err != nil {
			return err
		}
		if list = append(list, r); len(list) == page {
			select {
			case out <- list:
			case <-ctx.Done():
				return ctx.Err()
			}
			list = make([]scanRow, 0, page)
		}
	}
	if err := rs.Err(); err != nil {
		return err
	}
	if len(list) > 0 {
		out <- list
	}
	return nil
}

// Count is how many records source holds.
func (b *Builtin) Count(ctx context.Context, source string) (int, error) {
	var n int
	err := b.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM registry_records WHERE source = $1`, source).Scan(&n)
	return n, err
}
