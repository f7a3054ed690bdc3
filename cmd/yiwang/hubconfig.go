package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"yiwang/internal/hub"
	"yiwang/internal/hub/httpconn"
)

// hubFile is the connectors file named by --hub-config: which sources are
// read from which department's system. Secrets stay in the environment: the
// file names the variable that holds each credential.
//
//	connectors:
//	  - name: population-bureau
//	    base_url: https://rkk.example.gov.cn/api
//	    paths: {population: "/persons/{key}"}
//	    auth_header: Authorization
//	    auth_value_env: RKK_API_TOKEN
//	    field_map: {population: {address: residence.address}}
//	    timeout: 3s
//	    retries: 2
type hubFile struct {
	Connectors []struct {
		Name            string                       `yaml:"name"`
		BaseURL         string                       `yaml:"base_url"`
		Paths           map[string]string            `yaml:"paths"`
		AuthHeader      string                       `yaml:"auth_header"`
		AuthValueEnv    string                       `yaml:"auth_value_env"`
		FieldMap        map[string]map[string]string `yaml:"field_map"`
		Timeout         time.Duration                `yaml:"timeout"`
		Retries         int                          `yaml:"retries"`
		Backoff         time.Duration                `yaml:"backoff"`
		BreakerFailures int                          `yaml:"breaker_failures"`
		BreakerCooldown time.Duration                `yaml:"breaker_cooldown"`
	} `yaml:"connectors"`
}

// loadConnectors reads the connectors file and returns, per source, the
// connector to a department's system. Sources it does not name stay on the
// built-in registries.
func loadConnectors(path string, getenv func(string) string, logger *slog.Logger) (map[string]hub.Connector, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the connectors file: %w", err)
	}
	return parseConnectors(path, b, getenv, logger)
}

// parseConnectors is loadConnectors on the file's content b; path names the
// file in errors.
func parseConnectors(path string, b []byte, getenv func(string) string, logger *slog.Logger) (map[string]hub.Connector, error) {
	var f hubFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	out := map[string]hub.Connector{}
	for i, c := range f.Connectors {
		name := c.Name
		if name == "" {
			name = fmt.Sprintf("connector %d", i+1)
		}
		auth := ""
		if c.AuthValueEnv != "" {
			if auth = getenv(c.AuthValueEnv); auth == "" {
				return nil, fmt.Errorf("%s: %s: the environment variable %s holding its credentials is empty", path, name, c.AuthValueEnv)
			}
		}
		conn, err := httpconn.New(httpconn.Config{BaseURL: c.BaseURL, Paths: c.Paths, AuthHeader: c.AuthHeader, AuthValue: auth, FieldMap: c.FieldMap,
			Timeout: c.Timeout, Retries: c.Retries, Backoff: c.Backoff, BreakerFailures: c.BreakerFailures, BreakerCooldown: c.BreakerCooldown}, logger)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, name, err)
		}
		for source := range c.Paths {
			if _, dup := out[source]; dup {
				return nil, fmt.Errorf("%s: source %s is served by two connectors", path, source)
			}
			out[source] = conn
		}
		logger.Info("data source connector configured", "connector", name, "sources", len(c.Paths))
	}
	return out, nil
}
