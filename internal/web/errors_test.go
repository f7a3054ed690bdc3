package web

import (
	"regexp"
	"slices"
	"testing"

	"yiwang/internal/apperr"
)

func TestErrorTextComesFromTheTable(t *testing.T) {
	known := apperr.New(apperr.Conflict, apperr.TaskClaimed, "task 7 is claimed by another reviewer")
	unknown := apperr.New(apperr.Invalid, "something_new", "something new went wrong")
	for _, tt := range []struct {
		lang string
		e    *apperr.Error
		want string
	}{
		{"zh", known, "该任务已由其他审查人员认领；请联系对方或部门负责人释放后再办理。"},
		{"en", known, "Another reviewer has claimed this task. Ask them or the department head to release it."},
		{"zh", unknown, "提交的内容有误，请检查后重新提交。"},
		{"en", unknown, "Something in the request is wrong. Check it and send it again."},
	} {
		if got := ErrorText(tt.lang, tt.e); got != tt.want {
			t.Errorf("ErrorText(%s, %s) = %q, want %q", tt.lang, tt.e.Code, got, tt.want)
		}
	}
}

// latinWord is a run of Latin letters; the Chinese words may hold only the
// names and abbreviations in allowedInChinese.
var latinWord = regexp.MustCompile(`[A-Za-z]+`)

var allowedInChinese = []string{"ID", "JPEG", "JSON", "MB", "OFD", "PDF", "PNG", "ZIP"}

func TestChinesePagesShowNoEnglish(t *testing.T) {
	for _, c := range apperr.Codes() {
		zh := ErrorText("zh", &apperr.Error{Code: c})
		for _, w := range latinWord.FindAllString(zh, -1) {
			if !slices.Contains(allowedInChinese, w) {
				t.Errorf("%s shows %q on a Chinese page: %s", c, w, zh)
			}
		}
	}
}

func TestErrorDetailsInThePageLanguage(t *testing.T) {
	e := apperr.New(apperr.Invalid, apperr.BadForm, "1 field(s) could not be read").
		WithDetails([]apperr.Detail{{Subject: "age", Words: apperr.Words{Zh: "年龄：请填写数字。", En: "Age: enter a number."}}})
	if got := ErrorDetails("zh", e); !slices.Equal(got, []string{"年龄：请填写数字。"}) {
		t.Errorf("zh details = %q", got)
	}
	if got := ErrorDetails("en", e); !slices.Equal(got, []string{"Age: enter a number."}) {
		t.Errorf("en details = %q", got)
	}
	if got := ErrorDetails("zh", e.WithDetails(map[string]int{"max_bytes": 1})); got != nil {
		t.Errorf("details without words show %q", got)
	}
}
