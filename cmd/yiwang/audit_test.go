package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"yiwang/internal/audit"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestAuditCommands signs, verifies and exports the trail from the command
// line on both backends, and has verify fail with the first tampered entry.
func TestAuditCommands(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dir := t.TempDir()
		data := filepath.Join(dir, "data")
		good := filepath.Join(dir, "2027.yaml")
		os.WriteFile(good, []byte(year2027), 0o644)
		at := []string{"--db", dsn, "--data-dir", data}
		if code, _, stderr := runCmd(t, append([]string{"migrate"}, at...)...); code != 0 {
			t.Fatal(stderr)
		}
		// A configuration change made on the command line is on the trail.
		if code, _, stderr := runCmd(t, append(append([]string{"calendar", "load"}, at...), good)...); code != 0 {
			t.Fatal(stderr)
		}
		db, err := store.Open(ctx, dsn, data)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		day := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC) // 10:00 in China
		for i := range 4 {
			err := db.InTx(ctx, func(tx *sql.Tx) error {
				return audit.Record(ctx, tx, audit.Event{Actor: audit.Automatic(audit.Machine, "自动审批"), Action: "application.approve",
					ObjectKind: "application", ObjectID: "1", At: day.Add(time.Duration(i) * 24 * time.Hour)})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		out := filepath.Join(dir, "export.jsonl")
		steps := []struct {
			name   string
			args   []string
			code   int
			stdout string // a regular expression
		}{
			{"before chaining", []string{"audit", "verify"}, 0, `0 entries checked.*5 not chained yet(?s).*ok: no entry`},
			{"sign", []string{"audit", "sign"}, 0, `signed the head: entry 5, hash [0-9a-f]{64}, key _audit-`},
			{"sign again", []string{"audit", "sign"}, 0, `the head, entry 5, was signed already`},
			{"verify", []string{"audit", "verify"}, 0, `5 entries checked, up to entry 5; 1 signed heads, the newest at entry 5; 0 not chained yet\nok:`},
			{"export a day", []string{"audit", "export", "--from", "2026-12-02", "--to", "2026-12-02", "--out", out}, 0, `exported 1 entries to`},
			{"export without dates", []string{"audit", "export"}, 2, ``},
		}
		run := func(args []string, code int, stdout string) {
			t.Helper()
			c, so, se := runCmd(t, append(append([]string{}, args...), at...)...)
			if c != code || !regexp.MustCompile(stdout).MatchString(so) {
				t.Fatalf("%v: exit %d (want %d)\nstdout: %s\nstderr: %s", args, c, code, so, se)
			}
		}
		for _, s := range steps {
			run(s.args, s.code, s.stdout)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 3 || !strings.Contains(lines[0], `"seq":3`) || strings.Contains(lines[0], "proof_only") ||
			!strings.Contains(lines[1], `"proof_only":true`) || !strings.Contains(lines[2], `"signed_head":{"seq":5`) {
			t.Fatalf("export:\n%s", b)
		}
		if _, err := db.ExecContext(ctx, `UPDATE audit_entries SET human = $1 WHERE seq = 3`, true); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `DELETE FROM audit_entries WHERE seq = 5`); err != nil {
			t.Fatal(err)
		}
		run([]string{"audit", "verify"}, 1, `TAMPERED: first at entry 3 \(edited\).*\n  then at entry 5 \(tail_deleted\)`)
	})
}
