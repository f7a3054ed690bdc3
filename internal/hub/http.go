package hub

import (
	"net/http"

	"yiwang/internal/authz"
	"yiwang/internal/httpx"
)

// Handler publishes the sources' schemas, so that other systems and
// catalogue authors can see which fields a form may name.
type Handler struct{}

// Register adds the route.
func (Handler) Register(r *httpx.Router) {
	r.HandleFunc("GET /api/v1/sources", authz.Public, func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"sources": Sources(), "licence_fields": LicenceFields})
	})
}
