package main

import (
	"io"
	"testing"

	"yiwang/internal/logging"
)

// FuzzHubConfig feeds the connectors file parser any content: it never
// panics, and every source it configures has a connector, one per source.
func FuzzHubConfig(f *testing.F) {
	for _, seed := range []string{
		"connectors:\n  - name: population-bureau\n    base_url: https://rkk.example.gov.cn/api\n    paths: {population: \"/persons/{key}\"}\n    auth_header: Authorization\n    auth_value_env: RKK_TOKEN\n    field_map: {population: {address: residence.address}}\n    timeout: 3s\n    retries: 2\n",
		"connectors:\n  - base_url: http://x\n    paths: {a: /a, b: /b}\n  - base_url: http://y\n    paths: {a: /a}\n",
		"connectors:\n  - base_url: ftp://x\n    paths: {a: \"\"}\n    timeout: -1s\n    retries: -5\n    breaker_failures: -1\n",
		"connectors: [{pathz: {}}]\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	logger := logging.New(io.Discard, "text", 0)
	env := func(k string) string {
		if k == "RKK_TOKEN" {
			return "Bearer x"
		}
		return ""
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		conns, err := parseConnectors("hub.yaml", b, env, logger)
		if err != nil {
			return
		}
		for source, c := range conns {
			if c == nil {
				t.Fatalf("source %q has no connector", source)
			}
		}
	})
}
