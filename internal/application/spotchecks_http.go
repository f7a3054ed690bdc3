package application

import (
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/httpx"
	"yiwang/internal/web"
	"yiwang/internal/workday"
)

// SpotChecksHandler serves the spot checks (双随机一公开): the inspectors'
// and supervisors' list and forms, the department switch, and the public
// results, as pages and in the API.
type SpotChecksHandler struct {
	svc    *SpotChecks
	pages  *web.Renderer
	logger *slog.Logger
}

// NewSpotChecksHandler returns the spot checks' HTTP handler.
func NewSpotChecksHandler(svc *SpotChecks, logger *slog.Logger) (*SpotChecksHandler, error) {
	sub, _ := fs.Sub(templateFS, "templates")
	pages, err := web.NewRenderer(sub, nil, logger)
	if err != nil {
		return nil, err
	}
	return &SpotChecksHandler{svc: svc, pages: pages, logger: logger}, nil
}

// Register adds the routes.
func (h *SpotChecksHandler) Register(r *httpx.Router) {
	r.HandleFunc("GET /api/v1/admin/spot-checks", authz.Supervise, h.list)
	r.HandleFunc("GET /api/v1/spot-checks", authz.Inspect, h.list)
	r.HandleFunc("POST /api/v1/spot-checks/{id}/result", authz.Inspect, h.result)
	r.HandleFunc("POST /api/v1/spot-checks/{id}/reassign", authz.Supervise, h.reassign)
	r.HandleFunc("GET /api/v1/spot-checks/public", authz.Public, h.public)
	r.HandleFunc("PUT /api/v1/admin/departments/{code}/machine-approval", authz.MachineSwitch, h.departmentSwitch)
	r.HandleFunc("GET /workbench/spot-checks", authz.SignedIn, h.page)
	r.HandleFunc("POST /workbench/spot-checks/{id}/result", authz.Inspect, h.resultForm)
	r.HandleFunc("POST /workbench/spot-checks/{id}/reassign", authz.Supervise, h.reassignForm)
	r.HandleFunc("POST /workbench/spot-checks/department-switch", authz.MachineSwitch, h.switchForm)
	r.HandleFunc("GET /spot-checks", authz.Public, h.publicPage)
}

// filter reads the list's query: the supervisors' API lists open checks
// unless asked otherwise, as it always has.
func filter(r *http.Request, status string) SpotFilter {
	q := r.URL.Query()
	f := SpotFilter{Status: q.Get("status"), Department: q.Get("department")}
	if !q.Has("status") {
		f.Status = status
	}
	return f
}

func (h *SpotChecksHandler) list(w http.ResponseWriter, r *http.Request) {
	def := ""
	if r.URL.Path == "/api/v1/admin/spot-checks" {
		def = spotOpen
	}
	list, err := h.svc.List(r.Context(), authz.From(r.Context()), filter(r, def))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"spot_checks": list})
}

// resultRequest is an inspector's result.
type resultRequest struct {
	Result   SpotResult `json:"result"` // pass, fail or correct
	Findings string     `json:"findings"`
}

func (h *SpotChecksHandler) result(w http.ResponseWriter, r *http.Request) {
	var req resultRequest
	id, err := idOf(r)
	if err == nil {
		err = httpx.DecodeJSON(w, r, &req)
	}
	var c SpotCheck
	if err == nil {
		c, err = h.svc.Record(r.Context(), authz.From(r.Context()), id, req.Result, req.Findings)
	}
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, c)
}

func (h *SpotChecksHandler) reassign(w http.ResponseWriter, r *http.Request) {
	id, err := idOf(r)
	var c SpotCheck
	if err == nil {
		c, err = h.svc.Reassign(r.Context(), authz.From(r.Context()), id)
	}
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, c)
}

func (h *SpotChecksHandler) reassignForm(w http.ResponseWriter, r *http.Request) {
	id, err := idOf(r)
	if err == nil {
		_, err = h.svc.Reassign(r.Context(), authz.From(r.Context()), id)
	}
	if err != nil {
		h.renderPage(w, r, formStatus(err), "", h.problem(w, r, err))
		return
	}
	http.Redirect(w, r, "/workbench/spot-checks?done=reassigned", http.StatusSeeOther)
}

func (h *SpotChecksHandler) public(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.Public(r.Context(), r.URL.Query().Get("department"), r.URL.Query().Get("period"))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"results": list})
}

func (h *SpotChecksHandler) departmentSwitch(w http.ResponseWriter, r *http.Request) {
	var req switchRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	code := r.PathValue("code")
	if err := h.svc.SetDepartmentMachineSuspended(r.Context(), authz.From(r.Context()), code, req.Suspended, req.Reason); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"department": code, "machine_suspended": req.Suspended})
}

// spotPage is what the staff page of spot checks shows.
type spotPage struct {
	Checks      []SpotCheck
	Supervisor  bool // sees every check, filters them and switches departments
	Filter      SpotFilter
	Departments []Department
	Done        string // what the last form did
	Error       string
}

func (h *SpotChecksHandler) page(w http.ResponseWriter, r *http.Request) {
	h.renderPage(w, r, http.StatusOK, r.URL.Query().Get("done"), "")
}

func (h *SpotChecksHandler) renderPage(w http.ResponseWriter, r *http.Request, status int, done, problem string) {
	p := authz.From(r.Context())
	d := spotPage{Supervisor: p.Can(authz.Supervise), Filter: filter(r, ""), Error: problem}
	switch done {
	case "pass", "fail", "correct", "switched", "reassigned":
		d.Done = done
	}
	var err error
	if d.Checks, err = h.svc.List(r.Context(), p, d.Filter); err == nil && d.Supervisor {
		d.Departments, err = h.svc.Departments(r.Context())
	}
	if e := apperr.As(err); e != nil && e.Kind != apperr.Internal {
		// Not an inspector, or a filter that is no status: said on the page.
		status, d.Error, d.Checks = formStatus(err), h.problem(w, r, err), nil
	} else if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	title := "双随机抽查"
	if web.Lang(w, r) == "en" {
		title = "Spot checks"
	}
	h.pages.Render(w, r, status, "spot_checks.html", title, d)
}

func (h *SpotChecksHandler) resultForm(w http.ResponseWriter, r *http.Request) {
	req := resultRequest{Result: SpotResult(r.PostFormValue("result")), Findings: r.PostFormValue("findings")}
	id, err := idOf(r)
	if err == nil {
		_, err = h.svc.Record(r.Context(), authz.From(r.Context()), id, req.Result, req.Findings)
	}
	if err != nil {
		h.renderPage(w, r, formStatus(err), "", h.problem(w, r, err))
		return
	}
	http.Redirect(w, r, "/workbench/spot-checks?done="+string(req.Result), http.StatusSeeOther)
}

func (h *SpotChecksHandler) switchForm(w http.ResponseWriter, r *http.Request) {
	dept := r.PostFormValue("department")
	err := h.svc.SetDepartmentMachineSuspended(r.Context(), authz.From(r.Context()), dept, r.PostFormValue("suspended") == "true", r.PostFormValue("reason"))
	if err != nil {
		h.renderPage(w, r, formStatus(err), "", h.problem(w, r, err))
		return
	}
	http.Redirect(w, r, "/workbench/spot-checks?done=switched&department="+url.QueryEscape(dept), http.StatusSeeOther)
}

func (h *SpotChecksHandler) problem(w http.ResponseWriter, r *http.Request, err error) string {
	return (&ModesHandler{logger: h.logger}).formProblem(w, r, err)
}

// publicData is what the public results page shows.
type publicData struct {
	Results     []PublicResult
	Departments []Department
	Department  string
	Period      string
	Error       string
}

func (h *SpotChecksHandler) publicPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := publicData{Department: q.Get("department"), Period: q.Get("period")}
	if d.Period == "" {
		d.Period = h.svc.now().In(workday.CST).Format("2006-01")
	}
	status := http.StatusOK
	var err error
	if d.Results, err = h.svc.Public(r.Context(), d.Department, d.Period); err != nil {
		if e := apperr.As(err); e == nil || e.Kind == apperr.Internal {
			httpx.WriteError(w, r, h.logger, err)
			return
		}
		status, d.Error, d.Results = formStatus(err), h.problem(w, r, err), []PublicResult{}
	}
	if d.Departments, err = h.svc.Departments(r.Context()); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	title := "双随机抽查结果公开"
	if web.Lang(w, r) == "en" {
		title = "Spot check results"
	}
	h.pages.Render(w, r, status, "spot_checks_public.html", title, d)
}
