// Package api holds the OpenAPI document of yiwang's HTTP API, served at
// /api/v1/openapi.yaml and checked against the registered routes by tests.
package api

import _ "embed"

// OpenAPI is the OpenAPI 3.0.3 document, as YAML: 3.0 because the common
// tooling (kin-openapi, oapi-codegen) handles it fully.
//
//go:embed openapi.yaml
var OpenAPI []byte
