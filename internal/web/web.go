// Package web renders the server-side pages people use: one layout with the
// site header, language switch and footer, into which each domain package
// puts its own page templates. Pages are Chinese by default; ?lang=en
// switches to English and a cookie remembers the choice.
package web

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"yiwang/internal/workday"

	"yiwang/internal/authz"
)

//go:embed templates/layout.html templates/error.html
var layoutFS embed.FS

//go:embed static
var staticFS embed.FS

// Page is what every page template receives.
type Page struct {
	Lang  string // "zh" or "en"
	CSRF  string // the token every form posts back in the csrf_token field
	User  string // the signed-in person's name, "" when anonymous
	Staff bool   // the signed-in person works for the government: the nav leads to the workbench
	Title string
	Path  string // the request path, for the language switch
	Query url.Values
	Elder bool // 长者模式: larger type, simpler layout (a cookie remembers it)
	Data  any
}

// Renderer renders a domain's pages inside the shared layout.
type Renderer struct {
	pages  map[string]*template.Template
	logger *slog.Logger
}

// Funcs available in every template.
var funcs = template.FuncMap{
	// t picks the Chinese or English text: {{t .Lang "办事指南" "Service guide"}}.
	"t": func(lang, zh, en string) string {
		if lang == "en" {
			return en
		}
		return zh
	},
	// in picks a bilingual value's text: {{in .Name $.Lang}} (catalog.Text).
	"in": func(t interface{ In(string) string }, lang string) string { return t.In(lang) },
	// label writes a platform code in words: {{label $.Lang "status" .Status}} (labels.go).
	"label": Label,
	// actor names who did something in a timeline: {{actor $.Lang .ActorKind .ActorName}}.
	"actor": Actor,
	"join":  strings.Join,
	"add":   func(a, b int) int { return a + b },
	// when writes a time in China time, "" for none: {{when .SubmittedAt}}.
	"when": func(v any) string { return inCST(v, "2006-01-02 15:04") },
	// day writes a date in China time, "" for none: {{day .Deadline}}.
	"day": func(v any) string { return inCST(v, time.DateOnly) },
}

// inCST formats a time.Time or *time.Time in China time (workday.CST, the
// one zone pages show); nil and the zero time show as nothing.
func inCST(v any, layout string) string {
	var at time.Time
	switch t := v.(type) {
	case time.Time:
		at = t
	case *time.Time:
		if t == nil {
			return ""
		}
		at = *t
	}
	if at.IsZero() {
		return ""
	}
	return at.In(workday.CST).Format(layout)
}

// NewRenderer parses every *.html file of pages (a domain's embedded
// templates folder) together with the layout. Each page defines "content".
// Files whose names start with "_" are partials: not pages, but parsed
// into every page, so that several pages share a block ({{template "x" .}}).
// extra adds the domain's own template functions (may be nil); shared
// are other domains' folders whose partials this domain's pages show too
// (a block another domain owns on one of these pages).
func NewRenderer(pages fs.FS, extra template.FuncMap, logger *slog.Logger, shared ...fs.FS) (*Renderer, error) {
	layout, err := template.New("layout.html").Funcs(funcs).Funcs(extra).ParseFS(layoutFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	for _, f := range append(shared, pages) {
		if partials, _ := fs.Glob(f, "_*.html"); len(partials) > 0 {
			if layout, err = layout.ParseFS(f, partials...); err != nil {
				return nil, fmt.Errorf("partials: %w", err)
			}
		}
	}
	names, err := fs.Glob(pages, "*.html")
	if err != nil {
		return nil, err
	}
	r := &Renderer{pages: map[string]*template.Template{}, logger: logger}
	for _, name := range names {
		if strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(pages, name)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		r.pages[path.Base(name)] = t
	}
	if _, ok := r.pages["error.html"]; !ok {
		// The shared error page (Fail), unless the domain words its own.
		t, err := template.Must(layout.Clone()).ParseFS(layoutFS, "templates/error.html")
		if err != nil {
			return nil, fmt.Errorf("template error.html: %w", err)
		}
		r.pages["error.html"] = t
	}
	return r, nil
}

type csrfKey struct{}

// WithCSRF returns ctx carrying the CSRF token forms must post back.
func WithCSRF(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, csrfKey{}, token)
}

// CSRF returns the CSRF token in ctx.
func CSRF(ctx context.Context) string {
	t, _ := ctx.Value(csrfKey{}).(string)
	return t
}

// Lang returns the page language for r and remembers an explicit choice.
func Lang(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "zh" || l == "en" {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && c.Value == "en" {
		return "en"
	}
	return "zh"
}

// ElderCookie remembers elder mode (长者模式) in the browser.
const ElderCookie = "elder"

// Elder reports whether the visitor chose elder mode.
func Elder(r *http.Request) bool {
	c, err := r.Cookie(ElderCookie)
	return err == nil && c.Value == "1"
}

// SetElder turns elder mode on or off for the visitor's browser.
func SetElder(w http.ResponseWriter, on bool, secure bool) {
	c := &http.Cookie{Name: ElderCookie, Value: "1", Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
	if !on {
		c.Value, c.MaxAge = "", -1
	}
	http.SetCookie(w, c)
}

// Render writes the page name with data in the request's language. The page
// is rendered to a buffer first, so a template error yields a clean 500
// instead of half a page.
func (rd *Renderer) Render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	t, ok := rd.pages[name]
	if !ok {
		rd.logger.ErrorContext(r.Context(), "no such page template", "page", name)
		http.Error(w, "page not found", http.StatusInternalServerError)
		return
	}
	page := Page{Lang: Lang(w, r), CSRF: CSRF(r.Context()), User: authz.From(r.Context()).Name, Staff: authz.From(r.Context()).Kind == "staff", Title: title, Path: r.URL.Path, Query: r.URL.Query(), Elder: Elder(r), Data: data}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", page); err != nil {
		rd.logger.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, "the page could not be shown", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// Static serves the shared stylesheet and scripts under /static/.
func Static() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	return http.StripPrefix("/static/", http.FileServerFS(sub))
}

// Here is the current page's address, for forms that come back to it.
func (p Page) Here() string {
	if len(p.Query) == 0 {
		return p.Path
	}
	return p.Path + "?" + p.Query.Encode()
}

// SwitchLangURL returns the current page's address in the other language.
func (p Page) SwitchLangURL() string {
	q := url.Values{}
	for k, v := range p.Query {
		q[k] = v
	}
	if p.Lang == "en" {
		q.Set("lang", "zh")
	} else {
		q.Set("lang", "en")
	}
	return p.Path + "?" + q.Encode()
}
