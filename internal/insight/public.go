package insight

import (
	"context"
	"net/http"
	"time"

	"yiwang/internal/web"
	"yiwang/internal/workday"
)

// Headline is what the public page (办件公示) shows: applications received
// and finished today and this month, across every department.
type Headline struct {
	Today      string `json:"today"`
	Month      string `json:"month"`
	Received   int64  `json:"received_today"`
	Finished   int64  `json:"finished_today"`
	ReceivedMo int64  `json:"received_month"`
	FinishedMo int64  `json:"finished_month"`
}

// Headline reads today's and this month's figures (China time).
func (s *Service) Headline(ctx context.Context) (Headline, error) {
	now := s.now().In(workday.CST)
	h := Headline{Today: now.Format(time.DateOnly), Month: now.Format("2006-01")}
	d, err := s.view(ctx, Filter{Period: "day", From: h.Month + "-01", To: h.Today})
	if err != nil {
		return h, err
	}
	h.ReceivedMo, h.FinishedMo = d.Total.Received, d.Total.Finished
	for _, r := range d.Periods {
		if r.Key == h.Today {
			h.Received, h.Finished = r.Received, r.Finished
		}
	}
	return h, nil
}

func (h *Handler) public(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Headline(r.Context())
	if err != nil {
		h.pages.Fail(w, r, err)
		return
	}
	h.pages.Render(w, r, http.StatusOK, "stats.html", pick(web.Lang(w, r), "办件公示", "Applications in figures"), v)
}
