package licence_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"yiwang/internal/apitest"
	"yiwang/internal/authz"
	"yiwang/internal/httpx"
	"yiwang/internal/hub"
	"yiwang/internal/identity"
	"yiwang/internal/licence"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// publicServer serves the licence routes to anonymous visitors; get
// fetches a path from it. Revocation over HTTP goes through applications:
// cmd/yiwang tests it.
func publicServer(t *testing.T, f fixture) (*httptest.Server, func(path string) (int, string)) {
	t.Helper()
	return serverAs(t, f, authz.Anonymous)
}

// serverAs is publicServer with every request made by p.
func serverAs(t *testing.T, f fixture, p authz.Principal) (*httptest.Server, func(path string) (int, string)) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := licence.NewHandler(f.svc, identity.NewStore(f.db, f.pii), nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	r := httpx.NewRouter(logger)
	h.Register(r)
	// Each /api/ exchange is held to api/openapi.yaml on its way through.
	contract := apitest.MustNew(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec := contract.Serve(t, r, req.WithContext(authz.With(req.Context(), p)))
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	return srv, func(path string) (int, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
}

// TestPublicVerificationOverHTTP drives the public routes as a verifier
// would: the page the QR code opens, the JSON API, an uploaded PDF, the
// published keys, and a shared copy before and after revocation.
func TestPublicVerificationOverHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		srv, get := publicServer(t, f)
		code := creditCode(t, "92910102MA0000013")
		l := f.issue(t, businessLicence(code))
		n := l.Content.Number

		if st, body := get("/verify/" + n); st != 200 || !strings.Contains(body, "有效") || !strings.Contains(body, "明德区老街坊小吃店") {
			t.Errorf("verify page %d:\n%s", st, body)
		}
		if st, body := get("/verify/" + n[:len(n)-1] + "Z"); st != 404 || !strings.Contains(body, "校验位不符") {
			t.Errorf("mistyped number %d:\n%s", st, body)
		}
		st, body := get("/api/v1/licences/" + n + "/verification")
		var v licence.Verification
		json.Unmarshal([]byte(body), &v)
		if st != 200 || v.Result != "valid" || v.KeyID != l.Seal.KeyID {
			t.Errorf("verification API %d: %s", st, body)
		}
		if st, body := get("/.well-known/yiwang-seal-keys.json"); st != 200 || !strings.Contains(body, l.Seal.KeyID) || !strings.Contains(body, "BEGIN PUBLIC KEY") {
			t.Errorf("keys %d: %s", st, body)
		}

		sh, err := f.svc.CreateShare(ctx, licence.Holder{Kind: hub.Enterprise, ID: code}, l.ID, 1, "示范银行", "开户", 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		path := strings.TrimPrefix(sh.URL, "https://zwfw.example.gov.cn")
		if st, body := get(path); st != 200 || !strings.Contains(body, "仅供 示范银行 用于 开户") {
			t.Errorf("shared page %d:\n%s", st, body)
		}
		res, err := http.Get(srv.URL + path + "/licence.pdf")
		if err != nil {
			t.Fatal(err)
		}
		shared, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("shared PDF: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		// The holder's own PDF carries the licence file and verifies; the
		// shared copy does not carry it (it holds the data in full).
		own, err := f.svc.View(ctx, l, nil, "zh")
		if err != nil {
			t.Fatal(err)
		}
		pdf, err := f.svc.PDF(own)
		if err != nil {
			t.Fatal(err)
		}
		post := func() licence.Verification {
			res, err := http.Post(srv.URL+"/api/v1/licences/verify", "application/pdf", strings.NewReader(string(pdf)))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var v licence.Verification
			json.NewDecoder(res.Body).Decode(&v)
			return v
		}
		if v := post(); v.Result != "valid" {
			t.Errorf("uploaded PDF: %+v", v)
		}
		if res, err := http.Post(srv.URL+"/api/v1/licences/verify", "application/pdf", strings.NewReader(string(shared))); err != nil || res.StatusCode != http.StatusBadRequest {
			t.Errorf("the shared copy verified from a licence file it should not carry: %v %v", res.StatusCode, err)
		} else {
			res.Body.Close()
		}

		if _, err := f.svc.Revoke(ctx, n, "营业执照被吊销", "staff:9"); err != nil {
			t.Fatal(err)
		}
		if v := post(); v.Result != "revoked" || v.RevokeReason != "营业执照被吊销" {
			t.Errorf("uploaded PDF after revocation: %+v", v)
		}
		if st, body := get(path); st != http.StatusGone || !strings.Contains(body, "已被撤销") {
			t.Errorf("shared page after revocation %d:\n%s", st, body)
		}
		if st, body := get("/verify/" + n); !strings.Contains(body, "已撤销") || !strings.Contains(body, "营业执照被吊销") {
			t.Errorf("verify page after revocation %d:\n%s", st, body)
		}
		// Set back to valid in the database: the page says the record was tampered with.
		if _, err := db.ExecContext(ctx, `UPDATE licences SET status = 'valid', ended_at = NULL, end_reason = '' WHERE number = $1`, n); err != nil {
			t.Fatal(err)
		}
		if st, body := get("/verify/" + n); !strings.Contains(body, "记录被篡改") || strings.Contains(body, "电子印章验证通过") {
			t.Errorf("verify page of a revocation undone in the database %d:\n%s", st, body)
		}
		if len(shared) > 200<<10 {
			t.Errorf("a licence PDF is %d KB: the font is not subset", len(shared)>>10)
		}
		t.Logf("shared PDF: %d KB", len(shared)>>10)
	})
}
