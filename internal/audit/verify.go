package audit

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"yiwang/internal/store"
)

// What Verify can find.
const (
	Edited      = "edited"       // an entry's content no longer matches its hash, or was replaced
	Deleted     = "deleted"      // entries are missing from the chain
	Inserted    = "inserted"     // entries were put into the chain that the chainer did not chain
	TailDeleted = "tail_deleted" // entries a signed head covers are gone from the end
	Rewritten   = "rewritten"    // the chain up to a signed head is not the one that was signed
	BadHead     = "bad_head"     // a signed head's signature does not verify
)

// Finding is one sign of tampering, at the first sequence number it touches.
type Finding struct {
	Seq     int64  `json:"seq"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// Report is what Verify found.
type Report struct {
	Entries    int64     `json:"entries"`      // chained entries read
	Head       int64     `json:"head"`         // the newest sequence number
	Pending    int64     `json:"pending"`      // entries committed but not chained yet
	Heads      int       `json:"heads"`        // signed heads
	SignedUpTo int64     `json:"signed_up_to"` // the newest signed sequence number
	Findings   []Finding `json:"findings"`     // in chain order; the first is the first place the chain was changed
}

// verifyBatch is how many entries Verify reads at a time.
const verifyBatch = 5000

// maxFindings bounds a report: after a hundred, the rest adds nothing.
const maxFindings = 100

// Verify reads the whole chain and every signed head and reports where they
// disagree. Each entry is checked against its own hash and linked to the
// entry before it; a broken link is told apart as a deletion (a gap, or
// renumbered entries whose own hashes fail), an insertion (the link points
// back to an earlier entry) or a replaced entry. Signed heads then catch
// what a consistent rewrite or a deleted tail hides from the links.
func Verify(ctx context.Context, q store.Querier, keys Keys) (Report, error) {
	var r Report
	add := func(seq int64, kind, format string, args ...any) {
		if len(r.Findings) < maxFindings {
			r.Findings = append(r.Findings, Finding{Seq: seq, Kind: kind, Message: fmt.Sprintf(format, args...)})
		}
	}
	hs, err := heads(ctx, q)
	if err != nil {
		return r, err
	}
	signed := map[int64]bool{}
	for _, h := range hs {
		signed[h.Seq] = true
	}
	hashOf := map[int64]string{} // the stored hashes at signed heads
	seen := newRecent(insertWindow)
	seen.add(Genesis, 0)
	var prevSeq int64
	prevHash := Genesis
	for {
		batch, err := store.All(ctx, q, scanEntry, `SELECT `+entryColumns+` FROM audit_entries WHERE seq > $1 ORDER BY seq LIMIT $2`, prevSeq, verifyBatch)
		if err != nil {
			return r, err
		}
		for _, e := range batch {
			r.Entries++
			contentOK := e.ComputeHash(e.PrevHash) == e.Hash
			switch {
			case e.Seq != prevSeq+1:
				add(prevSeq+1, Deleted, "entries %d to %d are missing: deleted", prevSeq+1, e.Seq-1)
			case e.PrevHash != prevHash:
				if q, ok := seen.seq(e.PrevHash); ok && q < prevSeq {
					add(q+1, Inserted, "entries %d to %d were inserted: entry %d follows entry %d in the chain", q+1, prevSeq, e.Seq, q)
				} else if contentOK {
					add(prevSeq, Edited, "entry %d was replaced: entry %d does not follow it", prevSeq, e.Seq)
				} else {
					add(e.Seq, Deleted, "an entry before %d was deleted and the later ones renumbered", e.Seq)
				}
			case !contentOK:
				add(e.Seq, Edited, "entry %d was edited: its content does not match its hash", e.Seq)
			}
			seen.add(e.Hash, e.Seq)
			if signed[e.Seq] {
				hashOf[e.Seq] = e.Hash
			}
			prevSeq, prevHash = e.Seq, e.Hash
		}
		if len(batch) < verifyBatch {
			break
		}
	}
	r.Head = prevSeq
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM audit_entries WHERE seq IS NULL`).Scan(&r.Pending); err != nil {
		return r, err
	}
	r.Heads = len(hs)
	for _, h := range hs {
		ok, err := keys.VerifyWith(ctx, h.KeyID, h.Message(), h.Signature)
		if err != nil {
			return r, err
		}
		if !ok {
			add(h.Seq, BadHead, "the signed head at entry %d does not verify with key %s: it was forged or altered", h.Seq, h.KeyID)
			continue
		}
		r.SignedUpTo = max(r.SignedUpTo, h.Seq)
		switch stored, ok := hashOf[h.Seq]; {
		case h.Seq > r.Head:
			add(r.Head+1, TailDeleted, "entries %d to %d, signed on %s, are gone: the tail was deleted", r.Head+1, h.Seq, h.SignedAt)
		case !ok:
			// a gap, reported above
		case stored != h.Hash:
			add(h.Seq, Rewritten, "the chain up to entry %d is not the one signed on %s", h.Seq, h.SignedAt)
		}
	}
	slices.SortStableFunc(r.Findings, func(a, b Finding) int { return cmp.Compare(a.Seq, b.Seq) })
	return r, nil
}

// insertWindow is how far back Verify looks for the entry an inserted run
// was put after; a link to an older one is still a finding, named as an
// edit or a deletion. It bounds Verify's memory however long the chain.
const insertWindow = 1 << 16

// recent maps the hashes of the last n entries to their sequence numbers.
type recent struct {
	bySum map[string]int64
	ring  []seqHash
	next  int
}

type seqHash struct {
	hash string
	seq  int64
}

func newRecent(n int) *recent { return &recent{bySum: map[string]int64{}, ring: make([]seqHash, n)} }

func (r *recent) add(hash string, seq int64) {
	if old := r.ring[r.next]; old.hash != "" && r.bySum[old.hash] == old.seq {
		delete(r.bySum, old.hash)
	}
	r.ring[r.next] = seqHash{hash, seq}
	r.next = (r.next + 1) % len(r.ring)
	r.bySum[hash] = seq
}

func (r *recent) seq(hash string) (int64, bool) {
	s, ok := r.bySum[hash]
	return s, ok
}
