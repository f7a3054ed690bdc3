package httpx_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"regexp"
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

// TestWrongTypeNamesTheFieldAndTheKindInWords: a type error in a body says
// which field and what kind of value it takes, in both languages, and never
// names a Go type, as encoding/json's own message does.
func TestWrongTypeNamesTheFieldAndTheKindInWords(t *testing.T) {
	type body struct {
		Age     int               `json:"age"`
		Score   float64           `json:"score"`
		Name    string            `json:"name"`
		OK      bool              `json:"ok"`
		Tags    []string          `json:"tags"`
		Answers map[string]string `json:"answers"`
		Addr    *netip.Addr       `json:"addr"` // read from text (encoding.TextUnmarshaler)
		Inner   struct {
			Count uint8 `json:"count"`
		} `json:"inner"`
	}
	goTypes := regexp.MustCompile(`\b(u?int\d*|float\d+|string|bool|struct|map|time\.Time|Go)\b|\[\]`)
	for _, tt := range []struct{ body, field, zh, en string }{
		{`{"age":"sixty"}`, "age", "整数", "a whole number"},
		{`{"age":6.5}`, "age", "整数", "a whole number"},
		{`{"age":1e400}`, "age", "整数", "a whole number"},
		{`{"score":"high"}`, "score", "数字", "a number"},
		{`{"name":42}`, "name", "文本", "text"},
		{`{"ok":"yes"}`, "ok", "true或false", "true or false"},
		{`{"tags":"a"}`, "tags", "列表", "a list"},
		{`{"tags":[1]}`, "tags", "文本", "text"},
		{`{"answers":[]}`, "answers", "对象", "an object"},
		{`{"addr":5}`, "addr", "文本", "text"},
		{`{"inner":{"count":300}}`, "inner.count", "整数", "a whole number"},
		{`[1]`, "(body)", "对象", "an object"},
	} {
		for _, lang := range []string{"zh", "en"} {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Accept-Language", lang)
			var b body
			err := httpx.DecodeJSON(httptest.NewRecorder(), r, &b)
			if e := apperr.As(err); e == nil || e.Code != apperr.WrongType {
				t.Fatalf("%s: err = %v, want wrong_type", tt.body, err)
			}
			if goTypes.MatchString(apperr.As(err).Message) {
				t.Errorf("%s: the message names a Go type: %q", tt.body, apperr.As(err).Message)
			}
			w := httptest.NewRecorder()
			httpx.WriteError(w, r, slog.New(slog.DiscardHandler), err)
			var got httpx.ErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			details, _ := json.Marshal(got.Error.Details)
			text := got.Error.Message + " " + string(details)
			want := map[string]string{"zh": tt.zh, "en": tt.en}[lang]
			// Go 1.27 names an array's element too ("tags.0"), Go 1.26 the array ("tags").
			if !strings.Contains(text, `"subject":"`+tt.field) || !strings.Contains(text, want) {
				t.Errorf("%s in %s: %s; want field %s and %q", tt.body, lang, text, tt.field, want)
			}
			if goTypes.MatchString(text) {
				t.Errorf("%s in %s: the answer names a Go type: %s", tt.body, lang, text)
			}
		}
	}
}
