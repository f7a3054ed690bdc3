package licence_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/hub"
	"yiwang/internal/licence"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestSharedCopyIsMaskedWatermarkedAndRevocable: a shared senior card shows
// the holder's ID number and address masked and says whom it is for and
// why, in Chinese or English, on the page and in the PDF; its holder
// withdraws it before it expires, after which the link answers 410 in
// words; another holder cannot withdraw it.
func TestSharedCopyIsMaskedWatermarkedAndRevocable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		_, get := publicServer(t, f)
		seniorCard := func(id, name, address string) (licence.Holder, licence.Licence) {
			hd := licence.Holder{Kind: hub.Person, ID: id, Name: name}
			return hd, f.issue(t, licence.Request{ApplicationNumber: "YW-TEST-1", ItemCode: "11910102MB00011858-07-00001", Type: "senior_card", Holder: hd,
				Fields: map[string]string{"name": name, "birth_date": "1960-03-15", "address": address}, IssuedBy: "machine"})
		}
		id := idNumber("91010219600315123")
		const address = "示范市明德区福安街道幸福路1号"
		holder, l := seniorCard(id, "赵老汉", address)
		other, otherL := seniorCard(idNumber("91010219580101456"), "钱大妈", "示范市明德区老街2号")

		sh, err := f.svc.CreateShare(ctx, holder, l.ID, 1, "示范银行", "办理养老金账户", 7*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		otherShare, err := f.svc.CreateShare(ctx, other, otherL.ID, 2, "示范医院", "办理就诊优惠", 7*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		path := strings.TrimPrefix(sh.URL, "https://zwfw.example.gov.cn")
		masked := pii.MaskIDNumber(id)
		st, body := get(path)
		if st != 200 || strings.Contains(body, id) || !strings.Contains(body, masked) || strings.Contains(body, "幸福路1号") ||
			!strings.Contains(body, "仅供 示范银行 用于 办理养老金账户") {
			t.Errorf("shared page %d: want the ID number and address masked and the watermark:\n%s", st, body)
		}
		if st, body := get(path + "?lang=en"); st != 200 || !strings.Contains(body, "Only for 示范银行, for 办理养老金账户") {
			t.Errorf("shared page in English %d: no English watermark:\n%s", st, body)
		}
		if _, err := exec.LookPath("pdftotext"); err == nil || os.Getenv("CI") == "true" {
			for lang, want := range map[string]string{"zh": "仅供 示范银行 用于 办理养老金账户", "en": "Only for 示范银行, for 办理养老金账户"} {
				st, pdf := get(path + "/licence.pdf?lang=" + lang)
				cmd := exec.Command("pdftotext", "-layout", "-nodiag", "-", "-")
				cmd.Stdin = strings.NewReader(pdf)
				out, err := cmd.Output()
				if err != nil {
					t.Fatal(err)
				}
				text := string(out)
				if st != 200 || strings.Contains(text, id) || !strings.Contains(text, masked) || strings.Contains(text, "幸福路1号") || !strings.Contains(text, want) {
					t.Errorf("shared PDF (%s) %d: want the ID number masked and %q:\n%s", lang, st, want, text)
				}
				if pages := strings.Count(text, "\f"); strings.Count(text, want) < pages {
					t.Errorf("shared PDF (%s): %d pages, the watermark on %d", lang, pages, strings.Count(text, want))
				}
			}
		} else {
			t.Log("pdftotext not installed: the shared PDF's text is not checked")
		}

		// The holder sees the link among the working ones.
		active, err := f.svc.ActiveShares(ctx, holder)
		if err != nil || len(active) != 1 || active[0].ID != sh.ID || active[0].Recipient != "示范银行" || active[0].Purpose != "办理养老金账户" {
			t.Errorf("active shares = %+v, %v", active, err)
		}

		// Another holder cannot withdraw it: not through their own licence,
		// nor through this one.
		for _, lid := range []int64{otherL.ID, l.ID} {
			if err := f.svc.RevokeShare(ctx, other, lid, sh.ID, 2); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("another holder withdrawing the share through licence %d: %v, want not found", lid, err)
			}
		}
		if st, _ := get(path); st != 200 {
			t.Errorf("after refused withdrawals the link answers %d", st)
		}

		if err := f.svc.RevokeShare(ctx, holder, l.ID, sh.ID, 1); err != nil {
			t.Fatal(err)
		}
		// Who withdrew it and when are kept; the promised expiry stays.
		var by int64
		var expires time.Time
		if err := db.QueryRowContext(ctx, `SELECT withdrawn_by, expires_at FROM licence_shares WHERE id = $1`, sh.ID).Scan(&by, &expires); err != nil || by != 1 || !expires.Equal(sh.ExpiresAt) {
			t.Errorf("the withdrawal is recorded as by %d, expiring %v (%v); want by 1, expiring %v", by, expires, err, sh.ExpiresAt)
		}
		var trail int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM audit_entries WHERE action = 'licence.share_withdrawn' AND actor_id = '1'`).Scan(&trail); err != nil || trail != 1 {
			t.Errorf("the withdrawal is on the audit trail %d times (%v), want once", trail, err)
		}
		for _, p := range []string{path, path + "/licence.pdf"} {
			if st, body := get(p); st != http.StatusGone || !strings.Contains(body, "持证人已撤回") || strings.Contains(body, masked) {
				t.Errorf("%s after withdrawal %d:\n%s", p, st, body)
			}
		}
		if active, _ := f.svc.ActiveShares(ctx, holder); len(active) != 0 {
			t.Errorf("a withdrawn link is still listed: %+v", active)
		}
		if err := f.svc.RevokeShare(ctx, holder, l.ID, sh.ID, 1); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("withdrawing it twice: %v", err)
		}
		// The other holder's link is untouched.
		if _, _, err := f.svc.Shared(ctx, otherShare.Token); err != nil {
			t.Errorf("the other holder's link: %v", err)
		}
	})
}
