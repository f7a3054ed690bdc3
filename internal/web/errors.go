package web

import (
	"net/http"

	"yiwang/internal/apperr"
	"yiwang/internal/httpx"
)

// ErrorText is an error's words in the page's language, from the apperr
// table; the error's own Message is for developers and stays in the logs.
func ErrorText(lang string, e *apperr.Error) string {
	return e.Words().In(lang)
}

// ErrorDetails are an error's details in the page's language, one line
// each; details that are not worded (numbers, limits) show nothing.
func ErrorDetails(lang string, e *apperr.Error) []string {
	switch ds := e.Details.(type) {
	case []apperr.Detail:
		out := make([]string, len(ds))
		for i, d := range ds {
			out[i] = d.In(lang)
		}
		return out
	}
	return nil
}

// Fail shows err as the renderer's error.html page (the shared one in
// web/templates unless the domain has its own; given Message, Details
// and Status), one a person can act on: the error's words and details in
// the page's language. An internal error is logged and shown without words;
// its request ID is what a person quotes.
func (rd *Renderer) Fail(w http.ResponseWriter, r *http.Request, err error) {
	e := apperr.As(err)
	if e == nil {
		e = &apperr.Error{Kind: apperr.Internal, Err: err}
	}
	status := httpx.StatusFor(e.Kind)
	lang := Lang(w, r)
	msg, details := ErrorText(lang, e), ErrorDetails(lang, e)
	if status >= 500 {
		rd.logger.ErrorContext(r.Context(), "page failed", "path", r.URL.Path, "err", err)
		if e.Kind == apperr.Internal {
			msg = ""
		}
	}
	title := "无法完成"
	if lang == "en" {
		title = "Could not be done"
	}
	rd.Render(w, r, status, "error.html", title, struct {
		Message string
		Details []string
		Status  int
	}{msg, details, status})
}
