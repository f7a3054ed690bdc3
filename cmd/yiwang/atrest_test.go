package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"yiwang/internal/demo"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestNoPlaintextPersonalDataAtRest fills a database with demo applications
// of every approval mode (machine approval and rejection, a draft, a window
// intake, parallel review with a co-party and a correction, a filing on
// notice, a commitment approval with a deferral, a marriage with its
// parties), then reads every text column of every table and fails on any
// demo person's ID number or phone number found in plaintext, listing where.
func TestNoPlaintextPersonalDataAtRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h, a := citizenServerOn(t, db)
		richDemo(t, h, a)
		signTheCommitment(t, h, a, db)
		nameTheParties(t, h, a)
		needles := demoPersonalData(t)
		hits := plaintextHits(t, db, needles)
		if len(hits) > 0 {
			t.Errorf("personal data in plaintext in %d column(s):\n%s", len(hits), strings.Join(hits, "\n"))
		}
	})
}

// demoPersonalData is every ID number and phone number the demo people
// have: the demo accounts' and those of the registries' people
// (citizenServerOn seeds 50 persons and 10 enterprises with seed 1).
func demoPersonalData(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{demo.ZhangSan: true, demo.LiSi: true, demo.WangWu: true, "13800000001": true, "13800000002": true}
	g, err := demo.NewGenerator(50, 10, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var all []any
	for i := range g.Persons() {
		for _, e := range g.Person(i) {
			all = append(all, e.Subject.Key, e.Record)
		}
	}
	js, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range personalNumber.FindAllString(string(js), -1) {
		if len(v) == 18 || strings.HasPrefix(v, "1") && len(v) == 11 {
			out[v] = true
		}
	}
	if len(out) < 100 {
		t.Fatalf("only %d demo ID and phone numbers found: the generator's records changed shape", len(out))
	}
	return out
}

// personalNumber finds runs of digits (an ID number may end in X): an ID
// number or phone stored in plaintext is such a run of its own.
var personalNumber = regexp.MustCompile(`[0-9]+X?`)

// plaintextHits lists the table.column (with a count and an example, masked)
// of every text value that holds one of needles.
func plaintextHits(t *testing.T, db *store.DB, needles map[string]bool) []string {
	t.Helper()
	ctx := context.Background()
	var cols [][2]string
	var err error
	if db.Backend == store.Postgres {
		cols, err = store.All(ctx, db, columnPair, `SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')
			ORDER BY table_name, column_name`)
	} else {
		cols, err = store.All(ctx, db, columnPair, `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
			WHERE m.type = 'table' AND (p.type = '' OR upper(p.type) LIKE '%TEXT%' OR upper(p.type) LIKE '%CHAR%' OR upper(p.type) LIKE '%JSON%')
			ORDER BY m.name, p.name`)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) < 50 {
		t.Fatalf("only %d text columns listed: %v", len(cols), cols)
	}
	var hits []string
	for _, c := range cols {
		q := fmt.Sprintf(`SELECT CAST(%q AS TEXT) FROM %q WHERE %q IS NOT NULL`, c[1], c[0], c[1])
		values, err := store.All(ctx, db, store.Value[string], q)
		if err != nil {
			t.Fatalf("%s.%s: %v", c[0], c[1], err)
		}
		var found []string
		for _, v := range values {
			for _, n := range personalNumber.FindAllString(v, -1) {
				if needles[n] && !slices.Contains(found, n) {
					found = append(found, n)
				}
			}
		}
		if len(found) > 0 {
			hits = append(hits, fmt.Sprintf("%s.%s: %d value(s), e.g. %s…", c[0], c[1], len(found), found[0][:4]))
		}
	}
	return hits
}

// columnPair scans a table's and a column's name.
func columnPair(row store.Scanner) ([2]string, error) {
	var c [2]string
	return c, row.Scan(&c[0], &c[1])
}

// TestServeRefusesAnotherDataKey: a database set up with one data key
// keeps it; serve started on it with another key stops before it seeds or
// writes anything, with one line saying the key does not match.
func TestServeRefusesAnotherDataKey(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, dsn string) {
		first, _ := pii.NewKey()
		other, _ := pii.NewKey()
		s := startServe(t, "--db", dsn, "--demo", "--data-key", first)
		s.Stop()
		db := storetest.Open(t, dsn)
		var persons int
		if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM persons`).Scan(&persons); err != nil || persons == 0 {
			t.Fatalf("persons after the first start: %d %v", persons, err)
		}

		// A serve that starts anyway stops after 30 s, and fails below.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var stdout, errOut syncBuffer
		code := run(ctx, []string{"serve", "--db", dsn, "--demo", "--data-key", other, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-level", "error"}, noEnv, &stdout, &errOut)
		stderr := errOut.String()
		if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "does not match the one this database was set up with") {
			t.Errorf("serve with another key: exit %d, stderr %q; want 1 and one line saying the key does not match", code, stderr)
		}
		var after int
		if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM persons`).Scan(&after); err != nil || after != persons {
			t.Errorf("persons after the refused start: %d %v, want %d", after, err, persons)
		}

		s = startServe(t, "--db", dsn, "--data-key", first)
		if page := getBody(t, s.URL+"/login"); !strings.Contains(page, "演示账号") {
			t.Errorf("the first key no longer serves the demo:\n%s", page)
		}
		s.Stop()
	})
}
