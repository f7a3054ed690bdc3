package licence_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"

	"yiwang/internal/licence"
	"yiwang/internal/seal"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// benchContent is a business licence's canonical content, as sealed.
func benchContent(b *testing.B) []byte {
	c := licence.Content{Format: licence.Format, Number: "11910102MB0001111L-1001-2025-000001-7", Type: "business_licence", TypeName: "营业执照",
		Issuer: licence.Party{Code: "amr", ID: "11910102MB0001111L", Name: "明德区市场监督管理局"},
		Holder: licence.Party{Kind: "enterprise", ID: "92910102MA00000107", Name: "明德区老街坊小吃店"},
		Fields: map[string]string{"name": "明德区老街坊小吃店", "credit_code": "92910102MA00000107", "legal_rep": "钱多多",
			"address": "示范市明德区福安街道幸福路8号", "scope": "餐饮服务；预包装食品销售"},
		IssueDate: "2025-03-01", ApplicationNumber: "YW-2025-0001", ItemCode: "11910102MB0001111L-01-00001"}
	canon, err := licence.Canonical(c)
	if err != nil {
		b.Fatal(err)
	}
	return canon
}

// BenchmarkSign seals one licence: SM3 digest and SM2 signature (the private
// key cached after its first use).
func BenchmarkSign(b *testing.B) {
	ctx := context.Background()
	f := setup(b, storetest.SQLite(b))
	id, err := f.keys.Active(ctx, "amr")
	if err != nil {
		b.Fatal(err)
	}
	canon := benchContent(b)
	for b.Loop() {
		seal.Digest(canon)
		if _, err := f.keys.Sign(ctx, f.db, id, canon); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify checks one licence's seal: digest and SM2 verification.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	f := setup(b, storetest.SQLite(b))
	id, _ := f.keys.Active(ctx, "amr")
	canon := benchContent(b)
	sig, err := f.keys.Sign(ctx, f.db, id, canon)
	if err != nil {
		b.Fatal(err)
	}
	key, err := f.keys.Public(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		seal.Digest(canon)
		if !key.Verify(canon, sig) {
			b.Fatal("does not verify")
		}
	}
}

// BenchmarkIssueTx issues one licence per transaction, one after another:
// sequence number, canonical content, seal, sealed storage and the hub record.
func BenchmarkIssueTx(b *testing.B) {
	backends := map[string]func(testing.TB) *store.DB{"sqlite": storetest.SQLite}
	if os.Getenv("YIWANG_TEST_DATABASE_URL") != "" {
		backends["postgres"] = storetest.Postgres
	}
	for _, name := range []string{"sqlite", "postgres"} {
		open, ok := backends[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			f := setup(b, open(b))
			i := 0
			for b.Loop() {
				i++
				code := creditCode(b, fmt.Sprintf("92910102MA%07d", i))
				if err := f.db.InTx(ctx, func(tx *sql.Tx) error {
					_, err := f.svc.IssueTx(ctx, tx, businessLicence(code))
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPDF prints one licence (font subsetting, QR code, attachment).
func BenchmarkPDF(b *testing.B) {
	ctx := context.Background()
	f := setup(b, storetest.SQLite(b))
	l := f.issue(b, businessLicence(creditCode(b, "92910102MA0000012")))
	v, err := f.svc.View(ctx, l, nil, "zh")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := f.svc.PDF(v); err != nil {
			b.Fatal(err)
		}
	}
}
