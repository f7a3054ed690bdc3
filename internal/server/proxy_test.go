package server

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// TestClientAddressBehindTrustedProxies: per-address limits and logs see the
// person behind the site's reverse proxy, and nobody else can choose the
// address they are counted under by sending X-Forwarded-For.
func TestClientAddressBehindTrustedProxies(t *testing.T) {
	s := &Server{proxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/24")}}
	seen := ""
	h := s.withClientAddress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.RemoteAddr }))
	for _, c := range []struct{ name, peer, forwarded, want string }{
		{"through the proxy", "127.0.0.1:51234", "203.0.113.7", "203.0.113.7:0"},
		{"a forged hop to the left is ignored", "127.0.0.1:51234", "198.51.100.1, 203.0.113.7", "203.0.113.7:0"},
		{"through two proxies", "10.0.0.9:443", "203.0.113.7, 10.0.0.5", "203.0.113.7:0"},
		{"IPv6 client", "127.0.0.1:51234", "2001:db8::1", "[2001:db8::1]:0"},
		{"not from a proxy: the header is anyone's", "192.0.2.50:40000", "203.0.113.7", "192.0.2.50:40000"},
		{"a malformed chain keeps the proxy", "127.0.0.1:51234", "not-an-address", "127.0.0.1:51234"},
		{"no header", "127.0.0.1:51234", "", "127.0.0.1:51234"},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = c.peer
		if c.forwarded != "" {
			req.Header.Set("X-Forwarded-For", c.forwarded)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
		if seen != c.want {
			t.Errorf("%s: client %s, want %s", c.name, seen, c.want)
		}
	}
}
