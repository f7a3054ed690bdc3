package workbench

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/httpx"
	"yiwang/internal/notify"
	"yiwang/internal/web"
	"yiwang/internal/workday"
)

// registerAdmin adds the administration pages.
func (h *Handler) registerAdmin(r *httpx.Router) {
	r.HandleFunc("GET /admin", authz.SignedIn, h.adminHome)
	r.HandleFunc("GET /admin/catalog", authz.CatalogManage, h.adminItems)
	r.HandleFunc("GET /admin/catalog/{code}", authz.CatalogManage, h.adminItem)
	r.HandleFunc("POST /admin/catalog/{code}/versions/{version}/publish", authz.CatalogManage, h.adminPublish)
	r.HandleFunc("GET /admin/catalog/{code}/try", authz.CatalogManage, h.adminTry)
	r.HandleFunc("POST /admin/catalog/{code}/try", authz.CatalogManage, h.adminTry)
	r.HandleFunc("GET /admin/accounts", authz.AccountsManage, h.adminAccounts)
	r.HandleFunc("POST /admin/accounts/{id}/roles", authz.AccountsManage, h.adminGrant)
	r.HandleFunc("POST /admin/accounts/{id}/roles/{role}/revoke", authz.AccountsManage, h.adminRevoke)
	r.HandleFunc("GET /admin/calendar", authz.CalendarManage, h.adminCalendar)
	r.HandleFunc("POST /admin/calendar", authz.CalendarManage, h.adminLoadYear)
	r.HandleFunc("GET /admin/notifications", authz.DeadLetters, h.adminDeadLetters)
	r.HandleFunc("POST /admin/notifications/retry", authz.NotifyRetry, h.adminRetry)
}

// deadLettersPage is what /admin/notifications shows: the dead letters, a
// retry waiting for its confirmation, and the outcome of the last retry.
type deadLettersPage struct {
	Letters  []notify.DeadLetter
	CanRetry bool
	// Confirm is the retry asked for and not yet confirmed; ConfirmOne the
	// dead letter it names, when this page lists it.
	Confirm    *notify.RetryFilter
	ConfirmOne *notify.DeadLetter
	// ChooseFirst is set when "send all again" was pressed with neither a
	// channel nor a kind chosen.
	ChooseFirst bool
	// Done is set after a retry: how many were sent again, whether the one
	// asked for was still pending from a retry before, whether more remain.
	Done                 bool
	Retried              int
	AlreadyPending, More bool
	// The kinds and channels to choose from when retrying all of them.
	Kinds    []notify.Kind
	Channels []string
}

// adminDeadLetters lists the notification deliveries that failed for good,
// so an administrator sees a relay or an endpoint that stopped working, and
// sends them again: a retry button asks for confirmation on this page first
// (confirm=ID, or confirm=all with channel and kind).
func (h *Handler) adminDeadLetters(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	p := authz.From(r.Context())
	letters, err := h.Outbox.DeadLetters(r.Context(), p, max(before, 0), 50)
	if err != nil {
		h.fail(w, r, err, "/admin")
		return
	}
	d := deadLettersPage{Letters: letters, CanRetry: p.Can(authz.NotifyRetry), Kinds: notify.Kinds,
		Channels: []string{notify.ChannelInApp, notify.ChannelEmail, notify.ChannelSMS, notify.ChannelWebhook}}
	if c := q.Get("confirm"); d.CanRetry && c != "" {
		if id, err := strconv.ParseInt(c, 10, 64); err == nil && id > 0 {
			d.Confirm = &notify.RetryFilter{ID: id}
			for i := range letters {
				if letters[i].ID == id {
					d.ConfirmOne = &letters[i]
				}
			}
		} else if c == "all" && (q.Get("channel") != "" || q.Get("kind") != "") {
			d.Confirm = &notify.RetryFilter{Channel: q.Get("channel"), Kind: notify.Kind(q.Get("kind"))}
		} else if c == "all" {
			d.ChooseFirst = true
		}
	}
	if n, err := strconv.Atoi(q.Get("retried")); err == nil {
		d.Done, d.Retried, d.AlreadyPending, d.More = true, n, q.Get("pending") == "1", q.Get("more") == "1"
	}
	lang := web.Lang(w, r)
	h.pages.Render(w, r, http.StatusOK, "admin_notifications.html", pick(lang, "发送失败的通知", "Failed notifications"), d)
}

// adminRetry sends again the dead letter in the form's id, or every one of
// its channel and kind, after the confirmation on the list.
func (h *Handler) adminRetry(w http.ResponseWriter, r *http.Request) {
	f := notify.RetryFilter{Channel: r.PostFormValue("channel"), Kind: notify.Kind(r.PostFormValue("kind"))}
	if id := r.PostFormValue("id"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			h.fail(w, r, apperr.New(apperr.Invalid, apperr.BadID, "the delivery id is a whole number"), "/admin/notifications")
			return
		}
		f.ID = n
	}
	res, err := h.Outbox.Retry(r.Context(), authz.From(r.Context()), f)
	if err != nil {
		h.fail(w, r, err, "/admin/notifications")
		return
	}
	kv := []string{"retried", strconv.Itoa(len(res.Retried))}
	if res.AlreadyPending > 0 {
		kv = append(kv, "pending", "1")
	}
	if res.More {
		kv = append(kv, "more", "1")
	}
	redirect(w, r, withQuery("/admin/notifications", kv...))
}

func (h *Handler) adminHome(w http.ResponseWriter, r *http.Request) {
	p := authz.From(r.Context())
	lang := web.Lang(w, r)
	h.pages.Render(w, r, http.StatusOK, "admin.html", pick(lang, "管理", "Administration"), map[string]bool{
		"Catalog": p.Can(authz.CatalogManage), "Accounts": p.Can(authz.AccountsManage), "Calendar": p.Can(authz.CalendarManage),
		"Queue": p.Can(authz.ReviewTasks), "Intake": p.Can(authz.WindowIntake), "Overdue": p.Can(authz.OverdueView),
		"Rectify":     p.Can(authz.Rectify) || p.Can(authz.Supervise),
		"DeadLetters": p.Can(authz.DeadLetters), "Supervise": p.Can(authz.Supervise), "Insight": p.Can(authz.InsightView),
	})
}

func (h *Handler) adminItems(w http.ResponseWriter, r *http.Request) {
	vs, err := h.Catalog.Published(r.Context())
	if err != nil {
		h.fail(w, r, err, "/admin")
		return
	}
	lang := web.Lang(w, r)
	h.pages.Render(w, r, http.StatusOK, "admin_items.html", pick(lang, "事项管理", "Catalogue items"), vs)
}

// itemVersions lists the versions of the item in the path, newest first;
// an item without any is not found.
func (h *Handler) itemVersions(r *http.Request) (string, []catalog.VersionSummary, error) {
	code := r.PathValue("code")
	vs, err := h.Catalog.Versions(r.Context(), code)
	if err == nil && len(vs) == 0 {
		err = apperr.New(apperr.NotFound, apperr.ItemNotFound, "there is no item %s", code)
	}
	return code, vs, err
}

func (h *Handler) adminItem(w http.ResponseWriter, r *http.Request) {
	code, vs, err := h.itemVersions(r)
	if err != nil {
		h.fail(w, r, err, "/admin/catalog")
		return
	}
	latest, err := h.Catalog.Version(r.Context(), code, vs[0].Version)
	if err != nil {
		h.fail(w, r, err, "/admin/catalog")
		return
	}
	h.pages.Render(w, r, http.StatusOK, "admin_item.html", vs[0].NameZh, map[string]any{"Code": code, "Versions": vs, "Warnings": latest.Item.Warnings()})
}

func (h *Handler) adminPublish(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	back := "/admin/catalog/" + code
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil {
		h.fail(w, r, apperr.New(apperr.Invalid, apperr.BadVersion, "the version is a whole number"), back)
		return
	}
	p := authz.From(r.Context())
	if _, err := h.Catalog.Publish(r.Context(), code, n, fmt.Sprintf("%s:%d", p.Kind, p.AccountID)); err != nil {
		h.fail(w, r, err, back)
		return
	}
	if h.Published != nil {
		h.Published(r.Context())
	}
	h.Logger.InfoContext(r.Context(), "item version published", "item", code, "version", n, "by", p.AccountID)
	redirect(w, r, back)
}

func (h *Handler) adminAccounts(w http.ResponseWriter, r *http.Request) {
	list, err := h.Identities.StaffAccounts(r.Context())
	if err != nil {
		h.fail(w, r, err, "/admin")
		return
	}
	lang := web.Lang(w, r)
	h.pages.Render(w, r, http.StatusOK, "admin_accounts.html", pick(lang, "用户与角色", "Users and roles"), map[string]any{"Accounts": list, "Roles": authz.Roles})
}

func (h *Handler) adminGrant(w http.ResponseWriter, r *http.Request) {
	h.roleAction(w, r, func(id int64, by authz.Principal) error {
		return h.Identities.GrantRole(r.Context(), id, authz.Role(r.PostFormValue("role")), by.AccountID)
	})
}

func (h *Handler) adminRevoke(w http.ResponseWriter, r *http.Request) {
	h.roleAction(w, r, func(id int64, by authz.Principal) error {
		role := authz.Role(r.PathValue("role"))
		if id == by.AccountID && role == authz.SysAdmin {
			return apperr.New(apperr.Conflict, apperr.OwnAdminRole, "you cannot take away your own administrator role: ask another administrator")
		}
		return h.Identities.RevokeRole(r.Context(), id, role, by.AccountID)
	})
}

func (h *Handler) roleAction(w http.ResponseWriter, r *http.Request, do func(id int64, by authz.Principal) error) {
	id, err := pathID(r)
	if err == nil {
		err = do(id, authz.From(r.Context()))
	}
	if err != nil {
		h.fail(w, r, err, "/admin/accounts")
		return
	}
	redirect(w, r, "/admin/accounts")
}

func (h *Handler) adminCalendar(w http.ResponseWriter, r *http.Request) {
	var years []workday.Year
	this := time.Now().Year()
	for y := this - 1; y <= this+2; y++ {
		year, err := h.Calendar.Year(r.Context(), y)
		if apperr.Is(err, apperr.NotFound) {
			continue
		}
		if err != nil {
			h.fail(w, r, err, "/admin")
			return
		}
		years = append(years, year)
	}
	lang := web.Lang(w, r)
	h.pages.Render(w, r, http.StatusOK, "admin_calendar.html", pick(lang, "工作日历", "Working-day calendar"), years)
}

// adminLoadYear loads a year from the State Council's notice, typed or
// pasted in YAML as the shipped years are written.
func (h *Handler) adminLoadYear(w http.ResponseWriter, r *http.Request) {
	n, err := workday.ParseYAML([]byte(strings.TrimSpace(r.PostFormValue("notice"))))
	if err != nil {
		h.fail(w, r, err, "/admin/calendar")
		return
	}
	p := authz.From(r.Context())
	y, err := h.Calendar.Load(r.Context(), n, fmt.Sprintf("%s:%d", p.Kind, p.AccountID))
	if err != nil {
		h.fail(w, r, err, "/admin/calendar")
		return
	}
	h.Logger.InfoContext(r.Context(), "working-day calendar loaded", "year", y.Year, "source", y.Source, "by", p.AccountID)
	redirect(w, r, "/admin/calendar")
}
