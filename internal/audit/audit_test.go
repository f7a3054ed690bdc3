package audit_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"yiwang/internal/audit"
	"yiwang/internal/pii"
	"yiwang/internal/seal"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

func keyring(t testing.TB, db *store.DB) *seal.Keyring {
	t.Helper()
	raw, _ := pii.NewKey()
	key, _ := pii.ParseKey(raw)
	ring, err := seal.NewKeyring(db, key)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

// record writes n entries, each in a transaction of its own as callers do.
func record(t testing.TB, db *store.DB, n int, at time.Time) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			return audit.Record(ctx, tx, audit.Event{Actor: audit.Person("staff", int64(i+1), "王审核"), Action: "application.accept",
				ObjectKind: "application", ObjectID: fmt.Sprint(100 + i), Detail: map[string]any{"from": "submitted", "to": "accepted"}, At: at.Add(time.Duration(i) * time.Minute)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func exec(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func entry(t *testing.T, db *store.DB, seq int64) (prev, hash string) {
	t.Helper()
	if err := db.QueryRowContext(context.Background(), `SELECT prev_hash, hash FROM audit_entries WHERE seq = $1`, seq).Scan(&prev, &hash); err != nil {
		t.Fatal(err)
	}
	return prev, hash
}

// TestVerifyFindsTampering edits, deletes and inserts entries the way
// someone with write access to the database would, and sees each found at
// the entry where it happened.
func TestVerifyFindsTampering(t *testing.T) {
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		tamper func(t *testing.T, db *store.DB)
		seq    int64
		kind   string
	}{
		{"untouched", func(*testing.T, *store.DB) {}, 0, ""},
		{"an entry edited", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE audit_entries SET actor_kind = 'machine', human = $1 WHERE seq = 4`, false)
		}, 4, audit.Edited},
		{"an entry deleted", func(t *testing.T, db *store.DB) {
			exec(t, db, `DELETE FROM audit_entries WHERE seq = 5`)
		}, 5, audit.Deleted},
		{"an entry deleted, the later ones renumbered", func(t *testing.T, db *store.DB) {
			exec(t, db, `DELETE FROM audit_entries WHERE seq = 5`)
			exec(t, db, `UPDATE audit_entries SET seq = seq + 1000 WHERE seq > 5`)
			exec(t, db, `UPDATE audit_entries SET seq = seq - 1001 WHERE seq > 1000`)
		}, 5, audit.Deleted},
		{"an entry inserted with a correct hash", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE audit_entries SET seq = seq + 1000 WHERE seq >= 6`)
			exec(t, db, `UPDATE audit_entries SET seq = seq - 999 WHERE seq >= 1000`)
			_, prev := entry(t, db, 5)
			fake := audit.Entry{Seq: 6, At: start.Add(5 * time.Minute).Format(audit.TimeFormat), ActorKind: "staff", ActorID: "1", ActorName: "王审核", Human: true,
				Action: "application.approve", ObjectKind: "application", ObjectID: "999", Detail: json.RawMessage(`{}`)}
			exec(t, db, `INSERT INTO audit_entries (at, actor_kind, actor_id, actor_name, human, action, object_kind, object_id, detail, seq, prev_hash, hash)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, fake.At, fake.ActorKind, fake.ActorID, fake.ActorName, fake.Human, fake.Action,
				fake.ObjectKind, fake.ObjectID, string(fake.Detail), fake.Seq, prev, fake.ComputeHash(prev))
		}, 6, audit.Inserted},
		{"an entry replaced and its hash recomputed", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE audit_entries SET object_id = '999' WHERE seq = 3`)
			rehash(t, db, 3, 3)
		}, 3, audit.Edited},
		{"the whole chain recomputed after an edit", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE audit_entries SET object_id = '999' WHERE seq = 3`)
			rehash(t, db, 3, 10)
		}, 10, audit.Rewritten},
		{"the tail deleted", func(t *testing.T, db *store.DB) {
			exec(t, db, `DELETE FROM audit_entries WHERE seq >= 9`)
		}, 9, audit.TailDeleted},
		{"a signed head altered", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE audit_heads SET seq = 8`)
		}, 8, audit.BadHead},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ring := keyring(t, db)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				exec(t, db, `DELETE FROM audit_entries`)
				exec(t, db, `DELETE FROM audit_heads`)
				record(t, db, 10, start)
				h, made, err := audit.Sign(ctx, db, ring)
				if err != nil || !made || h.Seq != 10 {
					t.Fatalf("sign: %+v %v %v", h, made, err)
				}
				c.tamper(t, db)
				r, err := audit.Verify(ctx, db, ring)
				if err != nil {
					t.Fatal(err)
				}
				if c.kind == "" {
					if len(r.Findings) != 0 || r.Entries != 10 || r.SignedUpTo != 10 {
						t.Fatalf("untouched chain: %+v", r)
					}
					return
				}
				if len(r.Findings) == 0 {
					t.Fatalf("nothing found: %+v", r)
				}
				if f := r.Findings[0]; f.Seq != c.seq || f.Kind != c.kind {
					t.Fatalf("first finding %+v, want %s at %d (all: %+v)", f, c.kind, c.seq, r.Findings)
				}
			})
		}
	})
}

// rehash recomputes the stored hashes of entries from to to, as an attacker
// who knows the format would: SM3 has no key.
func rehash(t *testing.T, db *store.DB, from, to int64) {
	t.Helper()
	prev, _ := entry(t, db, from)
	for seq := from; seq <= to; seq++ {
		var e audit.Entry
		var detail string
		err := db.QueryRowContext(context.Background(), `SELECT at, actor_kind, actor_id, actor_name, human, action, object_kind, object_id, detail FROM audit_entries WHERE seq = $1`, seq).
			Scan(&e.At, &e.ActorKind, &e.ActorID, &e.ActorName, &e.Human, &e.Action, &e.ObjectKind, &e.ObjectID, &detail)
		if err != nil {
			t.Fatal(err)
		}
		e.Seq, e.Detail = seq, json.RawMessage(detail)
		h := e.ComputeHash(prev)
		exec(t, db, `UPDATE audit_entries SET prev_hash = $1, hash = $2 WHERE seq = $3`, prev, h, seq)
		prev = h
	}
}

// TestChainStaysLinearUnderConcurrentWriters has writers insert entries
// while several chainers (as several processes would) chain them: every
// entry ends up in one unbroken chain, 1…N.
func TestChainStaysLinearUnderConcurrentWriters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const writers, each = 4, 25
		var wg sync.WaitGroup
		done := make(chan struct{})
		errs := make(chan error, writers+3)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					err := db.InTx(ctx, func(tx *sql.Tx) error {
						return audit.Record(ctx, tx, audit.Event{Actor: audit.Automatic(audit.Machine, "自动审批"), Action: "application.approve",
							ObjectKind: "application", ObjectID: fmt.Sprintf("%d-%d", w, i)})
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		var chainers sync.WaitGroup
		for range 3 {
			chainers.Add(1)
			go func() {
				defer chainers.Done()
				for {
					select {
					case <-done:
						return
					default:
					}
					if _, err := audit.Chain(ctx, db); err != nil {
						errs <- err
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			}()
		}
		wg.Wait()
		close(done)
		chainers.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if _, err := audit.Chain(ctx, db); err != nil {
			t.Fatal(err)
		}
		r, err := audit.Verify(ctx, db, keyring(t, db))
		if err != nil {
			t.Fatal(err)
		}
		if r.Entries != writers*each || r.Head != writers*each || r.Pending != 0 || len(r.Findings) != 0 {
			t.Fatalf("report %+v", r)
		}
	})
}

// TestExportCarriesProofs exports a day's entries: each line's hash is
// recomputed from the line before it, and the signed head covering the
// range closes the proof.
func TestExportCarriesProofs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ring := keyring(t, db)
		day1 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		record(t, db, 3, day1)
		record(t, db, 3, day1.Add(24*time.Hour))
		record(t, db, 2, day1.Add(48*time.Hour))
		if _, _, err := audit.Sign(ctx, db, ring); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		n, err := audit.Export(ctx, db, day1.Add(24*time.Hour).Truncate(24*time.Hour), day1.Add(48*time.Hour).Truncate(24*time.Hour), &buf)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Fatalf("exported %d entries of the day, want 3:\n%s", n, buf.String())
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 5 { // 3 of the day, 2 more up to the signed head
			t.Fatalf("%d lines, want 5:\n%s", len(lines), buf.String())
		}
		var prev string
		for i, l := range lines {
			var line audit.Line
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
			if line.ProofOnly != (i >= 3) || line.Seq != int64(4+i) {
				t.Fatalf("line %d: seq %d proof_only %v", i, line.Seq, line.ProofOnly)
			}
			if i > 0 && line.PrevHash != prev {
				t.Fatalf("line %d does not follow line %d", i, i-1)
			}
			if line.ComputeHash(line.PrevHash) != line.Hash {
				t.Fatalf("line %d: hash does not recompute", i)
			}
			prev = line.Hash
			if line.Head == nil || line.Head.Seq != 8 {
				t.Fatalf("line %d: signed head %+v", i, line.Head)
			}
			if ok, _ := ring.VerifyWith(ctx, line.Head.KeyID, line.Head.Message(), line.Head.Signature); !ok {
				t.Fatalf("line %d: the head's signature does not verify", i)
			}
		}
		if prev != mustHead(t, lines).Hash {
			t.Fatal("the last line is not the signed head")
		}
	})
}

func mustHead(t *testing.T, lines []string) *audit.Head {
	var line audit.Line
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &line); err != nil {
		t.Fatal(err)
	}
	return line.Head
}

// TestBatchedWritesAtFlush keeps a transaction's entries until Flush and
// writes them in order; entries of other transactions are written at once.
func TestBatchedWritesAtFlush(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ev := func(id string) audit.Event {
			return audit.Event{Actor: audit.Automatic(audit.System, "test"), Action: "test", ObjectKind: "thing", ObjectID: id}
		}
		count := func(q store.Querier) int {
			var n int
			if err := q.QueryRowContext(ctx, `SELECT count(*) FROM audit_entries`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			bctx, b := audit.Batched(ctx, tx)
			for _, id := range []string{"1", "2", "3"} {
				if err := audit.Record(bctx, tx, ev(id)); err != nil {
					return err
				}
			}
			if n := count(tx); n != 0 {
				t.Errorf("%d entries written before Flush", n)
			}
			if err := b.Flush(bctx); err != nil {
				return err
			}
			if n := count(tx); n != 3 {
				t.Errorf("%d entries after Flush, want 3", n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		entries, _ := audit.Since(ctx, db, 0)
		for _, e := range entries {
			ids = append(ids, e.ObjectID)
		}
		if strings.Join(ids, ",") != "1,2,3" {
			t.Errorf("entries %v, want 1,2,3 in order", ids)
		}
		// A batch for one transaction leaves another's entries alone.
		bctx, _ := audit.Batched(ctx, &sql.Tx{})
		if err := db.InTx(ctx, func(tx *sql.Tx) error { return audit.Record(bctx, tx, ev("4")) }); err != nil {
			t.Fatal(err)
		}
		if n := count(db); n != 4 {
			t.Errorf("%d entries, want the other transaction's written too", n)
		}
	})
}

// BenchmarkRecord is the cost one audited change adds to the transaction
// it is part of: one insert, no lock. The entries go a hundred to a
// transaction, and only the inserts are timed: the commit is the change's.
func BenchmarkRecord(b *testing.B) {
	eachBackend(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		const perTx = 100
		b.StopTimer()
		for n := 0; n < b.N; {
			err := db.InTx(ctx, func(tx *sql.Tx) error {
				b.StartTimer()
				defer b.StopTimer()
				for end := min(n+perTx, b.N); n < end; n++ {
					err := audit.Record(ctx, tx, audit.Event{Actor: audit.Person("applicant", 7, "张*"), Action: "application.submit",
						ObjectKind: "application", ObjectID: fmt.Sprint(n), Detail: map[string]any{"from": "draft", "to": "submitted"}})
					if err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkChain is the chainer's cost per entry: hashing and numbering
// committed entries in batches.
func BenchmarkChain(b *testing.B) {
	eachBackend(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		b.StopTimer()
		record(b, db, b.N, time.Now())
		b.StartTimer()
		if _, err := audit.Chain(ctx, db); err != nil {
			b.Fatal(err)
		}
	})
}

func eachBackend(b *testing.B, fn func(*testing.B, *store.DB)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, storetest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, storetest.Postgres(b)) })
}
