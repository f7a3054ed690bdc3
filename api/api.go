// Package api holds the OpenAPI document of yiwang's HTTP API, served at
// /api/v1/openapi.yaml and checked against the registered routes by tests.
package api

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document, as YAML.
//
//go:embed openapi.yaml
var OpenAPI []byte
