package audit

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"yiwang/internal/store"
)

// Line is one line of an export: an entry with its hashes and the signed
// head that covers it (none yet if the chain was not signed since).
// Entries after the range up to that head come too, marked ProofOnly, so an
// archive can recompute the hashes from the entry to the signed head alone.
type Line struct {
	Entry
	ProofOnly bool  `json:"proof_only,omitempty"`
	Head      *Head `json:"signed_head,omitempty"`
}

// Export writes, as JSON lines, the chained entries recorded from from
// (inclusive) to to (exclusive), in chain order, each with its proof. It
// returns how many entries of the range it wrote.
func Export(ctx context.Context, q store.Querier, from, to time.Time, w io.Writer) (int, error) {
	hs, err := heads(ctx, q)
	if err != nil {
		return 0, err
	}
	covering := func(seq int64) *Head {
		for i := range hs {
			if hs[i].Seq >= seq {
				return &hs[i]
			}
		}
		return nil
	}
	f, t := from.UTC().Format(TimeFormat), to.UTC().Format(TimeFormat)
	enc := json.NewEncoder(w)
	n := 0
	var last int64 // the last entry of the range written
	var after int64
	for {
		batch, err := store.All(ctx, q, scanEntry, `SELECT `+entryColumns+` FROM audit_entries WHERE seq > $1 ORDER BY seq LIMIT $2`, after, verifyBatch)
		if err != nil {
			return n, err
		}
		for _, e := range batch {
			after = e.Seq
			in := e.At >= f && e.At < t
			var proof bool
			if !in {
				h := covering(last)
				if last == 0 || h == nil || e.Seq > h.Seq {
					continue
				}
				proof = true // between the range's last entry and its signed head
			}
			if in {
				n++
				last = e.Seq
			}
			if err := enc.Encode(Line{Entry: e, ProofOnly: proof, Head: covering(e.Seq)}); err != nil {
				return n, err
			}
		}
		if len(batch) < verifyBatch {
			return n, nil
		}
	}
}
