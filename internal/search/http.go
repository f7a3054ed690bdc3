package search

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/httpx"
)

// Handler serves search and hot words over the API.
type Handler struct {
	index  *Index
	stats  *Stats
	logger *slog.Logger
}

// NewHandler returns the search HTTP handler.
func NewHandler(index *Index, stats *Stats, logger *slog.Logger) *Handler {
	return &Handler{index: index, stats: stats, logger: logger}
}

// Register adds the search routes.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("GET /api/v1/search", authz.Public, h.search)
	r.HandleFunc("GET /api/v1/search/hot", authz.Public, h.hot)
}

// recordTimeout bounds the counting of a query, which the caller does not wait on
// for its answer's sake and which must not hold a search up for long.
const recordTimeout = 2 * time.Second

func (h *Handler) search(w http.ResponseWriter, r *http.Request) {
	limit, err := parseLimit(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	q, err := checkQuery(r.URL.Query().Get("q"))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	hits, err := h.index.Search(r.Context(), q, limit)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	// Counting is a by-product: a caller who has gone away still searched,
	// and a database hiccup must not cost anyone their results.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), recordTimeout)
	defer cancel()
	if err := h.stats.Record(ctx, q, len(hits)); err != nil {
		h.logger.WarnContext(r.Context(), "search query not counted", "query", q, "err", err)
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"query": q, "hits": hits})
}

func (h *Handler) hot(w http.ResponseWriter, r *http.Request) {
	limit, err := parseLimit(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	hot, err := h.stats.Hot(r.Context(), limit)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	if hot == nil {
		hot = []HotWord{} // [] rather than null
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"hot": hot})
}

// parseLimit reads the limit parameter: DefaultLimit when absent, otherwise a
// whole number from 1 to MaxLimit.
func parseLimit(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, apperr.New(apperr.Invalid, apperr.BadLimit, "limit must be a whole number from 1 to %d, not %q", MaxLimit, s)
	}
	return n, nil
}
