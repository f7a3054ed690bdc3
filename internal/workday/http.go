package workday

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

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

func pathYear(r *http.Request) (int, error) {
	s := r.PathValue("year")
	y, err := strconv.Atoi(s)
	if err != nil || len(s) != 4 {
		return 0, apperr.New(apperr.Invalid, apperr.BadYear, "%q is not a year: write it with four digits, e.g. 2027", s)
	}
	return y, nil
}
