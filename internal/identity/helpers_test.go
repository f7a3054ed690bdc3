package identity_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/ident"
	"yiwang/internal/identity"
	"yiwang/internal/notify"
	"yiwang/internal/org"
	"yiwang/internal/pii"
	"yiwang/internal/store"
)

// password is every test account's password (at least 10 characters).
const password = "correct-horse-42"

// region and department every test staff member belongs to.
const (
	testRegion = "910102"
	testDept   = "civil"
)

// idNumber builds a valid resident ID number in the test region, as the demo
// data does: region, birth date, three-digit sequence, check character.
func idNumber(t testing.TB, birth, seq string) string {
	t.Helper()
	first := testRegion + birth + seq
	c, err := ident.IDNumberCheck(first)
	if err != nil {
		t.Fatalf("idNumber(%q, %q): %v", birth, seq, err)
	}
	return first + string(c)
}

// idNumberEndingInX returns a valid ID number whose check character is X.
func idNumberEndingInX(t testing.TB, birth string) string {
	t.Helper()
	for seq := 100; seq < 1000; seq++ {
		first := fmt.Sprintf("%s%s%03d", testRegion, birth, seq)
		if c, _ := ident.IDNumberCheck(first); c == 'X' {
			return first + "X"
		}
	}
	t.Fatal("no sequence gives the check character X")
	return ""
}

// wrongCheck returns id with another check character: a typing mistake.
func wrongCheck(id string) string {
	const chars = "0123456789X"
	return id[:17] + string(chars[(strings.IndexByte(chars, id[17])+1)%len(chars)])
}

// creditCode builds a valid unified social credit code from its first 17 characters.
func creditCode(t testing.TB, first17 string) string {
	t.Helper()
	c, err := ident.CreditCodeCheck(first17)
	if err != nil {
		t.Fatalf("creditCode(%q): %v", first17, err)
	}
	return first17 + string(c)
}

// clock is a settable time source for Store.SetNow and Limiter.SetNow.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is an identity store on a fresh database with a region and a
// department for staff, and a clock the test controls.
type fixture struct {
	ctx       context.Context
	db        *store.DB
	ids       *identity.Store
	clock     *clock
	protector *pii.Protector
}

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	var key pii.Key
	for i := range key {
		key[i] = byte(i*7 + 3)
	}
	protector, err := pii.NewProtector(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := org.PutRegion(ctx, db, org.Region{Code: testRegion, Level: "district", NameZh: "明德区", NameEn: "Mingde"}); err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{testDept, "tax"} {
		if err := org.PutDepartment(ctx, db, org.Department{Code: code, RegionCode: testRegion, NameZh: "部门 " + code, NameEn: "Department " + code}); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{ctx: ctx, db: db, ids: identity.NewStore(db, protector), clock: newClock(), protector: protector}
	f.ids.SetNow(f.clock.Now)
	return f
}

// otherProcess is a second identity store on the fixture's database and
// clock, as another yiwang process sharing the database has.
func (f *fixture) otherProcess() *identity.Store {
	ids := identity.NewStore(f.db, f.protector)
	ids.SetNow(f.clock.Now)
	return ids
}

// staff creates a staff account in the test department with roles.
func (f *fixture) staff(t testing.TB, username string, roles ...authz.Role) identity.Account {
	t.Helper()
	a, err := f.ids.CreateStaff(f.ctx, identity.NewStaff{Username: username, DisplayName: "职员 " + username, Password: password,
		Department: testDept, Region: testRegion, Roles: roles}, 0)
	if err != nil {
		t.Fatalf("CreateStaff(%s): %v", username, err)
	}
	return a
}

// person registers a person's applicant account.
func (f *fixture) person(t *testing.T, idNumber, name string) identity.Account {
	t.Helper()
	a, err := f.ids.RegisterPerson(f.ctx, idNumber, name, "", password)
	if err != nil {
		t.Fatalf("RegisterPerson(%s): %v", name, err)
	}
	return a
}

// session signs an account in and returns its token and principal.
func (f *fixture) session(t testing.TB, accountID int64) (string, authz.Principal) {
	t.Helper()
	sess, err := f.ids.StartSession(f.ctx, accountID)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := f.ids.SessionPrincipal(f.ctx, sess.Token)
	if err != nil {
		t.Fatalf("SessionPrincipal of a new session: %v", err)
	}
	return sess.Token, p
}

// principal re-reads a session's principal, failing the test if it is refused.
func (f *fixture) principal(t *testing.T, token string) authz.Principal {
	t.Helper()
	p, _, err := f.ids.SessionPrincipal(f.ctx, token)
	if err != nil {
		t.Fatalf("SessionPrincipal: %v", err)
	}
	return p
}

// disable marks an account disabled, as an administrator would.
func (f *fixture) disable(t *testing.T, accountID int64) {
	t.Helper()
	if err := f.ids.DisableAccount(f.ctx, accountID, 0); err != nil {
		t.Fatal(err)
	}
}

// count returns the number of rows of table matching where (may be empty).
func (f *fixture) count(t *testing.T, table, where string, args ...any) int {
	t.Helper()
	q := `SELECT count(*) FROM ` + table
	if where != "" {
		q += ` WHERE ` + where
	}
	var n int
	if err := f.db.QueryRowContext(f.ctx, q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// rawRows returns every value of the rows a query selects, as text.
func rawRows(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			out = append(out, fmt.Sprintf("%s=%v", cols[i], v))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// wantErr checks that err is an apperr of kind with code.
func wantErr(t *testing.T, what string, err error, kind apperr.Kind, code string) *apperr.Error {
	t.Helper()
	e := apperr.As(err)
	if e == nil {
		t.Fatalf("%s: error = %v, want %s (%s)", what, err, code, kind)
	}
	if e.Kind != kind || e.Code != apperr.Code(code) {
		t.Fatalf("%s: error = %s/%s %q, want %s/%s", what, e.Kind, e.Code, e.Message, kind, code)
	}
	return e
}

// mustNotContain fails if any of haystack contains needle.
func mustNotContain(t *testing.T, what string, haystack []string, needles ...string) {
	t.Helper()
	for _, h := range haystack {
		for _, n := range needles {
			if n != "" && strings.Contains(h, n) {
				t.Errorf("%s contains %q in clear: %s", what, n, h)
			}
		}
	}
}

// wantLocked checks that err is a sign-in refused because the account is
// locked, answered exactly as a wrong password is; it returns the lock.
func wantLocked(t *testing.T, what string, err error) *apperr.Error {
	t.Helper()
	e := wantErr(t, what, err, apperr.Unauthenticated, "bad_credentials")
	if e.Message != "the sign-in name or password is wrong" {
		t.Errorf("%s: message %q differs from a wrong password's", what, e.Message)
	}
	lock := identity.LockedCause(err)
	if lock == nil {
		t.Fatalf("%s: %v, want it refused for the lock", what, err)
	}
	return lock
}

// toldHolders records the messages the store writes to account holders.
type toldHolders struct {
	mu sync.Mutex
	to []notify.Message
}

func (n *toldHolders) Send(_ context.Context, _ *sql.Tx, m notify.Message) (int64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.to = append(n.to, m)
	return int64(len(n.to)), nil
}
