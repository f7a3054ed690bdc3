package api

import (
	"context"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"
)

// TestDocumentParsesStrictly refuses what lenient parsers let through: yaml.v3
// refuses a mapping key given twice when decoding into maps (not into a
// yaml.Node, which keeps both), so a schema that declares a property twice,
// one silently winning, fails here.
func TestDocumentParsesStrictly(t *testing.T) {
	var v any
	if err := yaml.Unmarshal(OpenAPI, &v); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	dup := []byte("a:\n  b: 1\n  b: 2\n")
	if err := yaml.Unmarshal(dup, &v); err == nil || !strings.Contains(err.Error(), "already defined") {
		t.Fatalf("a duplicate key was not refused: %v", err)
	}
}

// TestDocumentIsValidOpenAPI loads the document with kin-openapi, the library
// the HTTP tests validate requests and responses with, and validates it.
func TestDocumentIsValidOpenAPI(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi %q, want 3.0.3 (the version the generators handle)", doc.OpenAPI)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Security == nil {
				t.Errorf("%s %s declares no security (security: [] when public)", method, path)
			}
			if op.OperationID == "" {
				t.Errorf("%s %s has no operationId", method, path)
			}
		}
	}
}
