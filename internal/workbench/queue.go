package workbench

import (
	"net/http"
	"strconv"
	"strings"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/bundle"
	"yiwang/internal/catalog"
	"yiwang/internal/logging"
	"yiwang/internal/web"
)

// queueRow is one task in the queue with its item's name.
type queueRow struct {
	application.Task
	ItemName catalog.Text
}

// queuePage is how many of the inbox's steps the queue page shows, the most
// urgent first, and how many cases the overdue board's page shows: a person
// works from the top, and 500 rows took a page half of the 50 ms a list may
// take (docs/BENCHMARKS.md, "Lists at a million applications"). The API
// lists 500 of each.
const queuePage = 100

func (h *Handler) queue(w http.ResponseWriter, r *http.Request) {
	p := authz.From(r.Context())
	tasks, err := h.Tasks.Inbox(r.Context(), p)
	if err != nil {
		h.fail(w, r, err, "/")
		return
	}
	names, err := h.Catalog.Names(r.Context())
	if err != nil {
		h.fail(w, r, err, "/")
		return
	}
	rows := make([]queueRow, 0, len(tasks))
	late := 0
	for _, t := range tasks {
		name, ok := names[t.ItemCode]
		if !ok { // retired since
			name = catalog.Text{Zh: t.ItemCode}
		}
		if t.Light == application.Red || t.Light == application.Yellow {
			late++
		}
		rows = append(rows, queueRow{Task: t, ItemName: name})
	}
	all := len(rows)
	rows = rows[:min(len(rows), queuePage)]
	lang := web.Lang(w, r)
	h.pages.Render(w, r, http.StatusOK, "queue.html", pick(lang, "我的待办", "My queue"), map[string]any{
		"Tasks": rows, "All": all, "Late": late, "Department": p.Department,
		"Clerk": p.Can(authz.WindowIntake), "Overdue": p.Can(authz.OverdueView), "Repairs": p.Can(authz.Decide),
		"Rectify": p.Can(authz.Rectify) || p.Can(authz.Supervise), "SpotChecks": p.Can(authz.Inspect),
	})
}

// detailData is what the application page shows.
type detailData struct {
	application.StaffView
	Item    catalog.Item
	Mine    []application.Task // this staff member's workable steps of the application
	Reasons []reasonOption     // the standard reasons to choose from
	Me      int64
	Groups  map[string]bool // parallel groups among the steps
	Staff   staffActions    // special procedures, reassignment, revocation
	// CanReveal offers the form to see the personal data in full, with
	// the usual purposes to choose from.
	CanReveal bool
	Purposes  []catalog.Text
	// Bundle is the 一件事 the application is a member of, nil for none.
	Bundle *bundle.Around
}

// revealPurposes are the usual reasons to see an applicant's data in
// full; the form also takes the staff member's own words.
var revealPurposes = []catalog.Text{
	{Zh: "核对身份证件原件", En: "Checking the original identity document"},
	{Zh: "核对申请材料与表单一致", En: "Checking the materials against the form"},
	{Zh: "电话联系申请人", En: "Calling the applicant"},
	{Zh: "核对地址与现场核查", En: "Checking the address for an inspection"},
}

// reasonOption is a standard reason: the item's rules' reasons and the
// general ones of administrative law.
type reasonOption struct {
	Code string
	Text catalog.Text
}

var generalReasons = []reasonOption{
	{"materials_incomplete", catalog.Text{Zh: "申请材料不齐全或者不符合法定形式", En: "The materials are incomplete or not in the legal form"}},
	{"not_eligible", catalog.Text{Zh: "申请人不符合法定条件", En: "The applicant does not meet the legal conditions"}},
	{"not_competent", catalog.Text{Zh: "申请事项不属于本机关职权范围", En: "The matter is outside this authority's competence"}},
	{"false_information", catalog.Text{Zh: "申请人隐瞒有关情况或者提供虚假材料", En: "Information was concealed or false materials supplied"}},
}

func (h *Handler) detail(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.fail(w, r, err, "/workbench")
		return
	}
	p := authz.From(r.Context())
	v, err := h.Tasks.StaffApplication(r.Context(), p, id)
	if err != nil {
		h.fail(w, r, err, "/workbench")
		return
	}
	h.showDetail(w, r, p, v)
}

// reveal shows the application page with its personal data in full, for
// the purpose the staff member states in the form; the view is logged. It
// is a POST with the CSRF token, so no link from elsewhere can write a view
// with a purpose into someone's name.
func (h *Handler) reveal(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.fail(w, r, err, "/workbench")
		return
	}
	p := authz.From(r.Context())
	purpose := r.PostFormValue("purpose")
	if purpose == "other" {
		purpose = r.PostFormValue("purpose_other")
	}
	v, err := h.Tasks.RevealApplication(r.Context(), p, id, purpose, logging.RequestID(r.Context()))
	if err != nil {
		h.fail(w, r, err, appURL(id))
		return
	}
	h.showDetail(w, r, p, v)
}

// showDetail renders an application's page for staff member p.
func (h *Handler) showDetail(w http.ResponseWriter, r *http.Request, p authz.Principal, v application.StaffView) {
	id := v.ID
	var err error
	d := detailData{StaffView: v, Me: p.AccountID, Groups: map[string]bool{}, CanReveal: v.Masked && p.Can(authz.PersonalDataRaw),
		Purposes: revealPurposes}
	if ver, err := h.Catalog.VersionByID(r.Context(), v.VersionID); err == nil {
		d.Item = ver.Item
	}
	for _, rule := range d.Item.Rules {
		d.Reasons = append(d.Reasons, reasonOption{rule.ID, rule.Reason})
	}
	d.Reasons = append(d.Reasons, generalReasons...)
	for _, t := range v.Tasks {
		if t.Group != "" {
			d.Groups[t.Group] = true
		}
	}
	if p.Can(authz.ReviewTasks) {
		if d.Mine, err = h.Tasks.InboxOf(r.Context(), p, id); err != nil {
			h.fail(w, r, err, "/workbench")
			return
		}
	}
	if h.Bundles != nil {
		// The staff member may see this application (StaffApplication
		// checked it): the box shows the bundle's members' items, states
		// and numbers, none of the applicant's data.
		if around, ok, err := h.Bundles.AroundApplication(r.Context(), id); err != nil {
			h.fail(w, r, err, "/workbench")
			return
		} else if ok {
			d.Bundle = &around
		}
	}
	if d.Staff, err = h.actionsFor(r, p, v); err != nil {
		h.fail(w, r, err, "/workbench")
		return
	}
	title := v.Number
	if title == "" {
		title = v.ItemName
	}
	h.pages.Render(w, r, http.StatusOK, "detail.html", title, d)
}

func (h *Handler) claim(w http.ResponseWriter, r *http.Request) {
	h.taskAction(w, r, func(p authz.Principal, task, _ int64) error { return h.Tasks.Claim(r.Context(), p, task) })
}

func (h *Handler) release(w http.ResponseWriter, r *http.Request) {
	h.taskAction(w, r, func(p authz.Principal, task, _ int64) error { return h.Tasks.Release(r.Context(), p, task) })
}

// decision approves (accepts, at the acceptance step) or rejects with the
// chosen standard reasons and any other reason typed.
func (h *Handler) decision(w http.ResponseWriter, r *http.Request) {
	h.taskAction(w, r, func(p authz.Principal, task, revision int64) error {
		approve := r.PostFormValue("outcome") == "approve"
		var reasons []string
		if !approve {
			// Each ticked box carries the standard reason's wording.
			reasons = append(reasons, r.PostForm["reason"]...)
			if other := strings.TrimSpace(r.PostFormValue("reason_other")); other != "" {
				reasons = append(reasons, other)
			}
		}
		_, err := h.Tasks.DecideTask(r.Context(), p, task, revision, approve, reasons, strings.TrimSpace(r.PostFormValue("note")))
		return err
	})
}

// correction asks for everything missing at once (一次性告知): each ticked
// field or material with what is wrong with it.
func (h *Handler) correction(w http.ResponseWriter, r *http.Request) {
	h.taskAction(w, r, func(p authz.Principal, task, revision int64) error {
		var items []application.CorrectionItem
		for _, key := range r.PostForm["item"] {
			kind, id, ok := strings.Cut(key, ":")
			reason := strings.TrimSpace(r.PostFormValue("why_" + key))
			if !ok {
				continue
			}
			if reason == "" {
				return apperr.New(apperr.Invalid, apperr.CorrectionReasonRequired, "say what is wrong with each ticked item (%s), so the applicant can fix everything at once", id)
			}
			it := application.CorrectionItem{Reason: reason}
			if kind == "material" {
				it.Material = id
			} else {
				it.Field = id
			}
			items = append(items, it)
		}
		if len(items) == 0 {
			return apperr.New(apperr.Invalid, apperr.NothingTicked, "tick at least one field or material the applicant must correct or supply")
		}
		_, err := h.Tasks.RequestCorrection(r.Context(), p, task, revision, items)
		return err
	})
}

// taskAction runs one action on the task in the path and goes back to the
// application's page.
func (h *Handler) taskAction(w http.ResponseWriter, r *http.Request, do func(p authz.Principal, task, revision int64) error) {
	task, err := pathID(r)
	if err != nil {
		h.fail(w, r, err, "/workbench")
		return
	}
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, apperr.New(apperr.Invalid, apperr.BadForm, "the form could not be read"), "/workbench")
		return
	}
	revision, _ := strconv.ParseInt(r.PostFormValue("revision"), 10, 64)
	back := backTo(r)
	if err := do(authz.From(r.Context()), task, revision); err != nil {
		h.fail(w, r, err, back)
		return
	}
	redirect(w, r, back)
}
