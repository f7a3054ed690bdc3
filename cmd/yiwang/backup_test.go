package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"yiwang/internal/application"
	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/backup"
	"yiwang/internal/blob"
	"yiwang/internal/demo"
	"yiwang/internal/hub"
	"yiwang/internal/licence"
	"yiwang/internal/logging"
	"yiwang/internal/seal"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// foodComplaint takes an uploaded receipt (a material in the blob store).
const foodComplaint = "11910102MB0001111L-10-00005"

// TestBackupWhileSubmitting backs up a site on both backends while
// applicants submit — senior cards approved at once with their licence,
// complaints with an uploaded receipt — and the audit trail is chained as
// serve chains it, then restores the backup into a fresh place and checks
// that it holds what the manifest says: the rows of every table, the
// audit trail (verified, and still chaining on), every licence (verified),
// and the file of every material an application names.
func TestBackupWhileSubmitting(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a, db, dataDir, key := backupSite(t, dsn)

		// Applicants submit, and the trail is chained, until the backup is
		// done and some more submissions have followed it.
		running, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { audit.Run(running, db, a.keyring, logging.New(io.Discard, "text", 0)) })
		var submitted atomic.Int64
		failed := make(chan error, 3)
		zhang, wang := applicantOf(t, a, demo.ZhangSan), applicantOf(t, a, demo.WangWu)
		for w := range 3 {
			wg.Go(func() {
				for i := 0; running.Err() == nil; i++ {
					var err error
					if (w+i)%2 == 0 {
						err = submitSeniorCard(ctx, a.applications.Drafts, zhang)
					} else {
						err = submitComplaint(ctx, a.applications.Drafts, wang, fmt.Sprintf("%d-%d", w, i))
					}
					if err != nil {
						failed <- err
						return
					}
					submitted.Add(1)
				}
			})
		}
		waitUntil(t, failed, func() bool { return submitted.Load() >= 6 })
		dest := filepath.Join(t.TempDir(), "backup")
		code, stdout, stderr := runCmd(t, "backup", dest, "--db", dsn, "--data-dir", dataDir)
		if code != 0 {
			stop()
			wg.Wait()
			t.Fatalf("backup: exit %d\n%s%s", code, stdout, stderr)
		}
		t.Log(strings.TrimSpace(stdout))
		during := submitted.Load()
		waitUntil(t, failed, func() bool { return submitted.Load() >= during+3 })
		stop()
		wg.Wait()
		close(failed)
		for err := range failed {
			t.Fatal(err)
		}
		m, err := backup.ReadManifest(dest)
		if err != nil {
			t.Fatal(err)
		}
		var sourceApps int64
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM applications`).Scan(&sourceApps); err != nil {
			t.Fatal(err)
		}
		if m.Tables["applications"] < 6 || m.Tables["applications"] >= sourceApps || m.Blobs.Files == 0 || m.Audit.Seq == 0 {
			t.Fatalf("the backup is not one taken in the middle of the submissions: %d applications in it, %d at the end; %d materials; audit at %d",
				m.Tables["applications"], sourceApps, m.Blobs.Files, m.Audit.Seq)
		}

		// Restore into a fresh place: SQLite with the key given, PostgreSQL
		// with the key file put into the new data folder first.
		newDir := t.TempDir()
		restoredDSN := ""
		args := []string{"restore", dest, "--data-dir", newDir}
		if db.Backend == store.Postgres {
			restoredDSN = freshDatabase(t, dsn)
			os.WriteFile(filepath.Join(newDir, keyFile), []byte(key+"\n"), 0o600)
			args = append(args, "--db", restoredDSN)
		} else {
			args = append(args, "--data-key", key)
		}
		code, stdout, stderr = runCmd(t, args...)
		if code != 0 || !strings.Contains(stdout, "ok: no entry was edited") {
			t.Fatalf("restore: exit %d\n%s%s", code, stdout, stderr)
		}
		t.Log(strings.TrimSpace(stdout))
		code, _, stderr = runCmd(t, args...)
		if code != 1 || !strings.Contains(stderr, "is not empty") || !strings.Contains(stderr, "--force") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("a second restore into the same place: exit %d, %q; want a refusal naming --force", code, stderr)
		}

		restored, err := store.Open(ctx, restoredDSN, newDir)
		if err != nil {
			t.Fatal(err)
		}
		defer restored.Close()
		checkRestored(t, restored, m, key, filepath.Join(newDir, "blobs"))
	})
}

// checkRestored checks a restored database against the backup's manifest.
func checkRestored(t *testing.T, db *store.DB, m backup.Manifest, key, blobs string) {
	t.Helper()
	ctx := context.Background()
	tables, err := store.Tables(ctx, db, db.Backend)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != len(m.Tables) {
		t.Errorf("%d tables restored, the manifest counts %d", len(tables), len(m.Tables))
	}
	for _, table := range tables {
		var n int64
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if want, ok := m.Tables[table]; !ok || n != want {
			t.Errorf("%s: %d rows restored, the manifest counts %d", table, n, want)
		}
	}

	k, protector := protectorOf(t, key)
	ring, err := seal.NewKeyring(db, k)
	if err != nil {
		t.Fatal(err)
	}
	r, err := audit.Verify(ctx, db, ring)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) > 0 || r.Head != m.Audit.Seq || r.Pending != m.Audit.Pending || r.SignedUpTo != m.Audit.SignedSeq || r.SignedUpTo == 0 {
		t.Errorf("restored audit trail: %+v; the manifest's tip %+v", r, m.Audit)
	}
	// The restored trail goes on: what was pending is chained onto it.
	if _, _, err := audit.Sign(ctx, db, ring); err != nil {
		t.Fatal(err)
	}
	if r, err := audit.Verify(ctx, db, ring); err != nil || len(r.Findings) > 0 || r.Pending != 0 || r.Head != m.Audit.Seq+m.Audit.Pending {
		t.Errorf("the restored trail, chained and signed: %+v, %v", r, err)
	}

	licences := licence.NewService(db, ring, protector, hub.NewBuiltin(db, protector), "https://restored.example")
	numbers, err := store.All(ctx, db, store.Value[string], `SELECT number FROM licences`)
	if err != nil {
		t.Fatal(err)
	}
	if len(numbers) == 0 {
		t.Error("no licence was restored")
	}
	for _, n := range numbers {
		v, err := licences.VerifyNumber(ctx, n)
		if err != nil || v.Result != licence.Valid {
			t.Errorf("restored licence %s: %s %v", n, v.Result, err)
		}
	}

	// Every material an application names has its file.
	digest := regexp.MustCompile(`"digest":"([0-9a-f]{64})"`)
	sealed, err := store.All(ctx, db, store.Value[string], `SELECT materials FROM applications`)
	if err != nil {
		t.Fatal(err)
	}
	named := 0
	for _, s := range sealed {
		plain, err := protector.OpenFor(s, "applications.materials")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range digest.FindAllStringSubmatch(plain, -1) {
			named++
			if _, err := os.Stat(filepath.Join(blobs, d[1][:2], d[1][2:4], d[1])); err != nil {
				t.Errorf("material %s is named by an application but not restored: %v", d[1], err)
			}
		}
	}
	if named == 0 {
		t.Error("no restored application names an uploaded material")
	}
}

// backupSite is the demo platform on a fresh database at dsn as serve
// runs it, its materials in blobs/ of its data folder as serve keeps them,
// with a data key of its own (returned in base64) and the head of its
// audit trail signed; applicants may submit without the daily limit.
func backupSite(t *testing.T, dsn string) (a *app, db *store.DB, dataDir, key string) {
	t.Helper()
	ctx := context.Background()
	db = storetest.Open(t, dsn)
	dataDir = t.TempDir()
	key, k, protector := newDataKey(t)
	blobs, err := blob.NewFS(filepath.Join(dataDir, "blobs"), blob.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(ctx, db, demo.Options{OnPostgres: true}); err != nil {
		t.Fatal(err)
	}
	a, err = newApp(ctx, db, appOptions{protector: protector, dataKey: k, blobs: blobs, submissions: 100_000}, logging.New(io.Discard, "text", 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedAccounts(ctx, db, a.identities); err != nil {
		t.Fatal(err)
	}
	withRegistries(t, a)
	if _, _, err := audit.Sign(ctx, db, a.keyring); err != nil {
		t.Fatal(err)
	}
	return a, db, dataDir, key
}

// applicantOf is a demo person signed in, with an applicant's permissions.
func applicantOf(t *testing.T, a *app, idNumber string) authz.Principal {
	t.Helper()
	ctx := context.Background()
	acc, err := a.identities.Login(ctx, idNumber, demo.Password)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := a.identities.StartSession(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := a.identities.SessionPrincipal(ctx, sess.Token)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// submitSeniorCard has the applicant apply for the senior card, which the
// machine approves with its licence in the same request.
func submitSeniorCard(ctx context.Context, d *application.Drafts, p authz.Principal) error {
	a, err := d.Start(ctx, p, application.StartRequest{ItemCode: seniorCard})
	if err == nil {
		_, err = d.UpdateForm(ctx, p, a.ID, map[string]any{"delivery": "electronic"})
	}
	if err == nil {
		_, err = d.Submit(ctx, p, a.ID, 0, "")
	}
	if err != nil {
		return fmt.Errorf("senior card: %w", err)
	}
	return nil
}

// submitComplaint has the applicant complain about food, with a receipt of
// their own (content unique to tag) uploaded.
func submitComplaint(ctx context.Context, d *application.Drafts, p authz.Principal, tag string) error {
	a, err := d.Start(ctx, p, application.StartRequest{ItemCode: foodComplaint, Answers: map[string]string{"type": "complaint", "identity": "named"}})
	if err == nil {
		a, err = d.UpdateForm(ctx, p, a.ID, map[string]any{"business_name": "示范小吃店", "business_address": "示范市明德区福安街道1号",
			"problem": "expired", "description": "买到的面包已经过期三天了。", "occurred_on": "2026-11-30", "amount": 12.5, "demand": "refund"})
	}
	if err == nil {
		a, err = d.UploadMaterial(ctx, p, a.ID, a.Revision, "receipt", strings.NewReader("%PDF-1.4\n% receipt "+tag+"\n%%EOF\n"), false)
	}
	if err == nil {
		_, err = d.Submit(ctx, p, a.ID, a.Revision, "")
	}
	if err != nil {
		return fmt.Errorf("complaint %s: %w", tag, err)
	}
	return nil
}

// waitUntil waits for done, failing the test on a submitter's error or
// after a minute.
func waitUntil(t *testing.T, failed <-chan error, done func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !done(); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-failed:
			t.Fatal(err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the submissions did not get that far in a minute")
		}
	}
}

// freshDatabase makes a new, empty database on the PostgreSQL test server,
// dropped when the test ends, and returns its URL with the search_path of
// dsn: a restore keeps the schema the backup was taken from.
func freshDatabase(t *testing.T, dsn string) string {
	t.Helper()
	admin, err := sql.Open("pgx", os.Getenv(storetest.EnvPostgres))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 8)
	rand.Read(b)
	name := "yt_restore_" + hex.EncodeToString(b)
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP DATABASE ` + name + ` WITH (FORCE)`); err != nil {
			t.Errorf("drop the restored database: %v", err)
		}
		admin.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// TestRestoreRefuses: a backup goes only into an empty folder; a restore
// refuses, in one line and before it writes, a missing or another data key,
// a folder that is no backup, a database of the other kind or (PostgreSQL)
// of another schema, and a damaged backup; --force replaces a restored
// database, which then holds what the manifest says.
func TestRestoreRefuses(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a, db, dataDir, key := backupSite(t, dsn)
		if err := submitComplaint(ctx, a.applications.Drafts, applicantOf(t, a, demo.WangWu), "refusals"); err != nil {
			t.Fatal(err)
		}
		if err := submitSeniorCard(ctx, a.applications.Drafts, applicantOf(t, a, demo.ZhangSan)); err != nil {
			t.Fatal(err)
		}
		dest := filepath.Join(t.TempDir(), "backup")
		if code, stdout, stderr := runCmd(t, "backup", "--db", dsn, "--data-dir", dataDir, dest); code != 0 {
			t.Fatalf("backup: exit %d\n%s%s", code, stdout, stderr)
		}
		other, _, _ := newDataKey(t)
		newDir := t.TempDir()
		target := []string{"--data-dir", newDir}
		otherKind := []string{"--db", "postgres://u@127.0.0.1:1/x"}
		restoredDSN := ""
		if db.Backend == store.Postgres {
			restoredDSN = freshDatabase(t, dsn)
			target = append(target, "--db", restoredDSN)
			otherKind = []string{"--data-dir", t.TempDir()}
		}
		refusals := []struct {
			name string
			args []string
			code int
			want string
		}{
			{"backup into a folder not empty", []string{"backup", dest, "--db", dsn, "--data-dir", dataDir}, 1, "is not empty: give a new folder for each backup"},
			{"no key", append([]string{"restore", dest}, target...), 2, "restore needs the data key the backup was made with"},
			{"another key", append([]string{"restore", dest, "--data-key", other}, target...), 1, "does not match the one the backed-up database was set up with"},
			{"no backup", append([]string{"restore", t.TempDir(), "--data-key", key}, target...), 1, "has no manifest.json: it is not a backup"},
			{"the other kind", append([]string{"restore", dest, "--data-key", key}, otherKind...), 1, "backup: restore it to a"},
		}
		if db.Backend == store.Postgres {
			u, _ := url.Parse(restoredDSN)
			q := u.Query()
			q.Set("search_path", "elsewhere")
			u.RawQuery = q.Encode()
			refusals = append(refusals, struct {
				name string
				args []string
				code int
				want string
			}{"another schema", []string{"restore", dest, "--data-key", key, "--data-dir", newDir, "--db", u.String()}, 1, "pg_restore cannot rename a schema"})
		}
		for _, r := range refusals {
			code, _, stderr := runCmd(t, r.args...)
			if code != r.code || !strings.Contains(stderr, r.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("%s: exit %d, stderr %q; want %d and one line containing %q", r.name, code, stderr, r.code, r.want)
			}
		}
		if entries, _ := os.ReadDir(newDir); len(entries) > 0 {
			t.Errorf("the refused restores wrote into %s: %v", newDir, entries)
		}

		restore := append([]string{"restore", dest, "--data-key", key}, target...)
		for _, args := range [][]string{restore, append(restore, "--force")} {
			if code, stdout, stderr := runCmd(t, args...); code != 0 {
				t.Fatalf("%v: exit %d\n%s%s", args[3:], code, stdout, stderr)
			}
		}
		m, err := backup.ReadManifest(dest)
		if err != nil {
			t.Fatal(err)
		}
		restored, err := store.Open(ctx, restoredDSN, newDir)
		if err != nil {
			t.Fatal(err)
		}
		defer restored.Close()
		checkRestored(t, restored, m, key, filepath.Join(newDir, "blobs"))

		// A backup with a material missing, or a damaged database file.
		list, err := filepath.Glob(filepath.Join(dest, "blobs", "*", "*", "*"))
		if err != nil || len(list) == 0 {
			t.Fatalf("no material in the backup: %v", err)
		}
		material, _ := os.ReadFile(list[0])
		os.Remove(list[0])
		code, _, stderr := runCmd(t, append(restore, "--force")...)
		if code != 1 || !strings.Contains(stderr, "files are missing") {
			t.Errorf("a backup missing a material: exit %d, %q", code, stderr)
		}
		os.WriteFile(list[0], material, 0o600)
		f, err := os.OpenFile(filepath.Join(dest, m.Database.Name), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte{0})
		f.Close()
		code, _, stderr = runCmd(t, append(restore, "--force")...)
		if lines := strings.Split(strings.TrimSpace(stderr), "\n"); code != 1 || !strings.Contains(lines[len(lines)-1], "is damaged (its SHA-256 is not the manifest's)") {
			t.Errorf("a damaged database file: exit %d, %q", code, stderr)
		}
	})
}
