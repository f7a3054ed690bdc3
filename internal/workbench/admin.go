package workbench

import "yiwang/internal/httpx"

// registerAdmin adds the administration pages.
func (h *Handler) registerAdmin(r *httpx.Router) {}
