package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"yiwang/internal/audit"
	"yiwang/internal/config"
	"yiwang/internal/logging"
	"yiwang/internal/seal"
	"yiwang/internal/store"
	"yiwang/internal/workday"
)

const auditSummary = `Sign, verify and export the tamper-evident audit trail (审计日志).

  yiwang audit sign                       chain what is pending and sign the head now
  yiwang audit verify                     check the whole chain and every signed head
  yiwang audit export --from D --to D     write entries with their proofs as JSON lines

verify reports the first entry that was edited, deleted or inserted, and a
tail deleted after a signed head, and exits with status 1 on any finding.
Entries are chained about a second after their commit and servers sign the
head every minute; entries not yet chained are counted, not checked.
export takes dates (China time; --to is inclusive) or RFC 3339 times (--to
exclusive), writes to --out (default: standard output), and adds the entries
after the range up to the signed head that covers it, marked proof_only, so
an archive can check every hash from the entry to the signature. The audit
key's public half is listed with the seal keys (/.well-known/yiwang-seal-keys.json).`

func auditCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "sign" && args[0] != "verify" && args[0] != "export") {
		fmt.Fprintf(stdout, "Usage: yiwang audit sign | verify | export --from D --to D [options]\n\n%s\n", auditSummary)
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			return nil
		}
		return usageError{errors.New("name the subcommand: sign, verify or export")}
	}
	sub := args[0]
	fs := flag.NewFlagSet("audit "+sub, flag.ContinueOnError)
	var from, to, out string
	if sub == "export" {
		fs.StringVar(&from, "from", "", "first day (2026-12-01) or time (RFC 3339) to export")
		fs.StringVar(&to, "to", "", "last day, inclusive, or time, exclusive")
		fs.StringVar(&out, "out", "", "file to write (default: standard output)")
	}
	cfg, _, err := config.Parse(fs, "audit", auditSummary, args[1:], 0, getenv, stdout)
	if err != nil {
		return parseError(err)
	}
	var start, end time.Time
	if sub == "export" {
		if start, err = parseWhen(from, false); err != nil {
			return usageError{fmt.Errorf("--from: %w", err)}
		}
		if end, err = parseWhen(to, true); err != nil {
			return usageError{fmt.Errorf("--to: %w", err)}
		}
		if !end.After(start) {
			return usageError{errors.New("--to must come after --from")}
		}
	}
	db, ring, err := openKeyring(ctx, cfg, logging.New(stderr, "text", 0))
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "sign":
		h, made, err := audit.Sign(ctx, db, ring)
		switch {
		case err != nil:
			return err
		case h.Seq == 0:
			fmt.Fprintln(stdout, "the audit trail is empty: nothing to sign")
		case made:
			fmt.Fprintf(stdout, "signed the head: entry %d, hash %s, key %s\n", h.Seq, h.Hash, h.KeyID)
		default:
			fmt.Fprintf(stdout, "the head, entry %d, was signed already (%s)\n", h.Seq, h.SignedAt)
		}
		return nil
	case "verify":
		return verifyAudit(ctx, db, ring, stdout)
	}
	w := stdout
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	n, err := audit.Export(ctx, db, start, end, w)
	if err != nil {
		return err
	}
	if out != "" {
		fmt.Fprintf(stdout, "exported %d entries to %s\n", n, out)
	}
	return nil
}

// errAuditFindings makes verify exit non-zero when it found tampering.
var errAuditFindings = errors.New("the audit trail was tampered with")

func verifyAudit(ctx context.Context, db *store.DB, ring *seal.Keyring, stdout io.Writer) error {
	r, err := audit.Verify(ctx, db, ring)
	if err != nil {
		return err
	}
	return reportAudit(stdout, r)
}

// reportAudit prints what a verification of the trail found, and fails
// when it found tampering.
func reportAudit(stdout io.Writer, r audit.Report) error {
	fmt.Fprintf(stdout, "%d entries checked, up to entry %d; %d signed heads, the newest at entry %d; %d not chained yet\n",
		r.Entries, r.Head, r.Heads, r.SignedUpTo, r.Pending)
	if r.Head > r.SignedUpTo {
		fmt.Fprintf(stdout, "entries %d to %d are chained but not signed yet: run 'yiwang audit sign', or a running server signs them within a minute\n", r.SignedUpTo+1, r.Head)
	}
	if len(r.Findings) == 0 {
		fmt.Fprintln(stdout, "ok: no entry was edited, deleted or inserted")
		return nil
	}
	f := r.Findings[0]
	fmt.Fprintf(stdout, "TAMPERED: first at entry %d (%s): %s\n", f.Seq, f.Kind, f.Message)
	for _, f := range r.Findings[1:] {
		fmt.Fprintf(stdout, "  then at entry %d (%s): %s\n", f.Seq, f.Kind, f.Message)
	}
	return errAuditFindings
}

// parseWhen reads a day (China time) or an RFC 3339 time; a day given as an
// end means the end of that day.
func parseWhen(s string, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("give a day such as 2026-12-01 or a time such as 2026-12-01T08:00:00+08:00")
	}
	if d, err := time.ParseInLocation(time.DateOnly, s, workday.CST); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a day such as 2026-12-01 nor a time such as 2026-12-01T08:00:00+08:00", s)
	}
	return t, nil
}
