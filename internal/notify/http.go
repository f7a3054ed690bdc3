package notify

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/httpx"
)

// Handler serves a person's inbox over the API. Everyone signed in has one:
// applicants get decisions and correction requests, staff deadline warnings.
type Handler struct {
	outbox *Outbox
	logger *slog.Logger
}

// NewHandler returns the inbox's HTTP handler.
func NewHandler(o *Outbox, logger *slog.Logger) *Handler { return &Handler{outbox: o, logger: logger} }

// Register adds the routes.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("GET /api/v1/me/notifications", authz.SignedIn, h.list)
	r.HandleFunc("POST /api/v1/me/notifications/{id}/read", authz.SignedIn, h.read)
	r.HandleFunc("GET /api/v1/me/notification-channels", authz.SignedIn, h.channels)
	r.HandleFunc("PATCH /api/v1/me/notification-channels", authz.SignedIn, h.setChannels)
	r.HandleFunc("GET /api/v1/admin/notifications/failed", authz.DeadLetters, h.deadLetters)
	r.HandleFunc("GET /api/v1/admin/notifications/{id}/attempts", authz.DeadLetters, h.attempts)
	r.HandleFunc("POST /api/v1/admin/notifications/{id}/retry", authz.NotifyRetry, h.retryOne)
	r.HandleFunc("POST /api/v1/admin/notifications/retry", authz.NotifyRetry, h.retryAll)
}

func (h *Handler) retryOne(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		httpx.WriteError(w, r, h.logger, apperr.New(apperr.Invalid, apperr.BadID, "the delivery id must be a positive whole number"))
		return
	}
	h.retry(w, r, RetryFilter{ID: id})
}

func (h *Handler) retryAll(w http.ResponseWriter, r *http.Request) {
	var f struct {
		Channel string `json:"channel"`
		Kind    Kind   `json:"kind"`
	}
	if err := httpx.DecodeJSON(w, r, &f); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	h.retry(w, r, RetryFilter{Channel: f.Channel, Kind: f.Kind})
}

func (h *Handler) retry(w http.ResponseWriter, r *http.Request, f RetryFilter) {
	res, err := h.outbox.Retry(r.Context(), authz.From(r.Context()), f)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, res)
}

func (h *Handler) attempts(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		httpx.WriteError(w, r, h.logger, apperr.New(apperr.Invalid, apperr.BadID, "the delivery id must be a positive whole number"))
		return
	}
	log, err := h.outbox.Attempts(r.Context(), authz.From(r.Context()), id)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"attempts": log})
}

func (h *Handler) channels(w http.ResponseWriter, r *http.Request) {
	c, err := h.outbox.Channels(r.Context(), authz.From(r.Context()))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, c)
}

func (h *Handler) setChannels(w http.ResponseWriter, r *http.Request) {
	var change ChannelsChange
	if err := httpx.DecodeJSON(w, r, &change); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	c, err := h.outbox.SetChannels(r.Context(), authz.From(r.Context()), change)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, c)
}

func (h *Handler) deadLetters(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	before, limit, err := page(v)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	d, err := h.outbox.DeadLetters(r.Context(), authz.From(r.Context()), before, limit)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"failed": d})
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	before, limit, err := page(v)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	q := InboxQuery{Before: before, Limit: limit}
	switch v.Get("unread") {
	case "", "false":
	case "true":
		q.UnreadOnly = true
	default:
		httpx.WriteError(w, r, h.logger, apperr.New(apperr.Invalid, apperr.BadUnread, "unread must be true or false"))
		return
	}
	in, err := h.outbox.Inbox(r.Context(), authz.From(r.Context()), q)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, in)
}

// page reads a list's before and limit; a limit out of any range is
// clamped, still out of range, for the list to refuse in words.
func page(v url.Values) (before int64, limit int, err error) {
	before, ok := number(v.Get("before"))
	if !ok {
		return 0, 0, apperr.New(apperr.Invalid, apperr.BadBefore, "before must be a whole number")
	}
	l, ok := number(v.Get("limit"))
	if !ok {
		return 0, 0, apperr.New(apperr.Invalid, apperr.BadLimit, "limit must be a whole number")
	}
	return before, int(max(min(l, 1000), -1)), nil
}

// number reads an optional whole-number query parameter; ok is false when
// it is given but not a whole number.
func number(s string) (n int64, ok bool) {
	if s == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func (h *Handler) read(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		httpx.WriteError(w, r, h.logger, apperr.New(apperr.Invalid, apperr.BadID, "the notification id must be a positive whole number"))
		return
	}
	m, err := h.outbox.MarkRead(r.Context(), authz.From(r.Context()), id)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, m)
}
