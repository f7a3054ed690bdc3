package hub

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/store"
)

// Router sends each source to its connector: the ones configured for a
// department's real system, the built-in registries for the rest.
type Router struct {
	Default  Connector
	BySource map[string]Connector
}

// Fetch implements Connector. licence_last.TYPE goes where licence.TYPE
// goes: a department's system configured for a licence type is asked for
// licence.TYPE and its answer, whatever status it reports, is the latest
// licence — which licences it gives is that system's business.
func (r Router) Fetch(ctx context.Context, source string, subject Subject, fields []string) (Record, error) {
	if c, ok := r.BySource[StoredLicence(source)]; ok {
		return c.Fetch(ctx, StoredLicence(source), subject, fields)
	}
	return r.Default.Fetch(ctx, source, subject, fields)
}

// Consent is an applicant's authorisation to read sources about them.
type Consent struct {
	ID          int64     `json:"id"`
	Sources     []string  `json:"sources"`
	Purpose     string    `json:"purpose"`
	Application int64     `json:"application,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// Reader reads sources for applications: only under a live consent, and
// every read — found or not — goes into the access log.
type Reader struct {
	db    *store.DB
	conn  Connector
	index func(Subject) string
	now   func() time.Time
}

// NewReader returns a reader over conn; index gives a subject's blind index
// (Builtin.SubjectIndex), under which consents and reads are kept.
func NewReader(db *store.DB, conn Connector, index func(Subject) string) *Reader {
	return &Reader{db: db, conn: conn, index: index, now: func() time.Time { return time.Now().UTC() }}
}

// Grant records the applicant's consent to read sources about subject for
// purpose until ttl from now.
func (r *Reader) Grant(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, account int64, subject Subject, sources []string, purpose string, application int64, ttl time.Duration) (Consent, error) {
	if strings.TrimSpace(purpose) == "" || len(sources) == 0 {
		return Consent{}, apperr.New(apperr.Invalid, apperr.ConsentIncomplete, "a consent names the sources and the purpose")
	}
	for _, s := range sources {
		if _, ok := Lookup(s); !ok && s != "applicant" {
			return Consent{}, apperr.New(apperr.Invalid, apperr.UnknownSource, "%q is not a data source", s)
		}
	}
	now := r.now()
	c := Consent{Sources: sources, Purpose: purpose, Application: application, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	var app any
	if application != 0 {
		app = application
	}
	err := q.QueryRowContext(ctx, `INSERT INTO consents (account_id, subject_idx, sources, purpose, application, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, account, r.index(subject), strings.Join(sources, " "), purpose, app, now, c.ExpiresAt).Scan(&c.ID)
	return c, err
}

// Read is one read of one source.
type Read struct {
	Consent     int64
	Subject     Subject
	Source      string
	Fields      []string
	Reader      int64  // the account reading: the applicant, or staff
	ReaderName  string // for the data subject's list
	Purpose     string
	Application int64
}

// Read fetches the fields under the consent and logs the read. Without a
// live consent covering the source nothing is read.
func (r *Reader) Read(ctx context.Context, rd Read) (Record, error) {
	idx := r.index(rd.Subject)
	var sources string
	var expires time.Time
	var revoked sql.NullTime
	err := r.db.QueryRowContext(ctx, `SELECT sources, expires_at, revoked_at FROM consents WHERE id = $1 AND subject_idx = $2`, rd.Consent, idx).
		Scan(&sources, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.Forbidden, apperr.NoConsent, "there is no consent to read this person's or enterprise's data")
	}
	if err != nil {
		return nil, err
	}
	if revoked.Valid || r.now().After(expires) {
		return nil, apperr.New(apperr.Forbidden, apperr.ConsentExpired, "the consent to read this data has expired or was withdrawn: authorise again")
	}
	if !slices.Contains(strings.Fields(sources), rd.Source) {
		return nil, apperr.New(apperr.Forbidden, apperr.SourceNotConsented, "the consent does not cover %s", rd.Source)
	}
	rec, f, ferr := r.Fetch(ctx, rd)
	if err := r.LogReads(ctx, r.db, []Fetched{f}); err != nil {
		return nil, err
	}
	return rec, ferr
}

// Fetched is a read made but not yet logged.
type Fetched struct {
	Read
	At      time.Time
	Outcome string // ok, not_found, malformed, unavailable
}

// Fetch reads the fields without looking for a stored consent and without
// logging the read. It is for the one-call application, which stores the
// consent covering rd.Source, the application and the reads' log
// (LogReads) in one transaction: a caller that does not log what Fetch
// read breaks the promise that every read is in the access log.
func (r *Reader) Fetch(ctx context.Context, rd Read) (Record, Fetched, error) {
	rec, err := r.conn.Fetch(ctx, rd.Source, rd.Subject, rd.Fields)
	f := Fetched{Read: rd, At: r.now(), Outcome: "ok"}
	switch {
	case errors.Is(err, ErrNotFound):
		f.Outcome = "not_found"
	case errors.Is(err, ErrMalformed):
		f.Outcome = "malformed"
	case err != nil:
		f.Outcome = "unavailable"
	}
	return rec, f, err
}

// LogReads writes the access-log rows of reads in one statement.
func (r *Reader) LogReads(ctx context.Context, q store.Execer, reads []Fetched) error {
	if len(reads) == 0 {
		return nil
	}
	var rows []string
	var args []any
	for _, f := range reads {
		var app any
		if f.Application != 0 {
			app = f.Application
		}
		n := len(args)
		rows = append(rows, fmt.Sprintf("($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10))
		args = append(args, f.At, r.index(f.Subject), f.Source, strings.Join(f.Fields, ","), f.Reader, f.ReaderName, f.Purpose, app, f.Consent, f.Outcome)
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO data_reads (at, subject_idx, source, fields, reader, reader_name, purpose, application, consent_id, outcome)
		VALUES `+strings.Join(rows, ", "), args...); err != nil {
		return fmt.Errorf("log the reads: %w", err)
	}
	return nil
}

// ReadLog is one logged read, as the data subject sees it.
type ReadLog struct {
	At          time.Time `json:"at"`
	Source      string    `json:"source"`
	SourceName  string    `json:"source_name"`
	Fields      []string  `json:"fields"`
	Reader      string    `json:"reader"`
	Purpose     string    `json:"purpose"`
	Application int64     `json:"application,omitempty"`
	Outcome     string    `json:"outcome"`
}

// ReadsAbout lists who read subject's data, newest first.
func (r *Reader) ReadsAbout(ctx context.Context, subject Subject, limit int) ([]ReadLog, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	out, err := store.All(ctx, r.db, func(row store.Scanner) (ReadLog, error) {
		var l ReadLog
		var fields string
		err := row.Scan(&l.At, &l.Source, &fields, &l.Reader, &l.Purpose, &l.Application, &l.Outcome)
		l.Fields = strings.Split(fields, ",")
		if s, ok := Lookup(l.Source); ok {
			l.SourceName = s.LabelZh
		}
		return l, err
	}, `SELECT at, source, fields, reader_name, purpose, COALESCE(application, 0), outcome FROM data_reads
		WHERE subject_idx = $1 ORDER BY at DESC, id DESC LIMIT $2`, r.index(subject), limit)
	if out == nil {
		out = []ReadLog{}
	}
	return out, err
}

// Index returns the blind index under which subject's consents and reads are kept.
func (r *Reader) Index(s Subject) string { return r.index(s) }
