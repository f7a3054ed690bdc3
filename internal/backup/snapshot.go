package backup

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"yiwang/internal/audit"
	"yiwang/internal/pii"
	"yiwang/internal/store"
)

// readSnapshot reads what the manifest records from q: inside the backup's
// snapshot transaction, from the copy itself, or from a restored database.
func readSnapshot(ctx context.Context, q store.Querier, backend store.Backend) (Snapshot, error) {
	var s Snapshot
	var err error
	if s.SchemaVersion, s.SchemaChecksum, err = store.SchemaVersion(ctx, q); err != nil {
		return s, fmt.Errorf("read the schema version: %w", err)
	}
	if s.DataKeyFingerprint, err = pii.StoredFingerprint(ctx, q); err != nil {
		return s, fmt.Errorf("read the data key's fingerprint: %w", err)
	}
	if s.Audit, err = audit.TipOf(ctx, q); err != nil {
		return s, fmt.Errorf("read the audit trail's tip: %w", err)
	}
	tables, err := store.Tables(ctx, q, backend)
	if err != nil {
		return s, fmt.Errorf("list the tables: %w", err)
	}
	s.Tables = make(map[string]int64, len(tables))
	for _, t := range tables {
		var n int64
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(t)).Scan(&n); err != nil {
			return s, fmt.Errorf("count the rows of %s: %w", t, err)
		}
		s.Tables[t] = n
	}
	return s, nil
}

// quoteIdent quotes a table name the catalogue gave, for both backends.
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// differences lists, in words, where got is not the snapshot want: empty
// when the restore brought back exactly what was copied.
func (want Snapshot) differences(got Snapshot) []string {
	var out []string
	if got.SchemaVersion != want.SchemaVersion || got.SchemaChecksum != want.SchemaChecksum {
		out = append(out, fmt.Sprintf("schema version %d, the backup's %d", got.SchemaVersion, want.SchemaVersion))
	}
	if got.DataKeyFingerprint != want.DataKeyFingerprint {
		out = append(out, "another data key fingerprint in settings")
	}
	if got.Audit != want.Audit {
		out = append(out, fmt.Sprintf("audit trail at entry %d (%d pending, signed up to %d), the backup's at %d (%d pending, signed up to %d)",
			got.Audit.Seq, got.Audit.Pending, got.Audit.SignedSeq, want.Audit.Seq, want.Audit.Pending, want.Audit.SignedSeq))
	}
	names := make([]string, 0, len(want.Tables))
	for t := range want.Tables {
		names = append(names, t)
	}
	for t := range got.Tables {
		if _, ok := want.Tables[t]; !ok {
			names = append(names, t)
		}
	}
	slices.Sort(names)
	for _, t := range names {
		w, inWant := want.Tables[t]
		g, inGot := got.Tables[t]
		switch {
		case !inGot:
			out = append(out, fmt.Sprintf("table %s is missing", t))
		case !inWant:
			out = append(out, fmt.Sprintf("table %s is not in the backup", t))
		case g != w:
			out = append(out, fmt.Sprintf("%s has %d rows, the backup %d", t, g, w))
		}
	}
	return out
}
