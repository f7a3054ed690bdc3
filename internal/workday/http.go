package workday

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/httpx"
)

// Handler serves the calendar over the API: anyone may read a year, an
// administrator with calendar:manage may load one.
type Handler struct {
	store  *Store
	logger *slog.Logger
}

// NewHandler returns the calendar's HTTP handler.
func NewHandler(store *Store, logger *slog.Logger) *Handler {
	return &Handler{store: store, logger: logger}
}

// Register adds the calendar's routes.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("GET /api/v1/calendar/{year}", authz.Public, h.getYear)
	r.HandleFunc("GET /api/v1/calendar/deadline", authz.Public, h.getDeadline)
	r.HandleFunc("PUT /api/v1/admin/calendar/{year}", authz.CalendarManage, h.putYear)
}

func (h *Handler) getYear(w http.ResponseWriter, r *http.Request) {
	year, err := pathYear(r)
	if err == nil {
		var y Year
		if y, err = h.store.Year(r.Context(), year); err == nil {
			httpx.WriteJSON(w, http.StatusOK, y)
			return
		}
	}
	httpx.WriteError(w, r, h.logger, err)
}

func (h *Handler) putYear(w http.ResponseWriter, r *http.Request) {
	year, err := pathYear(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	var n Notice
	if err := httpx.DecodeJSON(w, r, &n); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	if n.Year != 0 && n.Year != year {
		httpx.WriteError(w, r, h.logger, apperr.New(apperr.Invalid, apperr.YearMismatch, "the body is for %d but the address is for %d", n.Year, year))
		return
	}
	n.Year = year
	p := authz.From(r.Context())
	y, err := h.store.Load(r.Context(), n, fmt.Sprintf("%s:%d", p.Kind, p.AccountID))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	h.logger.InfoContext(r.Context(), "working-day calendar loaded", "year", y.Year, "source", y.Source, "by", y.LoadedBy)
	httpx.WriteJSON(w, http.StatusOK, y)
}

// MaxDeadlineDays is the most working days GET /api/v1/calendar/deadline
// counts: no statutory time limit comes near a year of working days.
const MaxDeadlineDays = 365

// Due is the answer of GET /api/v1/calendar/deadline: the due date the
// platform sets for a time limit of Days working days accepted on From.
type Due struct {
	From Date      `json:"from"`
	Days int       `json:"days"`
	Due  Date      `json:"due"`
	At   time.Time `json:"due_at"`
	// Provisional is true when the count used a day of a year whose
	// calendar is not loaded yet (see the package documentation).
	Provisional bool `json:"provisional"`
}

// DueDate counts a time limit of days working days from the day from, as
// an application accepted that day would have it counted. The year of from
// must be loaded: the answer is for a day the platform has a calendar for.
// The count may reach into a later year that is not, provisionally.
func DueDate(cal *Calendar, from Date, days int) (Due, error) {
	if days < 0 || days > MaxDeadlineDays {
		return Due{}, apperr.New(apperr.Invalid, apperr.BadWorkingDays, "days must be a whole number from 0 to %d, not %d", MaxDeadlineDays, days)
	}
	if !cal.Known(from.Year) {
		return Due{}, apperr.New(apperr.Invalid, apperr.FromYearNotLoaded,
			"there is no working-day calendar for %d, the year of %s (there is for %s): an administrator loads it from the State Council's notice",
			from.Year, from, knownYears(cal))
	}
	return cal.Due(from, days)
}

// Due counts a time limit of days working days from the day from, as an
// application accepted that day would have it counted, provisionally for
// days of a year the calendar does not hold.
func (c *Calendar) Due(from Date, days int) (Due, error) {
	at, err := c.Deadline(from.Start(), days)
	if err != nil {
		return Due{}, err
	}
	return Due{From: from, Days: days, Due: DateOf(at), At: at, Provisional: c.Provisional(from.Start(), at)}, nil
}

func knownYears(cal *Calendar) string {
	known := make([]string, 0, len(cal.years))
	for _, k := range cal.Years() {
		known = append(known, fmt.Sprint(k))
	}
	return strings.Join(known, ", ")
}

func (h *Handler) getDeadline(w http.ResponseWriter, r *http.Request) {
	due, err := h.deadline(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, due)
}

func (h *Handler) deadline(r *http.Request) (Due, error) {
	q := r.URL.Query()
	from, err := ParseDate(q.Get("from"))
	if err != nil {
		return Due{}, apperr.New(apperr.Invalid, apperr.BadFromDate, "from=%q is not a date: write it YYYY-MM-DD, e.g. 2027-03-01", q.Get("from"))
	}
	days, err := strconv.Atoi(q.Get("days"))
	if err != nil {
		return Due{}, apperr.New(apperr.Invalid, apperr.BadWorkingDays, "days=%q is not a number: give the working days from 0 to %d", q.Get("days"), MaxDeadlineDays)
	}
	cal, err := h.store.Calendar(r.Context())
	if err != nil {
		return Due{}, err
	}
	return DueDate(cal, from, days)
}

func pathYear(r *http.Request) (int, error) {
	s := r.PathValue("year")
	y, err := strconv.Atoi(s)
	if err != nil || len(s) != 4 {
		return 0, apperr.New(apperr.Invalid, apperr.BadYear, "%q is not a year: write it with four digits, e.g. 2027", s)
	}
	return y, nil
}
