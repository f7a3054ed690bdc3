package insight

import (
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"yiwang/internal/authz"
	"yiwang/internal/httpx"
	"yiwang/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Handler serves the dashboard: the API, the staff page and its exports,
// and the public headline figures (办件公示).
type Handler struct {
	svc    *Service
	logger *slog.Logger
	pages  *web.Renderer
}

// NewHandler returns the dashboard's handler.
func NewHandler(svc *Service, logger *slog.Logger) (*Handler, error) {
	sub, _ := fs.Sub(templateFS, "templates")
	pages, err := web.NewRenderer(sub, template.FuncMap{"days": daysText}, logger)
	if err != nil {
		return nil, err
	}
	return &Handler{svc: svc, logger: logger, pages: pages}, nil
}

// Register adds the routes.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("GET /api/v1/insight/dashboard", authz.InsightView, h.get)
	r.HandleFunc("GET /workbench/insight", authz.InsightView, h.page)
	r.HandleFunc("GET /workbench/insight/export.csv", authz.InsightView, h.exportCSV)
	r.HandleFunc("GET /workbench/insight/export.xlsx", authz.InsightView, h.exportXLSX)
	r.HandleFunc("GET /stats", authz.Public, h.public)
}

// filterOf reads a view's filter from the query string.
func filterOf(r *http.Request) Filter {
	q := r.URL.Query()
	return Filter{Period: q.Get("period"), From: q.Get("from"), To: q.Get("to"),
		Department: q.Get("department"), Item: q.Get("item"), Region: q.Get("region"), Channel: q.Get("channel")}
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.View(r.Context(), authz.From(r.Context()), filterOf(r))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, d)
}

// dashboardPage is what the staff page shows.
type dashboardPage struct {
	Dashboard
	Periods  []string
	Channels []string
	Query    string // the filter, for the export links
	Chart    string // chartData as JSON, for insight.js
}

// chartData is what insight.js draws: the periods and their figures. The
// same figures are in the tables beside the charts.
type chartData struct {
	Labels    []string  `json:"labels"`
	Received  []int64   `json:"received"`
	Finished  []int64   `json:"finished"`
	Online    []float64 `json:"online"`
	Machine   []float64 `json:"machine"`
	OnTime    []float64 `json:"on_time"`
	Median    []int     `json:"median"`
	Names     []string  `json:"names"` // the series' names, in the page's language
	Rates     []string  `json:"rates"`
	DaysTitle string    `json:"days_title"`
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.View(r.Context(), authz.From(r.Context()), filterOf(r))
	if err != nil {
		h.pages.Fail(w, r, err)
		return
	}
	lang := web.Lang(w, r)
	p := dashboardPage{Dashboard: d, Periods: Periods, Channels: channels, Query: r.URL.RawQuery}
	c := chartData{Labels: []string{}, Received: []int64{}, Finished: []int64{}, Online: []float64{}, Machine: []float64{}, OnTime: []float64{}, Median: []int{},
		Names:     []string{pick(lang, "收件", "Received"), pick(lang, "办结", "Finished")},
		Rates:     []string{pick(lang, "网办率", "Online"), pick(lang, "秒批率", "Machine-approved"), pick(lang, "按时办结率", "On time")},
		DaysTitle: pick(lang, "办理用时中位数（工作日）", "Median working days taken")}
	for _, row := range d.Periods {
		c.Labels = append(c.Labels, periodName(d.Filter.Period, row.Key, lang))
		c.Received, c.Finished = append(c.Received, row.Received), append(c.Finished, row.Finished)
		c.Online, c.Machine, c.OnTime = append(c.Online, row.OnlineRate), append(c.Machine, row.MachineRate), append(c.OnTime, row.OnTimeRate)
		c.Median = append(c.Median, max(row.MedianDays, 0))
	}
	b, _ := json.Marshal(c)
	p.Chart = string(b)
	h.pages.Render(w, r, http.StatusOK, "dashboard.html", pick(lang, "政务服务效能", "Service performance"), p)
}

// channels are the ways to apply a view can be narrowed to.
var channels = []string{"web", "mobile", "kiosk", "window", "bank"}

func pick(lang, zh, en string) string {
	if lang == "en" {
		return en
	}
	return zh
}
