package web

import (
	"testing"

	"yiwang/internal/apperr"
)

func TestErrorTextIsChineseWhereKnown(t *testing.T) {
	known := apperr.New(apperr.Conflict, "task_claimed", "task 7 is claimed by another reviewer")
	unknown := apperr.New(apperr.Invalid, "something_new", "something new went wrong")
	for _, tt := range []struct {
		lang string
		e    *apperr.Error
		want string
	}{
		{"zh", known, "该任务已由其他审查人员认领；请联系对方或部门负责人释放后再办理。"},
		{"en", known, "task 7 is claimed by another reviewer"},
		{"zh", unknown, "something new went wrong"},
	} {
		if got := ErrorText(tt.lang, tt.e); got != tt.want {
			t.Errorf("ErrorText(%s, %s) = %q, want %q", tt.lang, tt.e.Code, got, tt.want)
		}
	}
	for code, zh := range errorTexts {
		if zh == "" {
			t.Errorf("%s has an empty Chinese text", code)
		}
	}
}
