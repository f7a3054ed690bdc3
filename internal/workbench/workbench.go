// Package workbench serves the back-office pages staff work in: the
// reviewer's queue and an application's detail with its actions, window
// intake for walk-ins, the supervisor's overdue board, and the
// administration pages (catalogue, accounts and roles, calendar years).
// Pages call the domain services directly; every action is also in the
// JSON API, with the same permission checks, because the services check.
package workbench

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/bundle"
	"yiwang/internal/catalog"
	"yiwang/internal/httpx"
	"yiwang/internal/hub"
	"yiwang/internal/identity"
	"yiwang/internal/notify"
	"yiwang/internal/org"
	"yiwang/internal/proactive"
	"yiwang/internal/rules"
	"yiwang/internal/web"
	"yiwang/internal/workday"
)

//go:embed templates/*.html
var templateFS embed.FS

// Deps are the services the pages call.
type Deps struct {
	Drafts     *application.Drafts // window intake, on the applicant's behalf
	Tasks      *application.Tasks
	Modes      *application.Modes // inspections, objections, co-parties and deferrals at the window
	Deadlines  *application.Deadlines
	Catalog    *catalog.Store
	Identities *identity.Store
	Calendar   *workday.Store
	Org        *org.Store        // department names
	Outbox     *notify.Outbox    // failed notification deliveries, for system administrators
	Proactive  *proactive.Engine // the proactive services' sweeps, for supervisors
	Bundles    *bundle.Service   // the bundle (一件事) around a member application; may be nil
	// Published refreshes the search index after a publish (may be nil).
	Published func(context.Context)
	Logger    *slog.Logger
}

// Handler serves the workbench and administration pages.
type Handler struct {
	Deps
	pages *web.Renderer
}

// NewHandler parses the pages.
func NewHandler(d Deps) (*Handler, error) {
	sub, _ := fs.Sub(templateFS, "templates")
	pages, err := web.NewRenderer(sub, template.FuncMap{
		"light": lightText,
		// seconds writes milliseconds as seconds to a tenth: 12.3.
		"seconds": func(ms int64) string { return strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64) },
		"value":   formValue,
		"table":   tableText,
		"dept":    deptNamer(d.Org),
		"data":    dataName,
		"traced":  tracedValue,
		"path":    tracePath,
		"source":  hub.SourceName,
		"from":    materialSource,
		"who":     d.staffRef,
		"columns": func(f catalog.Field, lang string) string {
			var names []string
			for _, c := range f.Columns {
				names = append(names, c.Label.In(lang))
			}
			return strings.Join(names, ", ")
		},
		"kind":   taskKind,
		"trace":  newTraceView,
		"looked": rules.Looked.Shown,
		// deferral is the commitment a walk-in signs to supply a material later.
		"deferral": func(material string) string { return application.DeferralText(material, "____年__月__日") },
	}, d.Logger)
	if err != nil {
		return nil, err
	}
	return &Handler{Deps: d, pages: pages}, nil
}

// Register adds the routes. The services check permissions again.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("GET /workbench", authz.ReviewTasks, h.queue)
	r.HandleFunc("GET /workbench/applications/{id}", authz.SignedIn, h.detail)
	r.HandleFunc("POST /workbench/applications/{id}/reveal", authz.PersonalDataRaw, h.reveal)
	r.HandleFunc("POST /workbench/tasks/{id}/claim", authz.ReviewTasks, h.claim)
	r.HandleFunc("POST /workbench/tasks/{id}/release", authz.ReviewTasks, h.release)
	r.HandleFunc("POST /workbench/tasks/{id}/decision", authz.ReviewTasks, h.decision)
	r.HandleFunc("POST /workbench/tasks/{id}/correction", authz.ReviewTasks, h.correction)
	r.HandleFunc("POST /workbench/tasks/{id}/special-procedure", authz.ReviewTasks, h.specialStart)
	r.HandleFunc("POST /workbench/tasks/{id}/special-procedure/end", authz.ReviewTasks, h.specialEnd)
	r.HandleFunc("POST /workbench/tasks/{id}/reassign", authz.ReviewTasks, h.reassign)
	r.HandleFunc("POST /workbench/tasks/{id}/inspection", authz.Inspect, h.inspection)
	r.HandleFunc("POST /workbench/tasks/{id}/objection-review", authz.ReviewTasks, h.objectionReview)
	r.HandleFunc("POST /workbench/applications/{id}/revoke", authz.Decide, h.revoke)
	r.HandleFunc("GET /workbench/intake", authz.WindowIntake, h.intakePage)
	r.HandleFunc("POST /workbench/intake", authz.WindowIntake, h.intakeStart)
	r.HandleFunc("POST /workbench/identity-check", authz.WindowIntake, h.identityCheck)
	r.HandleFunc("GET /workbench/intake/{id}", authz.WindowIntake, h.intakeDraft)
	r.HandleFunc("POST /workbench/intake/{id}", authz.WindowIntake, h.intakeSave)
	r.HandleFunc("POST /workbench/intake/{id}/parties", authz.WindowIntake, h.intakeParties)
	r.HandleFunc("POST /workbench/intake/{id}/materials/{material}/deferral", authz.WindowIntake, h.intakeDeferral)
	r.HandleFunc("GET /workbench/overdue", authz.OverdueView, h.overdue)
	r.HandleFunc("GET /workbench/proactive", authz.Supervise, h.proactiveSweeps)
	h.registerAdmin(r)
}

func pick(lang, zh, en string) string {
	if lang == "en" {
		return en
	}
	return zh
}

// fail shows an error as a page a person can act on: what went wrong and
// the way back.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, back string) {
	e := apperr.As(err)
	if e == nil || e.Kind == apperr.Internal {
		httpx.WriteError(w, r, h.Logger, err)
		return
	}
	lang := web.Lang(w, r)
	h.pages.Render(w, r, httpx.StatusFor(e.Kind), "error.html", pick(lang, "无法完成", "Could not be done"),
		map[string]any{"Message": web.ErrorText(lang, e), "Details": web.ErrorDetails(lang, e), "Back": back})
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.Invalid, apperr.BadID, "the id in the address is a whole number")
	}
	return id, nil
}

// lightText says a deadline's light in words, so colour is never the only sign.
// left is the working days left, an int or *int.
func lightText(lang string, l application.Light, left any) string {
	n := 0
	switch x := left.(type) {
	case int:
		n = x
	case *int:
		if x != nil {
			n = *x
		}
	}
	name := web.Label(lang, "light", string(l))
	switch l {
	case application.Red:
		return name + pick(lang, "：已超期 "+strconv.Itoa(-n)+" 个工作日", ": "+strconv.Itoa(-n)+" working day(s) overdue")
	case application.Yellow, application.Green:
		return name + pick(lang, "：剩 "+strconv.Itoa(n)+" 个工作日", ": "+strconv.Itoa(n)+" working day(s) left")
	case application.Paused:
		return name
	}
	return pick(lang, "不计时", "No deadline")
}

// taskKind tells the approval modes' tasks, which have their own actions,
// from the steps of the decision.
func taskKind(t application.Task) string {
	if k := t.ModeTask(); k != "" {
		return k
	}
	return "step"
}

// formValue shows a form value as text.
func formValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "✓"
		}
		return "✗"
	case []any:
		var parts []string
		for _, e := range x {
			parts = append(parts, formValue(e))
		}
		return strings.Join(parts, "；")
	case map[string]any:
		var parts []string
		for k, e := range x {
			parts = append(parts, k+": "+formValue(e))
		}
		return strings.Join(parts, "，")
	}
	return ""
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func appURL(id int64) string { return "/workbench/applications/" + strconv.FormatInt(id, 10) }

// backTo is the application page a form names in its "application" field,
// or the queue.
func backTo(r *http.Request) string {
	if id, err := strconv.ParseInt(r.PostFormValue("application"), 10, 64); err == nil && id > 0 {
		return appURL(id)
	}
	return "/workbench"
}

func withQuery(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return path + "?" + q.Encode()
}
