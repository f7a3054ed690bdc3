package portal

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/bundle"
	"yiwang/internal/catalog"
	"yiwang/internal/licence"
	"yiwang/internal/rating"
	"yiwang/internal/web"
)

// appRow is an application in my applications' list.
type appRow struct {
	application.Application
	Name     catalog.Text
	Light    string // green, yellow, red, paused; "" without a running deadline
	DaysLeft int
}

// light is how near an application's deadline is, as staff see it: paused
// while the clock stands still, red once past, yellow within the warning days.
func (h *Handler) light(ctx context.Context, cal application.Calendar, a application.Application) (string, int) {
	if a.Deadline == nil || cal == nil {
		return "", 0
	}
	if a.ClockStopped {
		return string(application.Paused), 0
	}
	now := time.Now()
	left, err := cal.WorkdaysLeft(now, *a.Deadline)
	switch {
	case err != nil:
		return "", 0
	case now.After(*a.Deadline):
		return string(application.Red), left
	case left <= h.WarningDays:
		return string(application.Yellow), left
	}
	return string(application.Green), left
}

// open reports whether an application is still running (its deadline counts).
func open(status string) bool {
	switch status {
	case "submitted", "accepted", "correction_requested", "under_review", "special_procedure":
		return true
	}
	return false
}

func (h *Handler) calendar(ctx context.Context) application.Calendar {
	if h.Calendars == nil {
		return nil
	}
	cal, err := h.Calendars(ctx)
	if err != nil {
		h.Logger.WarnContext(ctx, "no working-day calendar: deadlines shown without their light", "err", err)
		return nil
	}
	return cal
}

func (h *Handler) myApplications(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	list, err := h.Drafts.Mine(ctx, authz.From(ctx))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cal := h.calendar(ctx)
	names := map[int64]catalog.Text{}
	rows := make([]appRow, 0, len(list))
	for _, a := range list {
		row := appRow{Application: a}
		if n, ok := names[a.VersionID]; ok {
			row.Name = n
		} else if v, err := h.Catalog.VersionByID(ctx, a.VersionID); err == nil {
			row.Name, names[a.VersionID] = v.Item.Name, v.Item.Name
		} else {
			row.Name = catalog.Text{Zh: a.ItemCode}
		}
		if open(a.Status) {
			row.Light, row.DaysLeft = h.light(ctx, cal, a)
		}
		rows = append(rows, row)
	}
	data := struct {
		Rows    []appRow
		Bundles []bundle.Summary
	}{Rows: rows}
	if h.Bundles != nil {
		if data.Bundles, err = h.Bundles.Mine(ctx, authz.From(ctx)); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.pages.Render(w, r, http.StatusOK, "applications.html", title(w, r, "我的办件", "My applications"), data)
}

// material is a material of the application with its catalogue entry and
// the ways the applicant may still supply it.
type material struct {
	application.Material
	Upload       bool // the applicant may upload a file for it
	Note         *catalog.Text
	Pledge       string // the pledge to sign in its place (告知承诺); "" when the item wants the material itself
	PledgeDigest string
	Deferrable   bool                  // it may follow later (容缺)
	DeferralText string                // the deferral commitment, with the date left open
	Deferral     *application.Deferral // its deferral, once made
}

// Pending reports whether the material waits to be supplied under a deferral.
func (m material) Pending() bool { return m.Deferral != nil && m.Deferral.SuppliedAt == nil }

// detail is everything the application page shows.
type detail struct {
	App         application.Application
	Item        catalog.Item
	Step        string // for a draft: form, materials, confirm; correction while one is open
	Fields      []formField
	Materials   []material
	Pending     []material // deferred materials still to be supplied (容缺)
	Commitment  string     // the item's commitment to sign at submission; "" when it is not approved on commitment
	Digest      string     // of Commitment, posted back with the signature
	Key         string     // idempotency key of the step's form
	Licence     *licence.Licence
	Light       string
	DaysLeft    int
	Rating      *rating.Party // the applicant's rating, once the application is finished
	Correction  []correctionItem
	CanWithdraw bool
}

// correctionItem is one thing a correction asks for, with what it names.
type correctionItem struct {
	application.CorrectionItem
	Field    *formField
	Material *material
}

// applicationLink serves the address notifications carry.
func (h *Handler) applicationLink(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/me/applications/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

func (h *Handler) myApplication(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a, it, ok := h.load(w, r)
	if !ok {
		return
	}
	d := detail{App: a, Item: it, Fields: fields(it, a), Key: wizardKey()}
	if m := a.Modes; m != nil && m.CommitmentText != "" && (m.Commitment == nil || m.Commitment.Text != m.CommitmentText) {
		d.Commitment, d.Digest = a.Modes.CommitmentText, textDigest(a.Modes.CommitmentText)
	}
	byID := map[string]catalog.Material{}
	for _, m := range it.Materials {
		byID[m.ID] = m
	}
	lang := web.Lang(w, r)
	for _, m := range a.Materials {
		cm := byID[m.ID]
		m.Name = cm.Name.In(lang) // the application keeps the Chinese name; the page speaks its language
		mt := material{Material: m, Note: cm.Note, Deferrable: cm.Deferrable}
		for _, s := range cm.Sources {
			mt.Upload = mt.Upload || s.Upload
			if s.Commitment {
				mt.Pledge = application.PledgeText(cm)
				mt.PledgeDigest = textDigest(mt.Pledge)
			}
		}
		if mt.Deferrable {
			mt.DeferralText = application.DeferralText(m.Name, "____年__月__日")
		}
		if a.Modes != nil {
			for i := range a.Modes.Deferrals {
				if a.Modes.Deferrals[i].Material == m.ID {
					mt.Deferral = &a.Modes.Deferrals[i]
				}
			}
		}
		if mt.Pending() {
			d.Pending = append(d.Pending, mt)
		}
		d.Materials = append(d.Materials, mt)
	}
	switch {
	case a.Status == "draft":
		d.Step = r.URL.Query().Get("step")
		if d.Step != "materials" && d.Step != "confirm" && (d.Step != "parties" || len(it.Parties) == 0) {
			d.Step = "form"
		}
	case a.Correction != nil:
		d.Step = "correction"
		for _, c := range a.Correction.Items {
			ci := correctionItem{CorrectionItem: c}
			for i := range d.Fields {
				if d.Fields[i].ID == c.Field {
					ci.Field = &d.Fields[i]
				}
			}
			for i := range d.Materials {
				if d.Materials[i].ID == c.Material {
					ci.Material = &d.Materials[i]
				}
			}
			d.Correction = append(d.Correction, ci)
		}
	}
	if open(a.Status) {
		d.Light, d.DaysLeft = h.light(ctx, h.calendar(ctx), a)
		d.CanWithdraw = true
	}
	if l, err := h.Licences.ByApplication(ctx, a.ID); err == nil {
		d.Licence = &l
	} else if !apperr.Is(err, apperr.NotFound) {
		h.fail(w, r, err)
		return
	}
	if slices.Contains(rating.Rateable, a.Status) && h.Ratings != nil {
		pt, err := h.Ratings.ForParty(ctx, authz.From(ctx), a.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		d.Rating = &pt
	}
	h.pages.Render(w, r, http.StatusOK, "application.html", title(w, r, it.Name.Zh, it.Name.In("en")), d)
}

// correction answers an open correction: the fields it names (files are
// uploaded one by one before), then the clock runs again.
func (h *Handler) correction(w http.ResponseWriter, r *http.Request) {
	a, it, ok := h.load(w, r)
	if !ok {
		return
	}
	if a.Correction == nil {
		h.fail(w, r, apperr.New(apperr.Conflict, apperr.NoCorrection, "this application has no correction waiting for you"))
		return
	}
	named := func(f formField) bool {
		return slices.ContainsFunc(a.Correction.Items, func(c application.CorrectionItem) bool { return c.Field == f.ID })
	}
	values, err := readFields(r, fields(it, a), named, true)
	if err == nil {
		_, err = h.Drafts.SupplyCorrection(r.Context(), authz.From(r.Context()), a.ID, 0, values)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/me/applications/%d", a.ID), http.StatusSeeOther)
}

func (h *Handler) withdraw(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if _, err := h.Drafts.Withdraw(r.Context(), authz.From(r.Context()), id, 0, r.PostFormValue("reason")); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/me/applications/%d", id), http.StatusSeeOther)
}

// decline turns down what the platform granted the person (免申即享).
func (h *Handler) decline(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if _, err := h.Drafts.Decline(r.Context(), authz.From(r.Context()), id, r.PostFormValue("reason")); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/me/applications/%d", id), http.StatusSeeOther)
}
