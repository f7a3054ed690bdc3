package pii

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/store"
)

// Access is one staff member's view of a person's unmasked data.
type Access struct {
	ID            int64     // assigned by the database; ignored by Record
	At            time.Time // when; zero means now
	StaffAccount  int64     // the staff member's account
	StaffName     string    // their name as it was then, so the log survives renames
	SubjectPerson int64     // whose data was seen
	Fields        []string  // which fields, e.g. "id_number", "phone"
	Purpose       string    // why, in the staff member's own words
	RequestID     string    // the request that showed it, to match server logs; may be empty
}

// Purpose limits, in runes. Four runes is the shortest useful Chinese
// purpose ("核对身份"); a one-word "查看" or "ok" says nothing to an auditor.
const (
	MinPurposeRunes = 4
	MaxPurposeRunes = 500
)

// AccessLog records and lists views of unmasked personal data in the
// pii_access_log table.
type AccessLog struct{ db *sql.DB }

// NewAccessLog returns the access log stored in db.
func NewAccessLog(db *sql.DB) *AccessLog { return &AccessLog{db: db} }

// Record logs e, with its audit entry, in a transaction of its own. Use
// RecordTx instead when the view is part of a transaction, so that the data
// is not shown if the log entry was not written.
func (l *AccessLog) Record(ctx context.Context, e Access) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := record(ctx, tx, e); err != nil {
		return err
	}
	return tx.Commit()
}

// RecordTx logs e inside the caller's transaction tx.
func (l *AccessLog) RecordTx(ctx context.Context, tx *sql.Tx, e Access) error {
	return record(ctx, tx, e)
}

// execer is what record needs of a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// record checks e and inserts it.
func record(ctx context.Context, x execer, e Access) error {
	if err := e.check(); err != nil {
		return err
	}
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	_, err := x.ExecContext(ctx, `INSERT INTO pii_access_log (at, staff_account, staff_name, subject_person, fields, purpose, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		storedTime(at), e.StaffAccount, strings.TrimSpace(e.StaffName), e.SubjectPerson,
		strings.Join(e.Fields, ","), strings.TrimSpace(e.Purpose), e.RequestID)
	if err != nil {
		return fmt.Errorf("record personal-data access: %w", err)
	}
	return audit.Record(ctx, x, audit.Event{Actor: audit.Person("staff", e.StaffAccount, strings.TrimSpace(e.StaffName)), Action: "pii.view",
		ObjectKind: "person", ObjectID: strconv.FormatInt(e.SubjectPerson, 10), Detail: map[string]any{"fields": e.Fields}, At: at})
}

// check refuses entries an auditor could not use. The messages speak to the
// staff member, who supplies the purpose; the other checks catch our bugs.
func (e Access) check() error {
	if err := CheckPurpose(e.Purpose); err != nil {
		return err
	}
	if len(e.Fields) == 0 {
		return apperr.New(apperr.Invalid, apperr.FieldsRequired, "say which personal-data fields were shown (for example id_number): none were given")
	}
	for _, f := range e.Fields {
		if f == "" || strings.ContainsAny(f, ", \t\r\n") {
			return apperr.New(apperr.Invalid, apperr.BadField,
				"personal-data field name %q is empty or contains a comma or space: use plain names such as id_number", f)
		}
	}
	if e.StaffAccount <= 0 || strings.TrimSpace(e.StaffName) == "" {
		return apperr.New(apperr.Invalid, apperr.StaffRequired, "a personal-data access must name the staff account and name that viewed it")
	}
	if e.SubjectPerson <= 0 {
		return apperr.New(apperr.Invalid, apperr.SubjectRequired, "a personal-data access must name the person whose data was viewed")
	}
	return nil
}

// CheckPurpose refuses a purpose an auditor could not use: too short to say
// anything, or too long. Callers check it before they read the data, so a
// view without a purpose reads nothing.
func CheckPurpose(purpose string) error {
	switch n := utf8.RuneCountInString(strings.TrimSpace(purpose)); {
	case n < MinPurposeRunes:
		return apperr.New(apperr.Invalid, apperr.PurposeRequired,
			"state why you need to see this person's full data, in at least %d characters (for example 核对户籍材料): every view is logged for audit", MinPurposeRunes)
	case n > MaxPurposeRunes:
		return apperr.New(apperr.Invalid, apperr.PurposeTooLong,
			"the stated purpose has %d characters; keep it to %d", n, MaxPurposeRunes)
	}
	return nil
}

// storedTime is t as the log stores and compares it: in UTC, to the
// microsecond, which both backends keep exactly. Filters are cut the same way,
// so the At of an entry, used as Since, finds that entry.
func storedTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Filter selects access log entries. Zero values select everything.
type Filter struct {
	StaffAccount  int64     // only this staff account's views; 0 = any
	SubjectPerson int64     // only views of this person's data; 0 = any
	Since         time.Time // at or after; zero = no lower bound
	Until         time.Time // strictly before; zero = no upper bound
	Limit         int       // at most this many; <= 0 means DefaultListLimit, capped at MaxListLimit
}

// List limits.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// List returns the entries f selects, newest first (equal times: latest
// recorded first).
func (l *AccessLog) List(ctx context.Context, f Filter) ([]Access, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.StaffAccount != 0 {
		add("staff_account = $%d", f.StaffAccount)
	}
	if f.SubjectPerson != 0 {
		add("subject_person = $%d", f.SubjectPerson)
	}
	if !f.Since.IsZero() {
		add("at >= $%d", storedTime(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < $%d", storedTime(f.Until))
	}
	q := `SELECT id, at, staff_account, staff_name, subject_person, fields, purpose, request_id FROM pii_access_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = DefaultListLimit
	case limit > MaxListLimit:
		limit = MaxListLimit
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY at DESC, id DESC LIMIT $%d", len(args))

	out, err := store.All(ctx, l.db, func(row store.Scanner) (Access, error) {
		var a Access
		var fields string
		err := row.Scan(&a.ID, &a.At, &a.StaffAccount, &a.StaffName, &a.SubjectPerson, &fields, &a.Purpose, &a.RequestID)
		a.At = a.At.UTC()
		a.Fields = strings.Split(fields, ",")
		return a, err
	}, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list personal-data accesses: %w", err)
	}
	return out, nil
}
