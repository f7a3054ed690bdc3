package hub_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/hub"
	"yiwang/internal/ident"
	"yiwang/internal/identity"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

func setup(t *testing.T, db *store.DB) (*hub.Builtin, *hub.Reader, int64, hub.Subject) {
	t.Helper()
	key, _ := pii.NewKey()
	k, _ := pii.ParseKey(key)
	p, _ := pii.NewProtector(k)
	c, _ := ident.IDNumberCheck("91010219900101123")
	id := "91010219900101123" + string(c)
	acc, err := identity.NewStore(db, p).RegisterPerson(context.Background(), id, "测试人", "", "a-long-password")
	if err != nil {
		t.Fatal(err)
	}
	b := hub.NewBuiltin(db, p)
	return b, hub.NewReader(db, b, b.SubjectIndex), acc.ID, hub.Subject{Kind: hub.Person, Key: id}
}

func TestBuiltinKeepsTypesAndRefusesBadRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b, _, _, who := setup(t, db)
		if err := b.Put(ctx, db, "vehicle", who, hub.Record{"driving_years": 7, "points_history": []string{"0", "3", "12"}, "licence_date": "2019-05-01", "drink_driving_record": false}); err != nil {
			t.Fatal(err)
		}
		rec, err := b.Fetch(ctx, "vehicle", who, []string{"driving_years", "points_history", "licence_date", "drink_driving_record", "offences"})
		if err != nil {
			t.Fatal(err)
		}
		if rec["driving_years"] != int64(7) || len(rec["points_history"].([]string)) != 3 || rec["licence_date"] != "2019-05-01" || rec["drink_driving_record"] != false {
			t.Errorf("record = %#v", rec)
		}
		if _, ok := rec["offences"]; ok {
			t.Error("a field the record lacks was returned")
		}
		for _, bad := range []hub.Record{{"driving_years": "seven"}, {"licence_date": "2019/05/01"}, {"shoe_size": 42}} {
			if err := b.Put(ctx, db, "vehicle", who, bad); err == nil {
				t.Errorf("stored a record the schema refuses: %v", bad)
			}
		}
		if _, err := b.Fetch(ctx, "education", who, []string{"school"}); !errors.Is(err, hub.ErrNotFound) {
			t.Errorf("a source without a record: %v", err)
		}
		var raw string
		db.QueryRowContext(ctx, `SELECT data FROM registry_records WHERE source = 'vehicle'`).Scan(&raw)
		if strings.Contains(raw, "2019-05-01") {
			t.Error("the registry record is stored in clear")
		}
	})
}

func TestReadsNeedAConsentAndAreLogged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b, r, account, who := setup(t, db)
		b.Put(ctx, db, "credit", who, hub.Record{"level": "A", "blacklisted": false})
		read := hub.Read{Subject: who, Source: "credit", Fields: []string{"level"}, Reader: account, ReaderName: "测试人", Purpose: "办理测试事项"}

		if _, err := r.Read(ctx, read); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a read without consent: %v", err)
		}
		c, err := r.Grant(ctx, db, account, who, []string{"population"}, "办理测试事项", 0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		read.Consent = c.ID
		if _, err := r.Read(ctx, read); err == nil || !strings.Contains(err.Error(), "does not cover credit") {
			t.Errorf("a read outside the consent: %v", err)
		}
		c, _ = r.Grant(ctx, db, account, who, []string{"credit"}, "办理测试事项", 0, time.Hour)
		read.Consent = c.ID
		rec, err := r.Read(ctx, read)
		if err != nil || rec["level"] != "A" {
			t.Fatalf("a consented read: %v %v", rec, err)
		}
		log, err := r.ReadsAbout(ctx, who, 10)
		if err != nil || len(log) != 1 || log[0].Source != "credit" || log[0].Purpose != "办理测试事项" || log[0].SourceName != "信用库" || log[0].Outcome != "ok" {
			t.Errorf("reads about the subject: %+v %v", log, err)
		}
		expired, _ := r.Grant(ctx, db, account, who, []string{"credit"}, "办理测试事项", 0, -time.Minute)
		read.Consent = expired.ID
		if _, err := r.Read(ctx, read); err == nil || apperr.As(err).Code != "consent_expired" {
			t.Errorf("a read under an expired consent: %v", err)
		}
	})
}

func TestFieldCheckNamesWhatBreaksTheContract(t *testing.T) {
	pop, _ := hub.Lookup("population")
	field := func(name string) hub.Field {
		f, ok := pop.Field(name)
		if !ok {
			t.Fatalf("population has no %s", name)
		}
		return f
	}
	for _, c := range []struct {
		field string
		value any
		want  string // "" for no problem
	}{
		{"marital_status", "married", ""},
		{"marital_status", "已婚", `"已婚" is not one of single, married, divorced, widowed`},
		{"birth_date", "1960-03-15", ""},
		{"birth_date", "1960/03/15", "want a date YYYY-MM-DD"},
		{"children_count", int64(2), ""},
		{"children_count", "2", "want a whole number"},
		{"alive", "true", "want true or false"},
		{"name", "赵老汉", ""},
	} {
		err := field(c.field).Check(c.value)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s = %v: %v", c.field, c.value, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s = %v: got %v, want %q", c.field, c.value, err, c.want)
		}
	}
}

// docs/DATA_HUB.md lists every field of every source with its type and
// values: the contract departments build to.
func TestDataHubDocListsEveryField(t *testing.T) {
	doc, err := os.ReadFile("../../docs/DATA_HUB.md")
	if err != nil {
		t.Fatal(err)
	}
	row := func(f hub.Field) string {
		vals := ""
		if len(f.Values) > 0 {
			vals = "`" + strings.Join(f.Values, "`, `") + "`"
		}
		return fmt.Sprintf("| `%s` | %s | %s (%s) | %s |", f.Name, f.Type, f.LabelZh, f.LabelEn, vals)
	}
	fields := slices.Clone(hub.LicenceFields)
	for _, s := range hub.Sources() {
		if s.Name != "applicant" {
			fields = append(fields, s.Fields...)
		}
	}
	for _, f := range fields {
		if !strings.Contains(string(doc), row(f)) {
			t.Errorf("docs/DATA_HUB.md lacks the row %s", row(f))
		}
	}
}

// TestLicencesInForceOnly: the e-licence library gives applications (their
// prefill, materials and rules) a licence in force only — not one revoked,
// cancelled, superseded or expired — while its record stays for history.
func TestLicencesInForceOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b, _, _, who := setup(t, db)
		yesterday := time.Now().AddDate(0, 0, -2).Format(time.DateOnly)
		tomorrow := time.Now().AddDate(0, 0, 2).Format(time.DateOnly)
		for _, c := range []struct {
			rec     hub.Record
			inForce bool
		}{
			{hub.Record{"number": "A1", "status": "valid", "expiry_date": tomorrow}, true},
			{hub.Record{"number": "A2", "status": "valid"}, true}, // long-term
			{hub.Record{"number": "A3", "status": "valid", "expiry_date": yesterday}, false},
			{hub.Record{"number": "A4", "status": "revoked"}, false},
			{hub.Record{"number": "A5", "status": "cancelled"}, false},
			{hub.Record{"number": "A6", "status": "superseded"}, false},
		} {
			if err := b.Put(ctx, db, "licence.driving_licence", who, c.rec); err != nil {
				t.Fatal(err)
			}
			rec, err := b.Fetch(ctx, "licence.driving_licence", who, []string{"number", "status"})
			if c.inForce && (err != nil || rec["number"] != c.rec["number"]) {
				t.Errorf("%v: not given (%v), though in force", c.rec, err)
			}
			if !c.inForce && !errors.Is(err, hub.ErrNotFound) {
				t.Errorf("%v: given as %v, %v, though not in force", c.rec, rec, err)
			}
			if kept, err := b.RecordTx(ctx, db, "licence.driving_licence", who); err != nil || kept["number"] != c.rec["number"] {
				t.Errorf("%v: the record itself is gone: %v %v", c.rec, kept, err)
			}
			// licence_last gives the same licence whatever its status:
			// how a rule tells a cancelled licence from none.
			last, err := b.Fetch(ctx, "licence_last.driving_licence", who, []string{"number", "status"})
			if err != nil || last["number"] != c.rec["number"] || last["status"] != c.rec["status"] {
				t.Errorf("%v: licence_last gave %v, %v", c.rec, last, err)
			}
		}
		if _, err := b.Fetch(ctx, "licence_last.graduation_certificate", who, []string{"number"}); !errors.Is(err, hub.ErrNotFound) {
			t.Errorf("licence_last of a type never held: %v, want not found", err)
		}
		if err := b.Put(ctx, db, "licence_last.driving_licence", who, hub.Record{"number": "A7"}); err == nil {
			t.Error("a record was stored under licence_last, which is only read")
		}
	})
}

func TestLicenceLastNames(t *testing.T) {
	for _, c := range []struct {
		ref, source, field string
	}{
		{"licence.food_business_licence.status", "licence.food_business_licence", "status"},
		{"licence_last.food_business_licence.status", "licence_last.food_business_licence", "status"},
	} {
		if src, field, ok := hub.SplitRef(c.ref); !ok || src != c.source || field != c.field {
			t.Errorf("SplitRef(%q) = %q, %q, %v", c.ref, src, field, ok)
		}
		s, f, ok := hub.Named(c.ref)
		if !ok || s.Name != c.source || f.Name != c.field {
			t.Errorf("Named(%q) = %v, %v, %v", c.ref, s.Name, f.Name, ok)
		}
	}
	if typ, last, ok := hub.LicenceSource("licence_last.driving_licence"); !ok || !last || typ != "driving_licence" {
		t.Errorf("LicenceSource(licence_last.driving_licence) = %q, %v, %v", typ, last, ok)
	}
	// Traces and staff pages name it in words, apart from the licences in force.
	if zh, en := hub.SourceName("zh", "licence_last.driving_licence.status"), hub.SourceName("en", "licence_last.driving_licence"); zh != "电子证照库（含已失效证照）" || en == hub.SourceName("en", "licence.driving_licence") {
		t.Errorf("licence_last is named %q, %q", zh, en)
	}
	if hub.StoredLicence("licence_last.driving_licence") != "licence.driving_licence" || hub.StoredLicence("population") != "population" {
		t.Error("StoredLicence names the wrong stored source")
	}
}

// A connector configured for a licence type answers licence_last too,
// asked for its licence.TYPE.
func TestRouterSendsLicenceLastToTheLicenceConnector(t *testing.T) {
	var asked []string
	conn := connectorFunc(func(source string) (hub.Record, error) {
		asked = append(asked, source)
		return hub.Record{"status": "cancelled"}, nil
	})
	r := hub.Router{Default: connectorFunc(func(string) (hub.Record, error) { return nil, hub.ErrNotFound }),
		BySource: map[string]hub.Connector{"licence.food_business_licence": conn}}
	rec, err := r.Fetch(context.Background(), "licence_last.food_business_licence", hub.Subject{Kind: hub.Enterprise, Key: "x"}, []string{"status"})
	if err != nil || rec["status"] != "cancelled" || len(asked) != 1 || asked[0] != "licence.food_business_licence" {
		t.Errorf("got %v, %v; the connector was asked %v", rec, err, asked)
	}
}

type connectorFunc func(source string) (hub.Record, error)

func (f connectorFunc) Fetch(_ context.Context, source string, _ hub.Subject, _ []string) (hub.Record, error) {
	return f(source)
}
