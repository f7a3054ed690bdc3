package main

import (
	"net/http/httptest"
	"net/url"
	"testing"
)

// Server time of the catalogue's public pages and API on the demo data, with
// the whole middleware chain and an SQLite database, without the network.
func BenchmarkPublicPages(b *testing.B) {
	srv, _ := demoServer(b)
	h := srv.Handler()
	for _, path := range []string{
		"/",
		"/items",
		"/items/" + seniorCard,
		"/search?q=" + url.QueryEscape("落户"),
		"/api/v1/items/" + seniorCard,
		"/api/v1/search?q=" + url.QueryEscape("营业执照"),
	} {
		b.Run(path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
				if rec.Code != 200 {
					b.Fatalf("%s: %d", path, rec.Code)
				}
			}
		})
	}
}
