// Package loadtest is the engine of `yiwang bench`, the project's load tool:
// Prepare puts fictional applicants and their registry records into a
// server's database, and Run drives a running server over HTTP the way
// applicants do — sign in, start an application, fill the form, submit —
// and measures the submission, where the machine decision (秒批) is made.
package loadtest

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/hub"
	"yiwang/internal/ident"
	"yiwang/internal/identity"
	"yiwang/internal/store"
)

// Password is every bench applicant's password. Bench applicants are
// fictional and belong in a test database only.
const Password = "yiwang-bench-2026"

// SeniorCard is the item run applies for unless told otherwise: 老年人优待证,
// decided by machine on the applicant's age, household and credit.
const SeniorCard = "11910102MB00011858-07-00001"

// ApplicantsFile is the file in the data folder where prepare lists the
// applicants' sign-in names for run.
const ApplicantsFile = "bench-applicants.txt"

// MaxApplicants bounds prepare: the birth-date scheme of IDNumber gives
// each of this many applicants an ID number of their own.
const MaxApplicants = 20_000

// Region is where bench applicants are born and, most of them, registered.
const Region = "910102"

// otherRegion is the household region of applicants registered elsewhere.
const otherRegion = "910105002001"

// Profile is what a bench applicant is like, and so what the senior card's
// rules should decide for them.
type Profile string

// The profiles.
const (
	Senior      Profile = "senior"      // 60 or older, household in the district, credit A: approve
	Young       Profile = "young"       // under 60: reject (age_60)
	Elsewhere   Profile = "elsewhere"   // 60 or older, household in another district: reject (local_household)
	Blacklisted Profile = "blacklisted" // 60 or older, local, on the dishonesty blacklist: manual
)

// Expect is the outcome the senior card's rules give a profile.
func (p Profile) Expect() string {
	switch p {
	case Senior:
		return "approve"
	case Young, Elsewhere:
		return "reject"
	case Blacklisted:
		return "manual"
	}
	return ""
}

// profiles repeats every 20 applicants: 14 of 20 (70%) are 60 or older;
// 55% should be approved, 40% rejected, 5% sent to a person. Interleaved
// so that the first few applicants already give every outcome.
var profiles = [20]Profile{
	Senior, Young, Senior, Elsewhere, Senior, Young, Senior, Blacklisted, Senior, Young,
	Senior, Young, Senior, Elsewhere, Senior, Young, Senior, Young, Senior, Senior,
}

// ProfileOf returns applicant i's profile.
func ProfileOf(i int) Profile { return profiles[i%len(profiles)] }

// Applicant is one bench applicant as run needs it.
type Applicant struct {
	Login  string // the resident ID number they sign in with
	Expect string // the outcome their records should give, or "" if not known
}

// IDNumber returns applicant i's resident ID number, born in Region, with
// ages counted on today. The sequence codes 000 and 001 are ones the demo
// generator never uses, so bench applicants never collide with demo people.
// Those 60 or older were born between 60 years and a month and about 95
// years before today; the young are 20 to about 59 years old. Distinct i
// below MaxApplicants give distinct numbers.
func IDNumber(i int, today time.Time) string {
	k := i / 2
	y, m, d := today.Date()
	var birth time.Time
	if ProfileOf(i) == Young {
		birth = time.Date(y-20, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(k*97)%14_200)
	} else {
		birth = time.Date(y-60, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -31-(k*97)%12_775)
	}
	first := Region + birth.Format("20060102") + fmt.Sprintf("00%d", i%2)
	c, err := ident.IDNumberCheck(first)
	if err != nil {
		panic(err) // cannot happen: first is 17 digits
	}
	return first + string(c)
}

// PrepareOptions say how many applicants to make and how.
type PrepareOptions struct {
	Applicants int
	Password   string                // empty: Password
	Today      time.Time             // ages are counted on this day; zero: today
	Workers    int                   // accounts registered at once (password hashing is slow); 0: one per CPU
	Progress   func(done, total int) // called as applicants are made; may be nil
}

// Prepare makes opts.Applicants bench applicants in db: for applicant i a
// person with a valid ID number (IDNumber), an applicant account with the
// bench password, and the registry records the senior card reads — the
// population record, a valid resident ID card e-licence and a credit record
// — shaped by ProfileOf(i). Accounts that exist already are kept, records
// replaced, so running it again on the same day changes nothing. It returns
// the applicants in order.
func Prepare(ctx context.Context, db *store.DB, ids *identity.Store, registries *hub.Builtin, opts PrepareOptions) ([]Applicant, error) {
	if opts.Applicants < 1 || opts.Applicants > MaxApplicants {
		return nil, fmt.Errorf("the number of applicants must be between 1 and %d, not %d", MaxApplicants, opts.Applicants)
	}
	if opts.Password == "" {
		opts.Password = Password
	}
	if opts.Today.IsZero() {
		opts.Today = time.Now()
	}
	if opts.Workers < 1 {
		opts.Workers = runtime.NumCPU()
	}
	out := make([]Applicant, opts.Applicants)
	for i := range out {
		out[i] = Applicant{Login: IDNumber(i, opts.Today), Expect: ProfileOf(i).Expect()}
	}

	// Records first, in transactions of a few hundred: cheap, and the
	// accounts below then find their person ready.
	const batch = 250
	for lo := 0; lo < len(out); lo += batch {
		hi := min(lo+batch, len(out))
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			for i := lo; i < hi; i++ {
				if err := putRecords(ctx, tx, registries, i, out[i].Login, opts.Today); err != nil {
					return fmt.Errorf("registry records of bench applicant %d: %w", i, err)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}

	// Accounts: each hashes its password (argon2id, deliberately slow), so
	// several at once.
	var (
		mu       sync.Mutex
		done     int
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan int)
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				_, err := ids.RegisterPerson(ctx, out[i].Login, nameOf(i), phoneOf(i), opts.Password)
				if apperr.Is(err, apperr.Conflict) {
					err = nil // made by an earlier prepare: kept as it is
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("account of bench applicant %d: %w", i, err)
				}
				done++
				if opts.Progress != nil {
					opts.Progress(done, len(out))
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range out {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

func nameOf(i int) string  { return fmt.Sprintf("压测申请人%05d", i) }
func phoneOf(i int) string { return fmt.Sprintf("139%08d", i) }

// putRecords stores what the registries know of applicant i.
func putRecords(ctx context.Context, tx *sql.Tx, registries *hub.Builtin, i int, id string, today time.Time) error {
	info, err := ident.ParseIDNumber(id)
	if err != nil {
		return err
	}
	p := ProfileOf(i)
	region := Region + "001001"
	if p == Elsewhere {
		region = otherRegion
	}
	credit := hub.Record{"level": "A", "blacklisted": false, "records": 0}
	if p == Blacklisted {
		credit = hub.Record{"level": "D", "blacklisted": true, "records": 2, "dishonest_judgment_debtor": true}
	}
	who := hub.Subject{Kind: hub.Person, Key: id}
	name := nameOf(i)
	address := fmt.Sprintf("示范市明德区福安街道压测路%d号", i+1)
	issued := today.AddDate(-5, 0, 0).Format(time.DateOnly)
	for _, r := range []struct {
		source string
		rec    hub.Record
	}{
		{"population", hub.Record{"name": name, "id_number": id, "gender": info.Sex, "birth_date": info.BirthDate.Format(time.DateOnly),
			"address": address, "household": fmt.Sprintf("BENCH-%05d", i), "household_address": address,
			"household_region": region, "household_status": "normal", "residence_region": Region + "001001", "alive": true}},
		{"licence.resident_id_card", hub.Record{"type": "resident_id_card", "number": id, "holder": name, "holder_id": id,
			"issuer": "示范市公安局明德分局", "issue_date": issued, "expiry_date": today.AddDate(15, 0, 0).Format(time.DateOnly),
			"status": "valid", "trust_level": "A"}},
		{"credit", credit},
	} {
		if err := registries.Put(ctx, tx, r.source, who, r.rec); err != nil {
			return fmt.Errorf("%s: %w", r.source, err)
		}
	}
	return nil
}

// WriteApplicants writes the applicants to path, one a line: the sign-in
// name and the outcome expected, separated by a tab.
func WriteApplicants(path string, applicants []Applicant) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("cannot write the applicants file: %w", err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "# yiwang bench applicants (fictional), written %s: sign-in name, then the outcome their records should give.\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "# Password: the bench password (%q unless prepare was given another).\n", Password)
	for _, a := range applicants {
		fmt.Fprintf(w, "%s\t%s\n", a.Login, a.Expect)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("cannot write the applicants file: %w", err)
	}
	return f.Close()
}

// ReadApplicants reads a file written by WriteApplicants: one sign-in name a
// line, optionally followed by the expected outcome; blank lines and lines
// starting with # are skipped.
func ReadApplicants(path string) ([]Applicant, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no applicants file at %s: run 'yiwang bench prepare' on the server's database first (or name the file with --applicants-file)", path)
	}
	if err != nil {
		return nil, err
	}
	var out []Applicant
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		a := Applicant{Login: fields[0]}
		if len(fields) > 1 {
			a.Expect = fields[1]
		}
		if len(fields) > 2 || (a.Expect != "" && a.Expect != "approve" && a.Expect != "reject" && a.Expect != "manual") {
			return nil, fmt.Errorf("%s:%d: want a sign-in name, optionally followed by approve, reject or manual", path, n+1)
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s lists no applicants: run 'yiwang bench prepare --applicants N'", path)
	}
	return out, nil
}
