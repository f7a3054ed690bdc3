package licence_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/ident"
	"yiwang/internal/licence"
	"yiwang/internal/pii"
	"yiwang/internal/seal"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

type fixture struct {
	db      *store.DB
	svc     *licence.Service
	keys    *seal.Keyring
	hub     *hub.Builtin
	pii     *pii.Protector
	key     pii.Key
	catalog *catalog.Store
}

// creditCode makes a valid unified social credit code from 17 characters.
func creditCode(t testing.TB, first17 string) string {
	c, err := ident.CreditCodeCheck(first17)
	if err != nil {
		t.Fatal(err)
	}
	return first17 + string(c)
}

func idNumber(first17 string) string {
	c, _ := ident.IDNumberCheck(first17)
	return first17 + string(c)
}

// setup imports and publishes the demo catalogue and builds the service.
func setup(t testing.TB, db *store.DB) fixture {
	t.Helper()
	ctx := context.Background()
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		t.Fatal(err)
	}
	c, problems := schemas.LoadFS(os.DirFS("../../catalog"))
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	cs := catalog.NewStore(db)
	if _, err := cs.Import(ctx, c, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.PublishAllDrafts(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	raw, _ := pii.NewKey()
	key, _ := pii.ParseKey(raw)
	protector, _ := pii.NewProtector(key)
	keys, err := seal.NewKeyring(db, key)
	if err != nil {
		t.Fatal(err)
	}
	b := hub.NewBuiltin(db, protector)
	return fixture{db: db, svc: licence.NewService(db, keys, protector, b, "https://zwfw.example.gov.cn/"), keys: keys, hub: b, pii: protector, key: key, catalog: cs}
}

func (f fixture) issue(t testing.TB, req licence.Request) licence.Licence {
	t.Helper()
	var l licence.Licence
	err := f.db.InTx(context.Background(), func(tx *sql.Tx) error {
		var err error
		l, err = f.svc.IssueTx(context.Background(), tx, req)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func businessLicence(code string) licence.Request {
	return licence.Request{ApplicationNumber: "YW-TEST-1", ItemCode: "11910102MB0001111L-01-00001", Type: "business_licence",
		Holder: licence.Holder{Kind: hub.Enterprise, ID: code, Name: "明德区老街坊小吃店"},
		Fields: map[string]string{"name": "明德区老街坊小吃店", "credit_code": code, "legal_rep": "钱多多", "composition": "个人经营",
			"address": "示范市明德区福安街道幸福路8号", "scope": "餐饮服务；预包装食品销售"},
		IssuedBy: "machine"}
}

func TestIssueVerifyRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		code := creditCode(t, "92910102MA0000001")
		l := f.issue(t, businessLicence(code))

		if !regexp.MustCompile(`^11910102MB0001111L-1001-\d{4}-000001-[0-9A-Z]$`).MatchString(l.Content.Number) || !licence.ValidNumber(l.Content.Number) {
			t.Errorf("number %s is not issuer-type-year-sequence-check", l.Content.Number)
		}
		if l.Content.Issuer.Name != "明德区市场监督管理局" || l.Content.ValidUntil != "" || l.Seal.Algorithm != "SM2-SM3" {
			t.Errorf("licence = %+v", l)
		}
		second := f.issue(t, businessLicence(creditCode(t, "92910102MA0000002")))
		if !strings.Contains(second.Content.Number, "-000002-") {
			t.Errorf("second number %s", second.Content.Number)
		}

		// At once level-A data in the hub.
		rec, err := f.hub.Fetch(ctx, "licence.business_licence", hub.Subject{Kind: hub.Enterprise, Key: code}, []string{"number", "status", "trust_level", "name", "address"})
		if err != nil {
			t.Fatal(err)
		}
		if rec["number"] != l.Content.Number || rec["status"] != "valid" || rec["trust_level"] != "A" || rec["address"] != "示范市明德区福安街道幸福路8号" {
			t.Errorf("hub record = %v", rec)
		}

		v, err := f.svc.VerifyNumber(ctx, l.Content.Number)
		if err != nil || v.Result != licence.Valid {
			t.Fatalf("verify = %+v, %v", v, err)
		}
		file, err := f.svc.Export(l)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := f.svc.VerifyFile(ctx, file); err != nil || v.Result != licence.Valid {
			t.Fatalf("verify file = %+v, %v", v, err)
		}

		// Changing any field of the licence breaks its seal.
		var doc map[string]any
		json.Unmarshal(file, &doc)
		var paths [][]string
		var walk func(m map[string]any, at []string)
		walk = func(m map[string]any, at []string) {
			for k, x := range m {
				p := append(append([]string{}, at...), k)
				if sub, ok := x.(map[string]any); ok {
					walk(sub, p)
				} else {
					paths = append(paths, p)
				}
			}
		}
		walk(doc["licence"].(map[string]any), nil)
		if len(paths) < 20 {
			t.Fatalf("only %d fields walked", len(paths))
		}
		for _, p := range paths {
			var d map[string]any
			json.Unmarshal(file, &d)
			m := d["licence"].(map[string]any)
			for _, k := range p[:len(p)-1] {
				m = m[k].(map[string]any)
			}
			m[p[len(p)-1]] = m[p[len(p)-1]].(string) + "X"
			b, _ := json.Marshal(d)
			v, err := f.svc.VerifyFile(ctx, b)
			if err != nil || v.Result != licence.SignatureInvalid {
				t.Errorf("changing %s: verification %q, %v", strings.Join(p, "."), v.Result, err)
			}
		}
		// An added field too.
		var d map[string]any
		json.Unmarshal(file, &d)
		d["licence"].(map[string]any)["fields"].(map[string]any)["note"] = "extra"
		b, _ := json.Marshal(d)
		if v, _ := f.svc.VerifyFile(ctx, b); v.Result != licence.SignatureInvalid {
			t.Errorf("an added field verifies as %q", v.Result)
		}
		if _, err := f.svc.VerifyFile(ctx, []byte(`{"hello":1}`)); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a non-licence upload: %v", err)
		}

		// Revocation: at once in verification and in the hub.
		if _, err := f.svc.Revoke(ctx, l.Content.Number, "  ", "staff:1"); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("revoke without reason: %v", err)
		}
		if _, err := f.svc.Revoke(ctx, l.Content.Number, "抽查发现申请材料虚假", "staff:1"); err != nil {
			t.Fatal(err)
		}
		v, _ = f.svc.VerifyNumber(ctx, l.Content.Number)
		if v.Result != licence.Revoked || v.RevokeReason != "抽查发现申请材料虚假" || v.RevokedAt == nil {
			t.Errorf("after revocation: %+v", v)
		}
		if v, _ := f.svc.VerifyFile(ctx, file); v.Result != licence.Revoked {
			t.Errorf("the revoked licence's file verifies as %q", v.Result)
		}
		if _, err := f.hub.Fetch(ctx, "licence.business_licence", hub.Subject{Kind: hub.Enterprise, Key: code}, []string{"status"}); !errors.Is(err, hub.ErrNotFound) {
			t.Errorf("the data hub gives a revoked licence to applications: %v", err)
		}
		if rec, _ := f.hub.RecordTx(ctx, db, "licence.business_licence", hub.Subject{Kind: hub.Enterprise, Key: code}); rec["status"] != "revoked" {
			t.Errorf("hub status after revocation = %v", rec["status"])
		}
		if _, err := f.svc.Revoke(ctx, l.Content.Number, "again", "staff:1"); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("second revocation: %v", err)
		}
	})
}

func TestRejectsBadRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		code := creditCode(t, "92910102MA0000003")
		for name, mod := range map[string]func(*licence.Request){
			"person holds a business licence": func(r *licence.Request) { r.Holder.Kind, r.Holder.ID = hub.Person, idNumber("91010219800101123") },
			"bad credit code":                 func(r *licence.Request) { r.Holder.ID = "91910102MA00000030" },
			"unknown field":                   func(r *licence.Request) { r.Fields["colour"] = "red" },
			"required field missing":          func(r *licence.Request) { delete(r.Fields, "name") },
			"unknown type":                    func(r *licence.Request) { r.Type = "unicorn_licence" },
			"issued elsewhere":                func(r *licence.Request) { r.Type = "bank_account_notice"; r.Fields = nil },
		} {
			req := businessLicence(code)
			mod(&req)
			err := db.InTx(context.Background(), func(tx *sql.Tx) error { _, err := f.svc.IssueTx(context.Background(), tx, req); return err })
			if !apperr.Is(err, apperr.Invalid) {
				t.Errorf("%s: %v", name, err)
			}
		}
		// Nothing was consumed: the first licence still gets sequence 1.
		if l := f.issue(t, businessLicence(code)); !strings.Contains(l.Content.Number, "-000001-") {
			t.Errorf("after refused requests the first number is %s", l.Content.Number)
		}
	})
}

func TestSequenceHasNoGapsAfterRollback(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		boom := errors.New("approval failed later in the transaction")
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := f.svc.IssueTx(ctx, tx, businessLicence(creditCode(t, "92910102MA0000004"))); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		l := f.issue(t, businessLicence(creditCode(t, "92910102MA0000005")))
		if !strings.Contains(l.Content.Number, "-000001-") {
			t.Errorf("after a rolled-back issuance the number is %s", l.Content.Number)
		}
		var n int
		db.QueryRowContext(ctx, `SELECT count(*) FROM licences`).Scan(&n)
		if n != 1 {
			t.Errorf("%d licences after one rollback and one issuance", n)
		}
	})
}

func TestRotationKeepsOldLicencesVerifiable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		old := f.issue(t, businessLicence(creditCode(t, "92910102MA0000006")))
		oldID, newID, err := f.keys.Rotate(ctx, "amr")
		if err != nil || oldID != old.Seal.KeyID || newID == oldID {
			t.Fatalf("rotate: %q → %q, %v", oldID, newID, err)
		}
		fresh := f.issue(t, businessLicence(creditCode(t, "92910102MA0000007")))
		if fresh.Seal.KeyID != newID {
			t.Errorf("after rotation sealed with %s, want %s", fresh.Seal.KeyID, newID)
		}
		for _, l := range []licence.Licence{old, fresh} {
			if v, err := f.svc.VerifyNumber(ctx, l.Content.Number); err != nil || v.Result != licence.Valid {
				t.Errorf("%s after rotation: %+v %v", l.Content.Number, v, err)
			}
		}
		keys, err := f.keys.Keys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var retired, active int
		for _, k := range keys {
			if k.Department == "amr" {
				if k.RetiredAt != nil {
					retired++
				} else {
					active++
				}
				if !strings.Contains(k.PublicKey, "BEGIN PUBLIC KEY") {
					t.Errorf("key %s has no PEM public key", k.ID)
				}
			}
		}
		if retired != 1 || active != 1 {
			t.Errorf("amr keys: %d retired, %d active", retired, active)
		}
		// The private key is sealed: another data key cannot open it.
		raw, _ := pii.NewKey()
		other, _ := pii.ParseKey(raw)
		ring2, _ := seal.NewKeyring(db, other)
		if _, err := ring2.Sign(ctx, db, newID, []byte("x")); err == nil {
			t.Error("a keyring with another data key signed with the department's key")
		}
		var stored string
		db.QueryRowContext(ctx, `SELECT private_key FROM seal_keys WHERE id = $1`, newID).Scan(&stored)
		if !strings.HasPrefix(stored, "v1:") {
			t.Errorf("private key stored as %.8s…, not sealed", stored)
		}
	})
}

func TestExpiryAndShares(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		now := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
		f.svc.SetNow(func() time.Time { return now })
		code := creditCode(t, "92910102MA0000008")
		req := licence.Request{Type: "food_business_licence", Holder: licence.Holder{Kind: hub.Enterprise, ID: code, Name: "明德区老街坊小吃店"},
			Fields: map[string]string{"name": "明德区老街坊小吃店", "credit_code": code}, IssuedBy: "staff:7"}
		l := f.issue(t, req)
		if l.Content.IssueDate != "2025-03-01" || l.Content.ValidUntil != "2030-02-28" {
			t.Errorf("issued %s valid until %s, want 2025-03-01 to 2030-02-28 (five years by the type)", l.Content.IssueDate, l.Content.ValidUntil)
		}
		holder := licence.Holder{Kind: hub.Enterprise, ID: code}
		if _, err := f.svc.CreateShare(ctx, holder, l.ID, 1, "", "办理银行开户", 24*time.Hour); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("share without recipient: %v", err)
		}
		if _, err := f.svc.CreateShare(ctx, licence.Holder{Kind: hub.Enterprise, ID: creditCode(t, "92910102MA0000009")}, l.ID, 1, "示范银行", "开户", 24*time.Hour); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("sharing another's licence: %v", err)
		}
		sh, err := f.svc.CreateShare(ctx, holder, l.ID, 1, "示范银行明德支行", "办理银行开户", 3*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(sh.URL, "https://zwfw.example.gov.cn/shared/licences/") {
			t.Errorf("share URL %s", sh.URL)
		}
		got, gotShare, err := f.svc.Shared(ctx, sh.Token)
		if err != nil || got.ID != l.ID || gotShare.Recipient != "示范银行明德支行" {
			t.Fatalf("shared = %v %+v %v", got.ID, gotShare, err)
		}
		now = now.Add(4 * 24 * time.Hour)
		if _, _, err := f.svc.Shared(ctx, sh.Token); !errors.Is(err, licence.ErrShareGone) {
			t.Errorf("share after its expiry: %v", err)
		}
		if _, _, err := f.svc.Shared(ctx, "not-a-token"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("unknown token: %v", err)
		}
		sh2, _ := f.svc.CreateShare(ctx, holder, l.ID, 1, "示范银行", "开户", 24*time.Hour)
		f.svc.Revoke(ctx, l.Content.Number, "经营者申请注销", "staff:7")
		if _, _, err := f.svc.Shared(ctx, sh2.Token); !errors.Is(err, licence.ErrShareGone) {
			t.Errorf("share of a revoked licence: %v", err)
		}

		// Expiry: the day after the last valid day.
		l2 := f.issue(t, licence.Request{Type: "food_business_licence", Holder: licence.Holder{Kind: hub.Enterprise, ID: code, Name: "明德区老街坊小吃店"},
			Fields: map[string]string{"name": "明德区老街坊小吃店", "credit_code": code}, IssuedBy: "machine", ValidityYears: 1})
		now = time.Date(2026, 3, 3, 15, 59, 0, 0, time.UTC) // 2026-03-03 23:59 in China: still valid
		if v, _ := f.svc.VerifyNumber(ctx, l2.Content.Number); v.Result != licence.Valid || v.ValidUntil != "2026-03-04" {
			t.Errorf("on its last day: %+v", v)
		}
		now = time.Date(2026, 3, 4, 16, 0, 0, 0, time.UTC) // 2026-03-05 00:00 in China
		if v, _ := f.svc.VerifyNumber(ctx, l2.Content.Number); v.Result != licence.Expired {
			t.Errorf("the day after: %q", v.Result)
		}
	})
}

func TestMod3736DetectsSingleErrors(t *testing.T) {
	body := "11910102MB0001111L10012025000001"
	c, err := licence.Mod3736(body)
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for i := range body {
		for _, r := range alphabet {
			if byte(r) == body[i] {
				continue
			}
			changed := body[:i] + string(r) + body[i+1:]
			if c2, _ := licence.Mod3736(changed); c2 == c {
				t.Errorf("substituting %c at %d keeps the check character", r, i)
			}
		}
		if i+1 < len(body) && body[i] != body[i+1] {
			swapped := body[:i] + string(body[i+1]) + string(body[i]) + body[i+2:]
			if c2, _ := licence.Mod3736(swapped); c2 == c {
				t.Errorf("swapping %d and %d keeps the check character", i, i+1)
			}
		}
	}
	if _, err := licence.Mod3736("abc"); err == nil {
		t.Error("lower case accepted")
	}
}

// TestPDFGolden prints a licence and a shared copy and compares the text
// pdftotext extracts with testdata/*.golden (go test -update rewrites them);
// the printed PDF verifies from its embedded licence file, while the shared
// copy, masked and watermarked, carries no licence file.
func TestPDFGolden(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext (Debian's poppler-utils) is missing: .ci/run installs it")
		}
		t.Skip("pdftotext not installed (apt-get install poppler-utils)")
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		now := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
		f.svc.SetNow(func() time.Time { return now })
		code := creditCode(t, "92910102MA0000010")
		l := f.issue(t, businessLicence(code))
		for _, tc := range []struct {
			golden string
			share  *licence.Share
		}{
			{"testdata/business_licence.golden", nil},
			{"testdata/business_licence_shared.golden", &licence.Share{Recipient: "示范银行", Purpose: "办理开户", ExpiresAt: time.Date(2025, 3, 8, 15, 0, 0, 0, time.UTC)}},
		} {
			v, err := f.svc.View(ctx, l, tc.share, "zh")
			if err != nil {
				t.Fatal(err)
			}
			pdf, err := f.svc.PDF(v)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("pdftotext", "-layout", "-nodiag", "-", "-") // the diagonal watermark is checked below
			cmd.Stdin = strings.NewReader(string(pdf))
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			// The seal key's id is random: name it by its department.
			text := regexp.MustCompile(`amr-\d{8}-[0-9a-f]{8}`).ReplaceAllString(string(out), "amr-KEY")
			if *update {
				os.WriteFile(tc.golden, []byte(text), 0o644)
			}
			want, err := os.ReadFile(tc.golden)
			if err != nil {
				t.Fatal(err)
			}
			if text != string(want) {
				t.Errorf("%s: extracted text differs:\n%s", tc.golden, text)
			}
			for _, must := range []string{"营业执照", "明德区老街坊小吃店", code, "明德区市场监督管理局", "电子印章", "https://zwfw.example.gov.cn/verify/" + l.Content.Number} {
				if !strings.Contains(text, must) {
					t.Errorf("%s: the PDF does not show %q", tc.golden, must)
				}
			}
			if tc.share == nil {
				if res, err := f.svc.VerifyFile(ctx, pdf); err != nil || res.Result != licence.Valid {
					t.Errorf("the PDF does not verify: %+v %v", res, err)
				}
				continue
			}
			if !strings.Contains(text, "仅供 示范银行 用于 办理开户，有效期至2025年3月8日") || strings.Contains(text, "幸福路8号") {
				t.Errorf("the shared copy has no watermark, or the premises' address in full:\n%s", text)
			}
			if _, err := f.svc.VerifyFile(ctx, pdf); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("the shared copy carries a licence file (with the data in full): %v", err)
			}
		}
	})
}

// TestFieldsFromFormLabelsOptions: a value chosen from a field's options
// goes on the licence as its label, never as its code.
func TestFieldsFromFormLabelsOptions(t *testing.T) {
	typ := licence.Type{LicenceSpec: catalog.LicenceSpec{Fields: []catalog.LicenceField{{ID: "composition"}, {ID: "name", Form: []string{"business_name"}}}}}
	form := []catalog.Field{{ID: "composition", Options: []catalog.Answer{{Value: "individual", Label: catalog.Text{Zh: "个人经营", En: "Run by one person"}}}}}
	got := typ.FieldsFromForm(map[string]any{"composition": "individual", "business_name": "老街坊小吃店"}, form)
	if got["composition"] != "个人经营" || got["name"] != "老街坊小吃店" {
		t.Errorf("FieldsFromForm = %v, want the option's label and the name as typed", got)
	}
}
