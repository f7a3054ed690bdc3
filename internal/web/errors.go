package web

import "yiwang/internal/apperr"

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
