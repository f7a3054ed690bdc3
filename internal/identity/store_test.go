package identity_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/identity"
	"yiwang/internal/notify"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

func TestPutPersonRefusesBadIDNumbersWithoutRepeatingThem(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		good := idNumber(t, "19600315", "123")
		tests := []struct {
			name, id string
		}{
			{"empty", ""},
			{"17 digits", good[:17]},
			{"19 characters", good + "1"},
			{"wrong check digit", wrongCheck(good)},
			{"letter inside", good[:10] + "A" + good[11:]},
			{"impossible birth date", idNumber(t, "19601345", "123")},
			{"born in the future", idNumber(t, "21000101", "123")},
			{"born before 1900", idNumber(t, "18991231", "123")},
			// Full-width digits are normalised (TestPutPersonTwiceKeepsOnePerson),
			// so a full-width number is refused for what is wrong with its digits.
			{"full-width digits, wrong check digit", "９１０１０２" + wrongCheck(good)[6:]},
			{"full-width letter inside", good[:10] + "Ａ" + good[11:]},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.ids.PutPerson(f.ctx, db, tt.id, "张三", "")
				e := wantErr(t, "PutPerson", err, apperr.Invalid, "bad_id_number")
				if len(tt.id) >= 6 && strings.Contains(e.Message, tt.id) {
					t.Errorf("message repeats the ID number: %q", e.Message)
				}
				if len(tt.id) >= 17 && strings.Contains(e.Message, tt.id[:17]) {
					t.Errorf("message repeats the ID number's digits: %q", e.Message)
				}
			})
		}
		if n := f.count(t, "persons", ""); n != 0 {
			t.Errorf("%d persons stored after only refused numbers", n)
		}
	})
}

func TestPutPersonChecksNameAndPhone(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		id := idNumber(t, "19600315", "123")
		tests := []struct {
			name, person, phone, code string
		}{
			{"no name", "  ", "", "bad_name"},
			{"name too long", strings.Repeat("张", 51), "", "bad_name"},
			{"absurd length", strings.Repeat("张", 100000), "", "bad_name"},
			{"only zero-width spaces", "\u200b\u200b", "", "bad_name"},
			{"only direction marks", "\u200e\u200f", "", "bad_name"},
			{"only direction overrides", "\u202a\u202b\u202c\u202d\u202e", "", "bad_name"},
			{"only isolates", "\u2066\u2067\u2068\u2069", "", "bad_name"},
			{"only a byte-order mark", "\ufeff", "", "bad_name"},
			{"only control characters", "\x00\x07\x1b", "", "bad_name"},
			{"a name turned round by an override", "张\u202e三", "", "bad_name"},
			{"a zero-width space inside", "张\u200b三", "", "bad_name"},
			{"a newline inside", "张\n三", "", "bad_name"},
			{"no letter", "123", "", "bad_name"},
			{"not UTF-8", "张\xff三", "", "bad_name"},
			{"phone too short", "张三", "1380000000", "bad_phone"},
			{"landline", "张三", "02012345678", "bad_phone"},
			{"phone with letters", "张三", "1380000000a", "bad_phone"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.ids.PutPerson(f.ctx, db, id, tt.person, tt.phone)
				wantErr(t, "PutPerson", err, apperr.Invalid, tt.code)
			})
		}
		if n := f.count(t, "persons", ""); n != 0 {
			t.Errorf("%d persons stored after only refused inputs", n)
		}
	})
}

func TestPutPersonDerivesBirthDateAndSexAndMasks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		man := idNumber(t, "19600315", "123")
		woman := idNumber(t, "19920708", "234")
		withX := idNumberEndingInX(t, "19850607")
		leap := idNumber(t, "20000229", "351")
		tests := []struct {
			name, id, typed string
			birth, sex      string
		}{
			{"man", man, man, "1960-03-15", "male"},
			{"woman", woman, woman, "1992-07-08", "female"},
			{"lower-case x", withX, strings.ToLower(withX), "1985-06-07", map[bool]string{true: "male", false: "female"}[(withX[16]-'0')%2 == 1]},
			{"surrounding spaces, leap day", leap, "  " + leap + "\t", "2000-02-29", "male"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				id, err := f.ids.PutPerson(f.ctx, db, tt.typed, "测试人", "13800000001")
				if err != nil {
					t.Fatalf("PutPerson(%q): %v", tt.typed, err)
				}
				p, err := f.ids.PersonByID(f.ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if p.ID != id || p.Name != "测试人" || p.BirthDate != tt.birth || p.Sex != tt.sex {
					t.Errorf("PersonByID = %+v, want id %d, name 测试人, birth %s, sex %s", p, id, tt.birth, tt.sex)
				}
				wantMasked := tt.id[:4] + strings.Repeat("*", 10) + tt.id[14:]
				if p.IDNumberMasked != wantMasked {
					t.Errorf("masked ID number = %q, want %q", p.IDNumberMasked, wantMasked)
				}
				// Found through the blind index however it is typed.
				for _, q := range []string{tt.id, strings.ToLower(tt.id), " " + tt.id + " "} {
					found, err := f.ids.PersonByIDNumber(f.ctx, f.ids.DB(), q)
					if err != nil || found != p {
						t.Errorf("PersonByIDNumber(%q) = %+v, %v; want %+v", q, found, err, p)
					}
				}
			})
		}
		p, err := f.ids.PersonByIDNumber(f.ctx, f.ids.DB(), man)
		if err != nil {
			t.Fatal(err)
		}
		if want := "9101**********123" + man[17:]; p.IDNumberMasked != want {
			t.Errorf("masked = %q, want %q", p.IDNumberMasked, want)
		}

		_, err = f.ids.PersonByIDNumber(f.ctx, f.ids.DB(), idNumber(t, "19600315", "125"))
		wantErr(t, "PersonByIDNumber of an unknown number", err, apperr.NotFound, "person_not_found")
		_, err = f.ids.PersonByID(f.ctx, 9999)
		wantErr(t, "PersonByID of an unknown id", err, apperr.NotFound, "person_not_found")
	})
}

func TestIDNumberAndPhoneAreNeverStoredInClear(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		id := idNumber(t, "19600315", "123")
		phone := "13912345678"
		a, err := f.ids.RegisterPerson(f.ctx, strings.ToLower(id), "张三", phone, password)
		if err != nil {
			t.Fatal(err)
		}
		persons := rawRows(t, db.DB, `SELECT * FROM persons`)
		if len(persons) == 0 {
			t.Fatal("no person row")
		}
		mustNotContain(t, "persons row", persons, id, id[:17], id[6:17], phone)
		var sawEnc bool
		for _, v := range persons {
			if strings.HasPrefix(v, "id_number_enc=v1:") {
				sawEnc = true
			}
		}
		if !sawEnc {
			t.Errorf("persons row has no encrypted ID number: %v", persons)
		}
		mustNotContain(t, "accounts row", rawRows(t, db.DB, `SELECT * FROM accounts WHERE id = $1`, a.ID), id, id[:17], phone)
	})
}

func TestPutPersonTwiceKeepsOnePerson(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		id := idNumber(t, "19600315", "123")
		first, err := f.ids.PutPerson(f.ctx, db, id, "张三", "13800000001")
		if err != nil {
			t.Fatal(err)
		}
		second, err := f.ids.PutPerson(f.ctx, db, strings.ToLower(id)+" ", "张叁", "")
		if err != nil {
			t.Fatal(err)
		}
		// Full-width digits and x, as a Chinese input method types them.
		wide := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r - '0' + '０'
			}
			return r
		}, id)
		third, err := f.ids.PutPerson(f.ctx, db, wide, "张叁", "")
		if err != nil {
			t.Fatal(err)
		}
		if first != second || first != third {
			t.Errorf("the same person got ids %d, %d and %d", first, second, third)
		}
		if n := f.count(t, "persons", ""); n != 1 {
			t.Errorf("%d person rows, want 1", n)
		}
		p, err := f.ids.PersonByID(f.ctx, first)
		if err != nil || p.Name != "张叁" {
			t.Errorf("after the second put: %+v, %v; want the new name 张叁", p, err)
		}
	})
}

func TestRegisterPerson(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		id := idNumber(t, "19920708", "234")
		a, err := f.ids.RegisterPerson(f.ctx, id, " 李四 ", "13800000002", password)
		if err != nil {
			t.Fatal(err)
		}
		if a.Kind != "person" || a.RealNameLevel != 1 || a.DisplayName != "李四" || a.PersonID == 0 || a.Username != "" {
			t.Errorf("registered account = %+v; want a level-1 person account named 李四", a)
		}
		if !slices.Equal(a.Roles, []authz.Role{authz.Applicant}) {
			t.Errorf("roles = %v, want [applicant]", a.Roles)
		}
		p, err := f.ids.PersonByIDNumber(f.ctx, f.ids.DB(), id)
		if err != nil || p.ID != a.PersonID {
			t.Errorf("person of the new account: %+v, %v; want id %d", p, err, a.PersonID)
		}

		// A second registration for the same number under another name is
		// refused as for anyone on record; under the right name it is a
		// conflict (which the HTTP answer hides) and the holder is told.
		// Neither changes anything: not even the name the first one gave.
		told := &toldHolders{}
		f.ids.SetNotifier(told)
		_, err = f.ids.RegisterPerson(f.ctx, strings.ToLower(id), "冒名者", "13900000000", "another-password-1")
		wantErr(t, "second RegisterPerson under another name", err, apperr.Invalid, "name_mismatch")
		_, err = f.ids.RegisterPerson(f.ctx, strings.ToLower(id), "李四", "13900000000", "another-password-1")
		e := wantErr(t, "second RegisterPerson", err, apperr.Conflict, "already_exists")
		if strings.Contains(e.Message, id) {
			t.Errorf("conflict message repeats the ID number: %q", e.Message)
		}
		if len(told.to) != 1 || told.to[0].AccountID != a.ID || told.to[0].Kind != notify.AccountSecurity {
			t.Errorf("the holder was told %+v, want one account_security message to account %d", told.to, a.ID)
		}
		if _, err := f.ids.Login(f.ctx, id, "another-password-1"); err == nil {
			t.Error("the second registration's password signs in")
		}
		if p, _ := f.ids.PersonByIDNumber(f.ctx, f.ids.DB(), id); p.Name != "李四" {
			t.Errorf("after a refused registration the person is named %q, want 李四", p.Name)
		}
		if n := f.count(t, "accounts", "kind = 'person'"); n != 1 {
			t.Errorf("%d person accounts, want 1", n)
		}
		// The first holder still signs in with their own password, the
		// impostor's does not work.
		if _, err := f.ids.Login(f.ctx, id, password); err != nil {
			t.Errorf("first holder's sign-in: %v", err)
		}
		if _, err := f.ids.Login(f.ctx, id, "another-password-1"); err == nil {
			t.Error("the refused registration's password signs in")
		}
	})
}

func TestFailedRegistrationLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		id := idNumber(t, "19880101", "345")
		tests := []struct {
			name, id, person, phone, password string
			kind                              apperr.Kind
			code                              string
		}{
			{"password too short", id, "王五", "", "short", apperr.Invalid, "password_too_short"},
			{"password too long", id, "王五", "", strings.Repeat("密", 70), apperr.Invalid, "password_too_long"},
			{"bad phone", id, "王五", "12345", password, apperr.Invalid, "bad_phone"},
			{"no name", id, "", "", password, apperr.Invalid, "bad_name"},
			{"bad ID number", wrongCheck(id), "王五", "", password, apperr.Invalid, "bad_id_number"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.ids.RegisterPerson(f.ctx, tt.id, tt.person, tt.phone, tt.password)
				wantErr(t, "RegisterPerson", err, tt.kind, tt.code)
				if n := f.count(t, "persons", ""); n != 0 {
					t.Errorf("%d person rows after a failed registration", n)
				}
				if n := f.count(t, "accounts", ""); n != 0 {
					t.Errorf("%d accounts after a failed registration", n)
				}
			})
		}
		// And the number can still be registered properly afterwards.
		if _, err := f.ids.RegisterPerson(f.ctx, id, "王五", "", password); err != nil {
			t.Errorf("registration after failed attempts: %v", err)
		}
	})
}

func TestLogin(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		staff := f.staff(t, "reviewer.civil", authz.Reviewer)
		withX := idNumberEndingInX(t, "19850607")
		person := f.person(t, withX, "赵六")
		unregistered := idNumber(t, "19700101", "111")
		if _, err := f.ids.PutPerson(f.ctx, db, unregistered, "无账号", ""); err != nil {
			t.Fatal(err)
		}

		good := []struct {
			name, login string
			want        int64
		}{
			{"staff by username", "reviewer.civil", staff.ID},
			{"staff username with spaces", "  reviewer.civil ", staff.ID},
			{"person by ID number", withX, person.ID},
			{"person by ID number with lower-case x", strings.ToLower(withX), person.ID},
			{"person by ID number with spaces", " " + withX + " ", person.ID},
		}
		for _, tt := range good {
			t.Run(tt.name, func(t *testing.T) {
				a, err := f.ids.Login(f.ctx, tt.login, password)
				if err != nil || a.ID != tt.want {
					t.Fatalf("Login(%q) = %+v, %v; want account %d", tt.login, a, err, tt.want)
				}
			})
		}

		var messages []string
		bad := []struct{ name, login, password string }{
			{"staff, wrong password", "reviewer.civil", "wrong-password-1"},
			{"person, wrong password", withX, "wrong-password-1"},
			{"unknown username", "nobody.here", password},
			{"unknown ID number", idNumber(t, "19700101", "113"), password},
			{"person without an account", unregistered, password},
			{"staff username in capitals", "REVIEWER.CIVIL", password},
			{"empty", "", ""},
		}
		for _, tt := range bad {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.ids.Login(f.ctx, tt.login, tt.password)
				e := wantErr(t, "Login", err, apperr.Unauthenticated, "bad_credentials")
				messages = append(messages, e.Message)
			})
		}
		for _, m := range messages {
			if m != messages[0] {
				t.Errorf("sign-in errors differ (%q, %q): they must not say whether the account exists", messages[0], m)
			}
		}
	})
}

func TestLoginLocksOutAfterFiveFailures(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.staff(t, "clerk", authz.Clerk)
		f.staff(t, "clerk2", authz.Clerk)
		for i := 1; i <= 4; i++ {
			_, err := f.ids.Login(f.ctx, "clerk", "wrong-password-1")
			wantErr(t, "failure "+string(rune('0'+i)), err, apperr.Unauthenticated, "bad_credentials")
		}
		_, err := f.ids.Login(f.ctx, "clerk", "wrong-password-1")
		e := wantLocked(t, "fifth failure", err)
		if !strings.Contains(e.Message, "1 more minute(s)") || !strings.Contains(e.Message, "09:01") {
			t.Errorf("lock message %q should say it lasts 1 more minute, until 09:01", e.Message)
		}

		// Locked: even the right password is refused, with the time left.
		f.clock.Advance(30 * time.Second)
		_, err = f.ids.Login(f.ctx, "clerk", password)
		e = wantLocked(t, "right password while locked", err)
		if !strings.Contains(e.Message, "1 more minute(s)") {
			t.Errorf("lock message half-way: %q, want 1 more minute", e.Message)
		}
		// The lock is the account's alone.
		if _, err := f.ids.Login(f.ctx, "clerk2", password); err != nil {
			t.Errorf("another account is affected by the lock: %v", err)
		}

		// Once the lock has passed the right password works…
		f.clock.Advance(31 * time.Second)
		if _, err := f.ids.Login(f.ctx, "clerk", password); err != nil {
			t.Fatalf("sign-in after the lock passed: %v", err)
		}
		// …and has reset the count: four more failures do not lock.
		for i := 1; i <= 4; i++ {
			_, err := f.ids.Login(f.ctx, "clerk", "wrong-password-1")
			wantErr(t, "failure after reset", err, apperr.Unauthenticated, "bad_credentials")
		}
		_, err = f.ids.Login(f.ctx, "clerk", "wrong-password-1")
		wantLocked(t, "fifth failure after reset", err)

		// A further failure after a lock passes locks for twice as long.
		f.clock.Advance(61 * time.Second)
		_, err = f.ids.Login(f.ctx, "clerk", "wrong-password-1")
		e = wantLocked(t, "sixth failure", err)
		if !strings.Contains(e.Message, "2 more minute(s)") {
			t.Errorf("second lock message %q, want 2 more minutes", e.Message)
		}
		f.clock.Advance(90 * time.Second)
		_, err = f.ids.Login(f.ctx, "clerk", password)
		wantLocked(t, "right password during the second lock", err)
		f.clock.Advance(31 * time.Second)
		if _, err := f.ids.Login(f.ctx, "clerk", password); err != nil {
			t.Errorf("sign-in after the second lock passed: %v", err)
		}
	})
}

func TestConcurrentFailuresAllCount(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.staff(t, "clerk", authz.Clerk)
		hasher := identity.NewHasher(60, time.Minute)
		f.ids.SetHasher(hasher)
		// Guesses sent all at once must not slip past the lockout: each
		// counts before its hash is checked, so at most five are checked.
		const guesses = 60
		var wg sync.WaitGroup
		errs := make(chan error, guesses)
		for i := 0; i < guesses; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.ids.Login(f.ctx, "clerk", "wrong-password-1")
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if k := apperr.KindOf(err); k != apperr.Unauthenticated {
				t.Errorf("concurrent wrong password: %v", err)
			}
		}
		if checks := hasher.Guesses(); checks > 5 {
			t.Errorf("%d concurrent guesses checked %d passwords, want at most 5", guesses, checks)
		}
		_, err := f.ids.Login(f.ctx, "clerk", password)
		wantLocked(t, "right password after 60 concurrent failures", err)
	})
}

func TestLoginRefusesDisabledAccounts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		staff := f.staff(t, "former.clerk", authz.Clerk)
		id := idNumber(t, "19600315", "123")
		person := f.person(t, id, "张三")
		f.disable(t, staff.ID)
		f.disable(t, person.ID)
		for _, login := range []string{"former.clerk", id} {
			_, err := f.ids.Login(f.ctx, login, password)
			wantErr(t, "disabled account, right password", err, apperr.Forbidden, "account_disabled")
			// Without the password nobody learns the account exists.
			_, err = f.ids.Login(f.ctx, login, "wrong-password-1")
			wantErr(t, "disabled account, wrong password", err, apperr.Unauthenticated, "bad_credentials")
		}
		a, err := f.ids.Account(f.ctx, staff.ID)
		if err != nil || !a.Disabled {
			t.Errorf("Account of a disabled account = %+v, %v; want Disabled", a, err)
		}
	})
}

func TestRevealPerson(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		id := idNumber(t, "19600315", "123")
		subject := f.person(t, id, "张三")
		if _, err := f.ids.PutPerson(f.ctx, db, id, "张三", "13800000001"); err != nil {
			t.Fatal(err)
		}
		clerk := f.staff(t, "clerk", authz.Clerk)
		supervisor := f.staff(t, "supervisor", authz.Supervisor)
		_, clerkP := f.session(t, clerk.ID)
		_, supervisorP := f.session(t, supervisor.ID)
		_, selfP := f.session(t, subject.ID)

		refused := []struct {
			name    string
			viewer  authz.Principal
			purpose string
			kind    apperr.Kind
			code    string
		}{
			{"anonymous", authz.Anonymous, "核对户籍材料", apperr.Unauthenticated, "sign_in_required"},
			{"supervisor lacks pii:view", supervisorP, "核对户籍材料", apperr.Forbidden, "permission_denied"},
			{"an applicant, even the person", selfP, "核对户籍材料", apperr.Forbidden, "permission_denied"},
			{"no purpose", clerkP, "", apperr.Invalid, "purpose_required"},
			{"blank purpose", clerkP, "    ", apperr.Invalid, "purpose_required"},
			{"purpose too short", clerkP, "查看", apperr.Invalid, "purpose_required"},
			{"purpose too short in English", clerkP, "ok", apperr.Invalid, "purpose_required"},
		}
		for _, tt := range refused {
			t.Run(tt.name, func(t *testing.T) {
				u, err := f.ids.RevealPerson(f.ctx, subject.PersonID, tt.viewer, tt.purpose, "req-1")
				wantErr(t, "RevealPerson", err, tt.kind, tt.code)
				if u != (identity.Unmasked{}) {
					t.Errorf("a refused reveal returned the data: %+v", u)
				}
				if n := f.count(t, "pii_access_log", ""); n != 0 {
					t.Errorf("%d access log rows after a refused reveal", n)
				}
			})
		}

		_, err := f.ids.RevealPerson(f.ctx, 9999, clerkP, "核对户籍材料", "req-2")
		wantErr(t, "RevealPerson of an unknown person", err, apperr.NotFound, "person_not_found")
		if n := f.count(t, "pii_access_log", ""); n != 0 {
			t.Errorf("%d access log rows after revealing nobody", n)
		}

		u, err := f.ids.RevealPerson(f.ctx, subject.PersonID, clerkP, " 核对户籍材料 ", "req-3")
		if err != nil {
			t.Fatal(err)
		}
		if u.IDNumber != id || u.Phone != "13800000001" {
			t.Errorf("RevealPerson = %+v, want the clear ID number and phone", u)
		}
		log, err := pii.NewAccessLog(db.DB).List(f.ctx, pii.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 1 {
			t.Fatalf("%d access log rows, want exactly 1: %+v", len(log), log)
		}
		got := log[0]
		if got.StaffAccount != clerk.ID || got.StaffName != clerk.DisplayName || got.SubjectPerson != subject.PersonID ||
			!slices.Equal(got.Fields, []string{"id_number", "phone"}) || got.Purpose != "核对户籍材料" || got.RequestID != "req-3" || !got.At.Equal(f.clock.Now()) {
			t.Errorf("access log row = %+v; want clerk %d (%s) saw person %d's id_number and phone to 核对户籍材料 at %v",
				got, clerk.ID, clerk.DisplayName, subject.PersonID, f.clock.Now())
		}
		// The row itself keeps the number out.
		mustNotContain(t, "access log", rawRows(t, db.DB, `SELECT * FROM pii_access_log`), id, "13800000001")

		// Of a person without a phone number only the ID number is shown and logged.
		other := idNumber(t, "19920708", "234")
		noPhone := f.person(t, other, "李四")
		u, err = f.ids.RevealPerson(f.ctx, noPhone.PersonID, clerkP, "审核婚姻登记材料", "")
		if err != nil || u.IDNumber != other || u.Phone != "" {
			t.Fatalf("RevealPerson of a person without phone = %+v, %v", u, err)
		}
		log, err = pii.NewAccessLog(db.DB).List(f.ctx, pii.Filter{SubjectPerson: noPhone.PersonID})
		if err != nil || len(log) != 1 || !slices.Equal(log[0].Fields, []string{"id_number"}) {
			t.Errorf("access log = %+v, %v; want one row with the field id_number", log, err)
		}
	})
}

// TestTypedNamesNeverRenameAPerson: a name typed at registration (or by a
// legal representative authorising an agent) must match the one on record;
// it never replaces it.
func TestTypedNamesNeverRenameAPerson(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := f.ctx
		id := idNumber(t, "19700101", "777")
		if _, err := f.ids.PutPerson(ctx, db, id, "孙悟空", ""); err != nil {
			t.Fatal(err)
		}
		_, err := f.ids.RegisterPerson(ctx, id, "猪八戒", "", "a-long-password")
		wantErr(t, "registering under someone else's name", err, apperr.Invalid, "name_mismatch")
		p, err := f.ids.PersonByIDNumber(ctx, f.ids.DB(), id)
		if err != nil || p.Name != "孙悟空" {
			t.Errorf("the person on record is now %+v, %v", p, err)
		}
		if _, err := f.ids.RegisterPerson(ctx, id, "孙悟空", "", "a-long-password"); err != nil {
			t.Errorf("registering with the name on record: %v", err)
		}
	})
}

// A system administrator cannot grant itself a role; another account it can.
func TestNobodyGrantsThemselfARole(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		admin := f.staff(t, "admin", authz.SysAdmin)
		other := f.staff(t, "other", authz.Reviewer)
		if err := f.ids.GrantRole(f.ctx, admin.ID, authz.Supervisor, admin.ID); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("granting oneself a role: %v", err)
		}
		if a, _ := f.ids.Account(f.ctx, admin.ID); !slices.Equal(a.Roles, []authz.Role{authz.SysAdmin}) {
			t.Errorf("after the refused grant the administrator holds %v", a.Roles)
		}
		if err := f.ids.GrantRole(f.ctx, other.ID, authz.Head, admin.ID); err != nil {
			t.Fatal(err)
		}
	})
}

// Every grant is on record, with who gave it, after the role is revoked too.
func TestRoleGrantsAreRecorded(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		admin := f.staff(t, "admin", authz.SysAdmin)
		other := f.staff(t, "other", authz.Reviewer)
		if err := f.ids.GrantRole(f.ctx, other.ID, authz.Head, admin.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.ids.RevokeRole(f.ctx, other.ID, authz.Head, admin.ID); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM role_grants WHERE account_id = $1 AND role = 'head' AND granted_by = $2
			AND revoked_by = $2 AND revoked_at IS NOT NULL`, other.ID, admin.ID).Scan(&n); err != nil || n != 1 {
			t.Errorf("the head grant and its revocation are on record %d times, %v; want once", n, err)
		}
		// A role held from before grants were recorded is on record once revoked.
		if _, err := db.ExecContext(f.ctx, `DELETE FROM role_grants WHERE account_id = $1 AND role = 'reviewer'`, other.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.ids.RevokeRole(f.ctx, other.ID, authz.Reviewer, admin.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM role_grants WHERE account_id = $1 AND role = 'reviewer' AND revoked_by = $2`, other.ID, admin.ID).Scan(&n); err != nil || n != 1 {
			t.Errorf("the reviewer revocation is on record %d times, %v; want once", n, err)
		}
		if err := f.ids.RevokeRole(f.ctx, other.ID, authz.Reviewer, admin.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("revoking a role no longer held: %v", err)
		}
	})
}

// Sign-ins for unknown names each cost one hash, like known ones, but no
// more than the hasher's bound run at once; beyond its wait they are
// refused as busy rather than queued.
func TestLoginHashesAreBounded(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		hasher := identity.NewHasher(2, time.Minute)
		f.ids.SetHasher(hasher)
		const signIns = 30
		var wg sync.WaitGroup
		for i := range signIns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.ids.Login(f.ctx, fmt.Sprintf("nobody.%d", i), "wrong-password-1")
				wantErr(t, "unknown name", err, apperr.Unauthenticated, "bad_credentials")
			}()
		}
		wg.Wait()
		if checks, peak := hasher.Stats(); checks != signIns || peak > 2 {
			t.Errorf("%d sign-ins for unknown names: %d hashes, at most %d at once; want %d, at most 2", signIns, checks, peak, signIns)
		}

		f.ids.SetHasher(identity.NewHasher(1, time.Millisecond))
		busy := make(chan bool, signIns)
		for range signIns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.ids.Login(f.ctx, "nobody", "wrong-password-1")
				busy <- apperr.As(err) != nil && apperr.As(err).Code == apperr.SignInBusy
			}()
		}
		wg.Wait()
		close(busy)
		refused := 0
		for b := range busy {
			if b {
				refused++
			}
		}
		if refused == 0 {
			t.Errorf("%d sign-ins at once with one slot and a 1 ms wait: none refused as busy", signIns)
		}
	})
}
