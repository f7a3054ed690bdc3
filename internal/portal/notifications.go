package portal

import (
	"net/http"
	"strconv"

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
