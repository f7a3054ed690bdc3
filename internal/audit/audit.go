// Package audit keeps the platform's tamper-evident audit trail (审计日志):
// one entry for every state change, decision, unmasked read of personal
// data, sign-in, role grant, catalogue publication, configuration change and
// licence issue or revocation, saying who did it (a person's account, or the
// machine or the system), to what, and when.
//
// Entries are written in the transaction of the change they record, and
// only inserted: a writer takes no lock beyond its own row. A single chainer
// (Chain) then gives committed entries, in id order, consecutive sequence
// numbers and hashes, each SM3(previous hash || canonical entry) (GB/T
// 32905); Sign has the platform's SM2 key sign the head of the chain, so an
// edited, deleted or inserted entry, and a tail deleted after a signed head,
// are found by Verify. See docs/SECURITY.md, "Audit trail".
package audit

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"yiwang/internal/store"
)

// TimeFormat is how an entry's time is stored and hashed: UTC to the
// microsecond, the precision both backends keep, as fixed-width text that
// sorts in time order.
const TimeFormat = "2006-01-02T15:04:05.000000Z"

// Actor kinds that are not a person.
const (
	Machine = "machine" // a decision the rules took (秒批)
	System  = "system"  // the platform on its own: sweeps, jobs, the command line
)

// Actor is who did something. Human tells a person's act from the machine's.
type Actor struct {
	Kind  string // applicant, staff, party, system account, machine, system, anonymous…
	ID    string // the account id, "" for the machine and the system
	Name  string // a staff member's name, a masked name for citizens; never personal data in clear
	Human bool
}

// Person is an account acting; name must already be masked for citizens.
func Person(kind string, accountID int64, name string) Actor {
	id := ""
	if accountID != 0 {
		id = strconv.FormatInt(accountID, 10)
	}
	return Actor{Kind: kind, ID: id, Name: name, Human: true}
}

// Automatic is the machine or the system (kind Machine or System) under a name.
func Automatic(kind, name string) Actor { return Actor{Kind: kind, Name: name} }

// ParseActor is the actor named by the "kind:id" or "kind:name" strings
// that catalogue versions and licences keep (staff:12, cli:root,
// system:demo), or by "machine" or "system" alone.
func ParseActor(actor string) Actor {
	kind, who, _ := strings.Cut(actor, ":")
	if kind == Machine || kind == System {
		return Automatic(kind, who)
	}
	if _, err := strconv.ParseInt(who, 10, 64); err == nil {
		return Actor{Kind: kind, ID: who, Human: true}
	}
	return Actor{Kind: kind, Name: who, Human: true}
}

// Event is what a caller records: an action on an object. Detail holds ids,
// statuses and masked values only, never personal data in clear.
type Event struct {
	Actor      Actor
	Action     string // e.g. application.submit, pii.view, identity.sign_in_failed
	ObjectKind string // e.g. application, person, account, catalog_item, licence
	ObjectID   string
	Detail     map[string]any
	At         time.Time // zero: now
}

// Execer is the caller's transaction (or, for a change that is one
// statement outside any transaction, the database).
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Record inserts e into the trail inside x, the transaction of the change it
// records, so both commit or neither does. It takes no lock: the chainer
// hashes it after commit.
func Record(ctx context.Context, x Execer, e Event) error {
	if b, ok := ctx.Value(batchKey{}).(*Batch); ok && b.tx == x {
		b.events = append(b.events, e)
		return nil
	}
	return insert(ctx, x, []Event{e})
}

// insert writes events in one statement.
func insert(ctx context.Context, x Execer, events []Event) error {
	const columns = 9
	var q strings.Builder
	q.WriteString(`INSERT INTO audit_entries (at, actor_kind, actor_id, actor_name, human, action, object_kind, object_id, detail) VALUES `)
	args := make([]any, 0, columns*len(events))
	for i, e := range events {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(")
		for c := range columns {
			if c > 0 {
				q.WriteString(", ")
			}
			fmt.Fprintf(&q, "$%d", i*columns+c+1)
		}
		q.WriteString(")")
		row, err := e.row()
		if err != nil {
			return err
		}
		args = append(args, row...)
	}
	if _, err := x.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("audit %s of %s %s: %w", events[0].Action, events[0].ObjectKind, events[0].ObjectID, err)
	}
	return nil
}

// row is e's values in the order insert names the columns.
func (e Event) row() ([]any, error) {
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	detail := "{}"
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return nil, fmt.Errorf("audit detail of %s: %w", e.Action, err)
		}
		detail = string(b)
	}
	return []any{at.UTC().Format(TimeFormat), e.Actor.Kind, e.Actor.ID, e.Actor.Name, e.Actor.Human, e.Action, e.ObjectKind, e.ObjectID, detail}, nil
}

// Batch keeps the entries a transaction records and writes them in one
// statement: on a hot path (a submission records four), one round trip to
// the database instead of one per entry.
type Batch struct {
	tx     Execer
	events []Event
}

type batchKey struct{}

// Batched returns a context in which Record, given tx, keeps its entries in
// the returned batch instead of writing them; call Flush before the
// transaction commits. Records in other transactions are written as ever.
func Batched(ctx context.Context, tx Execer) (context.Context, *Batch) {
	b := &Batch{tx: tx}
	return context.WithValue(ctx, batchKey{}, b), b
}

// flushRows is how many entries one statement of Flush writes at most: a
// batch of many actions (a proactive sweep's) would otherwise make one
// statement of thousands of parameters, which SQLite binds by a search
// through all of them each (measured: a seventh of a sweep's time) and
// PostgreSQL refuses past 65,535.
const flushRows = 64

// Flush writes the kept entries, in the order they were recorded, inside
// the batch's transaction.
func (b *Batch) Flush(ctx context.Context) error {
	events := b.events
	b.events = nil
	for len(events) > 0 {
		n := min(len(events), flushRows)
		if err := insert(ctx, b.tx, events[:n]); err != nil {
			return err
		}
		events = events[n:]
	}
	return nil
}

// Entry is a stored entry with its place in the chain (Seq 0: not chained yet).
type Entry struct {
	ID         int64           `json:"-"`
	Seq        int64           `json:"seq"`
	At         string          `json:"at"`
	ActorKind  string          `json:"actor_kind"`
	ActorID    string          `json:"actor_id,omitempty"`
	ActorName  string          `json:"actor_name,omitempty"`
	Human      bool            `json:"human"`
	Action     string          `json:"action"`
	ObjectKind string          `json:"object_kind"`
	ObjectID   string          `json:"object_id"`
	Detail     json.RawMessage `json:"detail"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

// Genesis is the previous hash of the first entry.
var Genesis = hex.EncodeToString(make([]byte, sm3.Size))

// Canonical is the encoding of e that is hashed: a JSON array of a format
// tag and every field, sequence number included, in a fixed order. An
// external verifier can rebuild it from an exported line.
func (e Entry) Canonical() []byte {
	b, _ := json.Marshal([]any{"yiwang-audit-v1", e.Seq, e.At, e.ActorKind, e.ActorID, e.ActorName, e.Human,
		e.Action, e.ObjectKind, e.ObjectID, string(e.Detail)}) // strings, numbers and a bool: never fails
	return b
}

// ComputeHash is SM3(prev || Canonical()), prev being the previous entry's
// hash (hex); an unreadable prev hashes as empty, which never matches.
func (e Entry) ComputeHash(prev string) string {
	p, _ := hex.DecodeString(prev)
	h := sm3.New()
	h.Write(p)
	h.Write(e.Canonical())
	return hex.EncodeToString(h.Sum(nil))
}

const entryColumns = `id, COALESCE(seq, 0), at, actor_kind, actor_id, actor_name, human, action, object_kind, object_id, detail, COALESCE(prev_hash, ''), COALESCE(hash, '')`

func scanEntry(row store.Scanner) (Entry, error) {
	var e Entry
	var detail string
	err := row.Scan(&e.ID, &e.Seq, &e.At, &e.ActorKind, &e.ActorID, &e.ActorName, &e.Human, &e.Action, &e.ObjectKind, &e.ObjectID, &detail, &e.PrevHash, &e.Hash)
	e.Detail = json.RawMessage(detail)
	return e, err
}

// chainBatch bounds the entries one chaining transaction hashes.
const chainBatch = 1000

// chainLockKey is the PostgreSQL advisory lock that makes one chainer at a
// time across processes ("yiwaudit").
const chainLockKey = 0x7969776175646974

// Chain gives the committed entries not yet chained, in id order, the next
// sequence numbers and their hashes, and returns how many it chained. Any
// process may call it at any time: on PostgreSQL a transaction-scoped
// advisory lock lets one chain while the others return at once; SQLite has
// one writer anyway.
func Chain(ctx context.Context, db *store.DB) (int, error) {
	total := 0
	for {
		n := 0
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			if db.Backend == store.Postgres {
				var got bool
				if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(chainLockKey)).Scan(&got); err != nil || !got {
					return err
				}
			}
			seq, prev, err := head(ctx, tx)
			if err != nil {
				return err
			}
			pending, err := store.All(ctx, tx, scanEntry, `SELECT `+entryColumns+` FROM audit_entries WHERE seq IS NULL ORDER BY id LIMIT $1`, chainBatch)
			if err != nil {
				return err
			}
			for i := range pending {
				seq++
				pending[i].Seq, pending[i].PrevHash = seq, prev
				pending[i].Hash = pending[i].ComputeHash(prev)
				prev = pending[i].Hash
			}
			n = len(pending)
			for len(pending) > 0 {
				k := min(len(pending), chainUpdate)
				if err := setChained(ctx, tx, pending[:k]); err != nil {
					return err
				}
				pending = pending[k:]
			}
			return nil
		})
		total += n
		if err != nil || n < chainBatch {
			return total, err
		}
	}
}

// chainUpdate is how many entries one statement chains: more saves round
// trips, but each row then looks through a longer CASE.
const chainUpdate = 32

// setChained stores the sequence numbers and hashes of es in one
// statement, each row found through the primary key.
func setChained(ctx context.Context, tx *sql.Tx, es []Entry) error {
	var seq, prev, hash, ids strings.Builder
	args := make([]any, 0, 4*len(es))
	for i, e := range es {
		id := 4*i + 1
		fmt.Fprintf(&seq, " WHEN $%d THEN CAST($%d AS BIGINT)", id, id+1)
		fmt.Fprintf(&prev, " WHEN $%d THEN CAST($%d AS TEXT)", id, id+2)
		fmt.Fprintf(&hash, " WHEN $%d THEN CAST($%d AS TEXT)", id, id+3)
		if i > 0 {
			ids.WriteString(", ")
		}
		fmt.Fprintf(&ids, "$%d", id)
		args = append(args, e.ID, e.Seq, e.PrevHash, e.Hash)
	}
	q := `UPDATE audit_entries SET seq = CASE id` + seq.String() + ` END, prev_hash = CASE id` + prev.String() +
		` END, hash = CASE id` + hash.String() + ` END WHERE id IN (` + ids.String() + `)`
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("chain audit entries %d to %d: %w", es[0].Seq, es[len(es)-1].Seq, err)
	}
	return nil
}

// head is the newest chained entry's sequence number and hash (0 and
// Genesis for an empty chain).
func head(ctx context.Context, q store.Querier) (int64, string, error) {
	var seq int64
	var hash string
	err := q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_entries WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, Genesis, nil
	}
	return seq, hash, err
}

// Tip is where the trail stands: its newest chained entry, the entries
// committed but not chained yet, and the newest signed head. A backup
// records it so that a restore can show it brought back the same trail.
type Tip struct {
	Seq       int64  `json:"seq"`
	Hash      string `json:"hash"`
	Pending   int64  `json:"pending"`
	SignedSeq int64  `json:"signed_seq"`
}

// TipOf reads the trail's tip, inside the caller's transaction (a
// backup's snapshot) when q is one.
func TipOf(ctx context.Context, q store.Querier) (Tip, error) {
	var t Tip
	var err error
	if t.Seq, t.Hash, err = head(ctx, q); err != nil {
		return t, err
	}
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM audit_entries WHERE seq IS NULL`).Scan(&t.Pending); err != nil {
		return t, err
	}
	h, err := lastHead(ctx, q)
	t.SignedSeq = h.Seq
	return t, err
}

// Since lists the entries after id, chained or not, in the order they were
// written: what an action just put on the trail.
func Since(ctx context.Context, q store.Querier, id int64) ([]Entry, error) {
	return store.All(ctx, q, scanEntry, `SELECT `+entryColumns+` FROM audit_entries WHERE id > $1 ORDER BY id`, id)
}
