package httpx_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/httpx"
)

func TestDecodeJSONRefusesBadBodiesWithActionableErrors(t *testing.T) {
	type body struct {
		Name string `json:"name"`
		Age  int    `json:"age"`
	}
	tests := []struct {
		name, body, contentType, code string
	}{
		{"valid", `{"name":"张三","age":60}`, "application/json", ""},
		{"empty", ``, "application/json", "empty_body"},
		{"syntax", `{"name":`, "application/json", "malformed_json"},
		{"wrong type", `{"age":"sixty"}`, "application/json", "wrong_type"},
		{"unknown field", `{"nmae":"x"}`, "application/json", "unknown_field"},
		{"two values", `{} {}`, "application/json", "malformed_json"},
		{"form post", `name=x`, "application/x-www-form-urlencoded", "unsupported_media_type"},
		{"too large", `{"name":"` + strings.Repeat("x", httpx.MaxBody) + `"}`, "application/json", "body_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", tt.contentType)
			var b body
			err := httpx.DecodeJSON(httptest.NewRecorder(), r, &b)
			if tt.code == "" {
				if err != nil || b.Name != "张三" || b.Age != 60 {
					t.Errorf("valid body: %v %+v", err, b)
				}
				return
			}
			e := apperr.As(err)
			if e == nil || e.Code != tt.code || e.Kind != apperr.Invalid {
				t.Errorf("err = %v, want code %s", err, tt.code)
			}
		})
	}
}

func TestStatusForCoversEveryKind(t *testing.T) {
	want := map[apperr.Kind]int{apperr.Internal: 500, apperr.Invalid: 400, apperr.NotFound: 404, apperr.Conflict: 409,
		apperr.Unauthenticated: 401, apperr.Forbidden: 403, apperr.TooMany: 429, apperr.Unavailable: 503}
	for k, status := range want {
		if got := httpx.StatusFor(k); got != status {
			t.Errorf("StatusFor(%s) = %d, want %d", k, got, status)
		}
	}
}
