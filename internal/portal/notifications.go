package portal

import (
	"net/http"
	"strconv"

	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/notify"
)

func (h *Handler) notifications(w http.ResponseWriter, r *http.Request) {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	in, err := h.Outbox.Inbox(r.Context(), authz.From(r.Context()), notify.InboxQuery{Before: max(before, 0), Limit: 30})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.pages.Render(w, r, http.StatusOK, "notifications.html", title(w, r, "消息", "Messages"), in)
}

// markRead marks one message read and returns to the list (or follows its link).
func (h *Handler) markRead(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	m, err := h.Outbox.MarkRead(r.Context(), authz.From(r.Context()), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	next := "/me/notifications"
	if r.PostFormValue("open") == "1" {
		next = localPath(m.Link, next)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) dataReads(w http.ResponseWriter, r *http.Request) {
	reads, err := h.Drafts.ReadsAboutMe(r.Context(), authz.From(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.pages.Render(w, r, http.StatusOK, "data_reads.html", title(w, r, "谁查看了我的数据", "Who read my data"), reads)
}

// eligibleView is the 我能办 page: before the person agrees to the reads,
// or with what their data says.
type eligibleView struct {
	Asked bool
	Items []application.Eligibility
}

func (h *Handler) eligiblePage(w http.ResponseWriter, r *http.Request) {
	h.pages.Render(w, r, http.StatusOK, "eligible.html", title(w, r, "我能办·我能享", "Services for me"), eligibleView{})
}

// eligible works out what the person qualifies for, on their consent.
func (h *Handler) eligible(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("consent") != "yes" {
		h.pages.Render(w, r, http.StatusUnprocessableEntity, "eligible.html", title(w, r, "我能办·我能享", "Services for me"), eligibleView{})
		return
	}
	items, err := h.Drafts.Eligible(r.Context(), authz.From(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.pages.Render(w, r, http.StatusOK, "eligible.html", title(w, r, "我能办·我能享", "Services for me"), eligibleView{Asked: true, Items: items})
}
