package httpx_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
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
		name, body, contentType string
		code                    apperr.Code
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

func TestWriteErrorSpeaksTheCallersLanguage(t *testing.T) {
	form := apperr.New(apperr.Invalid, apperr.BadForm, "1 field(s) could not be read").
		WithDetails([]apperr.Detail{{Subject: "age", Words: apperr.Words{Zh: "年龄：请填写数字。", En: "Age: enter a number."}}})
	for _, tt := range []struct {
		name, acceptLanguage string
		err                  error
		code, message        string
		details              []httpx.DetailText
	}{
		{"no header: Chinese", "", form, "bad_form", "以下内容未能识别，请修改：", []httpx.DetailText{{Subject: "age", Message: "年龄：请填写数字。"}}},
		{"English preferred", "en-GB,en;q=0.9,zh-CN;q=0.5", form, "bad_form", "Some fields could not be read. Fix these:", []httpx.DetailText{{Subject: "age", Message: "Age: enter a number."}}},
		{"Chinese preferred", "zh-CN,zh;q=0.9,en;q=0.8", form, "bad_form", "以下内容未能识别，请修改：", []httpx.DetailText{{Subject: "age", Message: "年龄：请填写数字。"}}},
		{"English by weight", "zh;q=0.3,en;q=0.8", form, "bad_form", "Some fields could not be read. Fix these:", []httpx.DetailText{{Subject: "age", Message: "Age: enter a number."}}},
		{"neither: Chinese", "fr-FR", form, "bad_form", "以下内容未能识别，请修改：", []httpx.DetailText{{Subject: "age", Message: "年龄：请填写数字。"}}},
		{"internal: words only", "en", apperr.Wrap(errors.New("disk on fire"), apperr.Internal, apperr.SealSign, "cannot seal the licence"), "seal_sign",
			"Something went wrong on our side. Try again later; if it keeps happening, quote the request ID.", nil},
		{"no kind", "", errors.New("disk on fire"), "internal", "系统内部出错，请稍后重试；如仍有问题，请向工作人员提供请求编号。", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.acceptLanguage != "" {
				r.Header.Set("Accept-Language", tt.acceptLanguage)
			}
			rec := httptest.NewRecorder()
			httpx.WriteError(rec, r, slog.New(slog.NewTextHandler(io.Discard, nil)), tt.err)
			var got struct {
				Error struct {
					Code, Message string
					Details       []httpx.DetailText
				}
			}
			if err := json.NewDecoder(rec.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			e := got.Error
			if e.Code != tt.code || e.Message != tt.message || len(e.Details) != len(tt.details) || (len(e.Details) > 0 && e.Details[0] != tt.details[0]) {
				t.Errorf("got %+v, want code %s, message %q, details %+v", e, tt.code, tt.message, tt.details)
			}
		})
	}
}
