// Package httpx holds the HTTP conventions every handler shares: the route
// table, JSON bodies, and the one error shape
//
//	{"error": {"code": "...", "message": "...", "details": ..., "request_id": "..."}}
//
// with apperr kinds mapped to HTTP status codes in exactly one place, and
// the message in the caller's language (Accept-Language; Chinese by default).
package httpx

import (
	"context"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/logging"

	"golang.org/x/text/language"
)

// Router is an http.ServeMux on which every route names the permission it
// needs. It remembers its routes, so tests can check every one against the
// OpenAPI document and the access-control table.
type Router struct {
	mux    *http.ServeMux
	logger *slog.Logger
	routes []Route
}

// Route is a registered pattern and the permission it needs.
type Route struct {
	Pattern    string
	Permission authz.Permission
}

// NewRouter returns an empty router.
func NewRouter(logger *slog.Logger) *Router { return &Router{mux: http.NewServeMux(), logger: logger} }

// Handle registers h for a Go 1.22 pattern such as "GET /api/v1/items/{code}".
// Requests whose principal lacks perm are refused before h runs.
func (r *Router) Handle(pattern string, perm authz.Permission, h http.Handler) {
	r.routes = append(r.routes, Route{pattern, perm})
	r.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		notePattern(req)
		if perm == authz.Public {
			h.ServeHTTP(w, req)
			return
		}
		if err := authz.Require(authz.From(req.Context()), perm); err != nil {
			// A person browsing to a page that needs an account is sent to sign in.
			if apperr.Is(err, apperr.Unauthenticated) && req.Method == http.MethodGet && !strings.HasPrefix(req.URL.Path, "/api/") {
				http.Redirect(w, req, "/login?next="+url.QueryEscape(req.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			WriteError(w, req, r.logger, err)
			return
		}
		h.ServeHTTP(w, req)
	}))
}

// HandleFunc registers f for pattern.
func (r *Router) HandleFunc(pattern string, perm authz.Permission, f http.HandlerFunc) {
	r.Handle(pattern, perm, f)
}

// Routes returns the registered routes in registration order.
func (r *Router) Routes() []Route { return append([]Route(nil), r.routes...) }

// ServeHTTP dispatches to the matching handler; r.Pattern is set afterwards.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.mux.ServeHTTP(w, req) }

type patternKey struct{}

// WithPatternNote returns a context in which the router notes the pattern it
// matches, and the note it writes to ("" if no route matched). Middleware
// outside the router needs it: the mux sets Pattern only on the request it
// is given, and middleware in between (authentication) passes on copies.
// The router notes the pattern before the handler runs, so a handler that
// panics is still counted under its route.
func WithPatternNote(ctx context.Context) (context.Context, *string) {
	note := new(string)
	return context.WithValue(ctx, patternKey{}, note), note
}

// notePattern writes the matched pattern to the note in req's context, if any.
func notePattern(req *http.Request) {
	if note, ok := req.Context().Value(patternKey{}).(*string); ok {
		*note = req.Pattern
	}
}

// StatusFor maps an error kind to its HTTP status. This is the only place
// that decides it.
func StatusFor(kind apperr.Kind) int {
	switch kind {
	case apperr.Invalid:
		return http.StatusBadRequest
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Unauthenticated:
		return http.StatusUnauthorized
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.TooMany:
		return http.StatusTooManyRequests
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	case apperr.TooLarge:
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusInternalServerError
	}
}

// ErrorBody is the JSON shape of every API error.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the content of an API error.
type ErrorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Details   any    `json:"details,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// WriteError writes err in the one error shape. The message is the words of
// the error's code in the caller's language; the error's own Message, which
// names the particular case for developers, goes only to the logs. Errors
// without a kind are internal: they are logged in full and the caller sees
// only the request ID.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	e := apperr.As(err)
	if e == nil {
		e = &apperr.Error{Kind: apperr.Internal, Err: err}
	}
	status := StatusFor(e.Kind)
	code, words := e.Code, e.Words()
	if code == "" {
		code = e.Kind.Code()
	}
	if status >= 500 {
		logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
		if e.Kind == apperr.Internal {
			words, _ = apperr.InternalError.Words()
		}
	}
	lang := Lang(r)
	WriteJSON(w, status, ErrorBody{ErrorDetail{Code: string(code), Message: words.In(lang), Details: localDetails(lang, e.Details), RequestID: logging.RequestID(r.Context())}})
}

// DetailText is one of an error's details in the caller's language.
type DetailText struct {
	Subject string `json:"subject,omitempty"`
	Message string `json:"message"`
}

// localDetails puts details worded as []apperr.Detail into lang; other
// details (numbers, limits) need no words and pass as they are.
func localDetails(lang string, details any) any {
	ds, ok := details.([]apperr.Detail)
	if !ok {
		return details
	}
	out := make([]DetailText, len(ds))
	for i, d := range ds {
		out[i] = DetailText{d.Subject, d.In(lang)}
	}
	return out
}

// Lang is the language API errors are written in for r: "en" when the
// Accept-Language header prefers English to Chinese, otherwise "zh".
func Lang(r *http.Request) string {
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	for _, t := range tags {
		switch base, _ := t.Base(); base.String() {
		case "en":
			return "en"
		case "zh":
			return "zh"
		}
	}
	return "zh"
}

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// MaxBody bounds a JSON request body.
const MaxBody = 1 << 20

// DecodeJSON reads a JSON body into v, refusing unknown fields, trailing data
// and bodies over MaxBody with apperr.Invalid errors that say what to fix.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return apperr.New(apperr.Invalid, apperr.UnsupportedMediaType, "send the body as application/json, not %s", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return apperr.New(apperr.Invalid, apperr.BodyTooLarge, "the body is larger than %d bytes", MaxBody)
		case errors.Is(err, io.EOF):
			return apperr.New(apperr.Invalid, apperr.EmptyBody, "the request body is empty; send a JSON object")
		case errors.As(err, &syntax):
			return apperr.New(apperr.Invalid, apperr.MalformedJSON, "the body is not valid JSON at byte %d", syntax.Offset)
		case errors.As(err, &typ):
			return wrongType(typ)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return apperr.New(apperr.Invalid, apperr.UnknownField, "%s", strings.TrimPrefix(err.Error(), "json: "))
		default:
			return apperr.Wrap(err, apperr.Invalid, apperr.MalformedJSON, "the body could not be read as JSON")
		}
	}
	if dec.More() {
		return apperr.New(apperr.Invalid, apperr.MalformedJSON, "the body holds more than one JSON value")
	}
	return nil
}

// wrongType words a JSON type error by the field's name and the kind of
// value it takes, never by Go's names for types, which mean nothing to the
// caller and describe the code.
func wrongType(typ *json.UnmarshalTypeError) *apperr.Error {
	field := typ.Field
	if field == "" {
		field = "(body)"
	}
	want := jsonKind(typ.Type)
	return apperr.New(apperr.Invalid, apperr.WrongType, "field %q must be %s", field, want.En).
		WithDetails([]apperr.Detail{{Subject: field, Words: apperr.Words{
			Zh: fmt.Sprintf("“%s”须为%s。", field, want.Zh), En: fmt.Sprintf("%q must be %s.", field, want.En)}}})
}

// jsonKind says in words what JSON value a Go type is read from.
func jsonKind(t reflect.Type) apperr.Words {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
		return apperr.Words{Zh: "文本", En: "text"}
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return apperr.Words{Zh: "整数", En: "a whole number"}
	case reflect.Float32, reflect.Float64:
		return apperr.Words{Zh: "数字", En: "a number"}
	case reflect.String:
		return apperr.Words{Zh: "文本", En: "text"}
	case reflect.Bool:
		return apperr.Words{Zh: "true或false", En: "true or false"}
	case reflect.Slice, reflect.Array:
		return apperr.Words{Zh: "列表（[…]）", En: "a list ([…])"}
	case reflect.Map, reflect.Struct:
		return apperr.Words{Zh: "对象（{…}）", En: "an object ({…})"}
	}
	return apperr.Words{Zh: "另一种值", En: "another kind of value"}
}

// NotFound answers any unmatched route in the error shape.
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusNotFound, ErrorBody{ErrorDetail{Code: "not_found",
		Message: fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path), RequestID: logging.RequestID(r.Context())}})
}
