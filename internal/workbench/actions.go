package workbench

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/identity"
)

// The detail page's actions beyond claim, decision and correction: the
// special procedures that stop the clock (特别程序), the department head's
// reassignment, revocation, and the approval modes' own tasks (the
// inspection of a commitment, the review of an objection to a filing).

// specialKinds are the special procedures in the order the page offers
// them; the label table words them.
var specialKinds = []string{"hearing", "testing", "expert_review", "site_inspection"}

// staffActions is what the detail page offers beyond one's own steps.
type staffActions struct {
	Special    []string
	EndSpecial int64              // a step of the application to end its special procedure through
	Reassign   []application.Task // the active steps of the head's department or hall
	Colleagues []identity.Account // whom the head may hand them to
	CanRevoke  bool
}

// actionsFor fills what the signed-in staff member may do on the
// application besides their own steps; the services check again.
func (h *Handler) actionsFor(r *http.Request, p authz.Principal, v application.StaffView) (staffActions, error) {
	sa := staffActions{Special: specialKinds}
	active := func(t application.Task) bool { return t.Status == "open" || t.Status == "claimed" }
	if v.Status == "special_procedure" && p.Can(authz.ReviewTasks) {
		for _, t := range v.Tasks {
			if active(t) && (t.Reaches(p) || (t.Role == "clerk" && p.Has(authz.Clerk))) && (t.Status == "open" || t.Assignee == p.AccountID) {
				sa.EndSpecial = t.ID
				break
			}
		}
	}
	if p.Has(authz.Head) {
		for _, t := range v.Tasks {
			if active(t) && t.Reaches(p) && t.Role != "clerk" {
				sa.Reassign = append(sa.Reassign, t)
			}
		}
		if len(sa.Reassign) > 0 {
			all, err := h.Identities.StaffAccounts(r.Context())
			if err != nil {
				return sa, err
			}
			for _, a := range all {
				at := authz.Principal{Department: a.Department, HallID: a.HallID}
				reached := slices.ContainsFunc(sa.Reassign, func(t application.Task) bool { return t.Reaches(at) })
				if reached && !a.Disabled && (slices.Contains(a.Roles, authz.Reviewer) || slices.Contains(a.Roles, authz.Head)) {
					sa.Colleagues = append(sa.Colleagues, a)
				}
			}
		}
	}
	switch v.Status {
	case "approved", "licence_issued", "delivered":
		sa.CanRevoke = p.Can(authz.Decide) && p.Department == v.Department // the deciding department's head
	}
	return sa, nil
}

// specialStart stops the clock for a hearing, testing, expert review or
// site inspection, with the reason.
func (h *Handler) specialStart(w http.ResponseWriter, r *http.Request) {
	h.taskAction(w, r, func(p authz.Principal, task, revision int64) error {
		_, err := h.Tasks.StartSpecial(r.Context(), p, task, revision, r.PostFormValue("kind"), strings.TrimSpace(r.PostFormValue("reason")))
		return err
	})
}

// specialEnd ends the special procedure and starts the clock again.
func (h *Handler) specialEnd(w http.ResponseWriter, r *http.Request) {
	h.taskAction(w, r, func(p authz.Principal, task, revision int64) error {
		_, err := h.Tasks.EndSpecial(r.Context(), p, task, revision, strings.TrimSpace(r.PostFormValue("note")))
		return err
	})
}

// reassign is the department head handing a step to one of its staff.
func (h *Handler) reassign(w http.ResponseWriter, r *http.Request) {
	h.taskAction(w, r, func(p authz.Principal, task, _ int64) error {
		to, err := strconv.ParseInt(r.PostFormValue("to"), 10, 64)
		if err != nil || to <= 0 {
			return apperr.New(apperr.Invalid, apperr.NoAssignee, "choose whom to hand the step to")
		}
		return h.Tasks.Reassign(r.Context(), p, task, to)
	})
}

// inspection records the finding of a commitment's inspection: truthful, or
// false with what was found (which revokes the approval).
func (h *Handler) inspection(w http.ResponseWriter, r *http.Request) {
	h.taskAction(w, r, func(p authz.Principal, task, revision int64) error {
		result := r.PostFormValue("result")
		if result != "truthful" && result != "false" {
			return apperr.New(apperr.Invalid, apperr.BadResult, "choose whether the commitment was truthful or false")
		}
		_, err := h.Modes.RecordInspection(r.Context(), p, task, revision, result == "truthful", strings.TrimSpace(r.PostFormValue("note")))
		return err
	})
}

// objectionReview clears an objection to a filing (the notice goes on) or
// upholds it with reasons (the filing is rejected).
func (h *Handler) objectionReview(w http.ResponseWriter, r *http.Request) {
	h.taskAction(w, r, func(p authz.Principal, task, revision int64) error {
		outcome := r.PostFormValue("outcome")
		if outcome != "clear" && outcome != "uphold" {
			return apperr.New(apperr.Invalid, apperr.BadOutcome, "choose whether to clear or uphold the objection")
		}
		var reasons []string
		if s := strings.TrimSpace(r.PostFormValue("reason")); s != "" {
			reasons = append(reasons, s)
		}
		_, err := h.Modes.ReviewObjection(r.Context(), p, task, revision, outcome == "uphold", reasons)
		return err
	})
}

// revoke revokes an approval and its licence, with the reason.
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.fail(w, r, err, "/workbench")
		return
	}
	revision, _ := strconv.ParseInt(r.PostFormValue("revision"), 10, 64)
	if _, err := h.Tasks.Revoke(r.Context(), authz.From(r.Context()), id, revision, strings.TrimSpace(r.PostFormValue("reason"))); err != nil {
		h.fail(w, r, err, appURL(id))
		return
	}
	redirect(w, r, appURL(id))
}
