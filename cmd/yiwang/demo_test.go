package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"yiwang/internal/demo"
	"yiwang/internal/hub"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

func TestDemoGenerate(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		if code, _, stderr := runCmd(t, "migrate", "--db", dsn); code != 0 {
			t.Fatalf("migrate: %s", stderr)
		}
		args := []string{"demo", "generate", "--db", dsn, "--data-dir", dir, "--persons", "500", "--enterprises", "50", "--seed", "9"}
		code, stdout, stderr := runCmd(t, args...)
		if code != 0 {
			t.Fatalf("demo generate = %d: %s", code, stderr)
		}
		m := regexp.MustCompile(`^wrote ([0-9,]+) records of 500 persons and 50 enterprises .* population 503,`).FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("summary = %q", stdout)
		}
		if !strings.Contains(stderr, "550 / 550  100%") || strings.Count(stderr, "subjects") > 10 {
			t.Errorf("progress on a non-terminal is not one line a tenth:\n%s", stderr)
		}
		written, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))

		db, err := store.Open(context.Background(), dsn, dir)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if rows := countRegistryRows(t, db); rows != written {
			t.Errorf("the summary says %d records, the table has %d", written, rows)
		}
		keyText, err := os.ReadFile(filepath.Join(dir, "data.key"))
		if err != nil {
			t.Fatal(err)
		}
		key, err := pii.ParseKey(string(keyText))
		if err != nil {
			t.Fatal(err)
		}
		p, err := pii.NewProtector(key)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := hub.NewBuiltin(db, p).Fetch(context.Background(), "population", hub.Subject{Kind: hub.Person, Key: demo.ZhangSan}, []string{"name", "alive"})
		if err != nil || rec["name"] != "张三" || rec["alive"] != true {
			t.Errorf("Zhang San reads back as %v, %v", rec, err)
		}

		// Again: the same records replaced, none added.
		if code, _, stderr := runCmd(t, args...); code != 0 {
			t.Fatalf("second run = %d: %s", code, stderr)
		}
		if rows := countRegistryRows(t, db); rows != written {
			t.Errorf("after a second run the table has %d rows, want %d", rows, written)
		}
	})
}

func countRegistryRows(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM registry_records`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDemoBadInputIsOneClearLine(t *testing.T) {
	fresh := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no subcommand", []string{"demo"}, 2, "name the subcommand: generate"},
		{"negative size", []string{"demo", "generate", "--persons", "-1"}, 2, "--persons must be between 0 and 10,000,000, not -1"},
		{"too many", []string{"demo", "generate", "--enterprises", "10000001"}, 2, "--enterprises must be between 0 and 10,000,000"},
		{"not a number", []string{"demo", "generate", "--seed", "abc"}, 2, `invalid value "abc" for flag -seed`},
		{"unknown flag", []string{"demo", "generate", "--people", "5"}, 2, "unknown flag --people"},
		{"unmigrated database", []string{"demo", "generate", "--data-dir", fresh, "--persons", "5"}, 1, "is not migrated: run 'yiwang migrate' first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want %d and one line containing %q", code, stderr, tt.code, tt.want)
			}
		})
	}
	if code, stdout, _ := runCmd(t, "demo", "generate", "--help"); code != 0 || !strings.Contains(stdout, "--persons") || !strings.Contains(stdout, "--data-key") {
		t.Errorf("yiwang demo generate --help = %d %q", code, stdout)
	}
}

func TestProgress(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, "subjects")
	for done := 0; done <= 1_234_567; done += 4321 {
		p.update(done, 1_234_567)
	}
	p.update(1_234_567, 1_234_567)
	p.end()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 10 || !strings.HasPrefix(lines[9], "subjects  1,234,567 / 1,234,567  100%  ETA 0:00") || !strings.Contains(lines[0], " 10%") {
		t.Errorf("progress lines:\n%s", out.String())
	}
}
