package workbench

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/proactive"
	"yiwang/internal/web"
)

// maxScans bounds one intake form post with its scanned materials.
const maxScans = 32 << 20

// windowItems are the published items a hall window takes in.
func (h *Handler) windowItems(r *http.Request) ([]catalog.Item, error) {
	vs, err := h.Catalog.Published(r.Context())
	if err != nil {
		return nil, err
	}
	var out []catalog.Item
	for _, v := range vs {
		if slices.Contains(v.Item.Channels, "window") && v.Item.Target != "enterprise" {
			out = append(out, v.Item)
		}
	}
	return out, nil
}

func (h *Handler) intakePage(w http.ResponseWriter, r *http.Request) {
	items, err := h.windowItems(r)
	if err != nil {
		h.fail(w, r, err, "/workbench")
		return
	}
	var chosen *catalog.Item
	code := r.URL.Query().Get("item")
	for i := range items {
		if items[i].Code == code {
			chosen = &items[i]
		}
	}
	lang := web.Lang(w, r)
	h.pages.Render(w, r, http.StatusOK, "intake.html", pick(lang, "窗口受理", "Window intake"),
		map[string]any{"Items": items, "Item": chosen, "Verified": r.URL.Query().Get("verified") == "1"})
}

// identityCheck records the clerk's in-person check of a walk-in's
// identity card, which raises their account to real-name level 3.
func (h *Handler) identityCheck(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("identity_checked") != "yes" {
		h.fail(w, r, apperr.New(apperr.Invalid, apperr.IdentityCardNotChecked, "read the identity card and match its photo to the person, then tick the box"), "/workbench/intake")
		return
	}
	_, err := h.Identities.VerifyInPerson(r.Context(), authz.From(r.Context()), strings.TrimSpace(r.PostFormValue("id_number")), strings.TrimSpace(r.PostFormValue("name")))
	if err != nil {
		h.fail(w, r, err, "/workbench/intake")
		return
	}
	redirect(w, r, "/workbench/intake?verified=1#identity-check")
}

func (h *Handler) intakeStart(w http.ResponseWriter, r *http.Request) {
	code := r.PostFormValue("item")
	back := withQuery("/workbench/intake", "item", code)
	v, err := h.Catalog.Current(r.Context(), code)
	if err != nil {
		h.fail(w, r, err, back)
		return
	}
	answers := map[string]string{}
	for _, s := range v.Item.Situations {
		if a := r.PostFormValue("answer_" + s.ID); a != "" {
			answers[s.ID] = a
		}
	}
	a, err := h.Drafts.Intake(r.Context(), authz.From(r.Context()), application.IntakeRequest{
		IDNumber: strings.TrimSpace(r.PostFormValue("id_number")), Name: strings.TrimSpace(r.PostFormValue("name")),
		ItemCode: code, Answers: answers,
		IdentityChecked: r.PostFormValue("identity_checked") == "yes", Consent: r.PostFormValue("consent") == "yes",
	})
	if err != nil {
		h.fail(w, r, err, back)
		return
	}
	redirect(w, r, "/workbench/intake/"+strconv.FormatInt(a.ID, 10))
}

// draftData is a walk-in's draft as the clerk completes it.
type draftData struct {
	App       application.Application
	Fields    []catalog.Field
	Materials []catalog.Material
	Have      map[string]application.Material
	Parties   []catalog.Party                 // the item's roles when several people apply together (一事多人)
	Deferred  map[string]application.Deferral // materials pending under a signed deferral (容缺)
}

func (h *Handler) draft(r *http.Request, id int64) (draftData, error) {
	a, err := h.Drafts.Get(r.Context(), authz.From(r.Context()), id)
	if err != nil {
		return draftData{}, err
	}
	v, err := h.Catalog.VersionByID(r.Context(), a.VersionID)
	if err != nil {
		return draftData{}, err
	}
	d := draftData{App: a, Have: map[string]application.Material{}, Parties: v.Item.Parties, Deferred: map[string]application.Deferral{}}
	if a.Modes != nil {
		for _, df := range a.Modes.Deferrals {
			d.Deferred[df.Material] = df
		}
	}
	for _, f := range v.Item.Form {
		if f.When.Matches(a.Answers) {
			d.Fields = append(d.Fields, f)
		}
	}
	for _, m := range v.Item.Materials {
		if m.When.Matches(a.Answers) {
			d.Materials = append(d.Materials, m)
		}
	}
	for _, m := range a.Materials {
		d.Have[m.ID] = m
	}
	return d, nil
}

func (h *Handler) intakeDraft(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.fail(w, r, err, "/workbench/intake")
		return
	}
	d, err := h.draft(r, id)
	if err != nil {
		h.fail(w, r, err, "/workbench/intake")
		return
	}
	if d.App.Status != "draft" {
		redirect(w, r, appURL(id))
		return
	}
	lang := web.Lang(w, r)
	h.pages.Render(w, r, http.StatusOK, "intake_draft.html", pick(lang, "窗口受理：填写与扫描", "Window intake: form and scans"), d)
}

// intakeSave saves the typed form values and the scanned materials, marked
// as checked against the originals (trust B), and submits when asked.
func (h *Handler) intakeSave(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.fail(w, r, err, "/workbench/intake")
		return
	}
	back := "/workbench/intake/" + strconv.FormatInt(id, 10)
	r.Body = http.MaxBytesReader(w, r.Body, maxScans)
	if err := r.ParseMultipartForm(maxScans); err != nil && err != http.ErrNotMultipart {
		h.fail(w, r, apperr.New(apperr.Invalid, apperr.BadForm, "the form or its scans could not be read (at most 32 MB together)"), back)
		return
	}
	p := authz.From(r.Context())
	d, err := h.draft(r, id)
	if err != nil {
		h.fail(w, r, err, back)
		return
	}
	values := map[string]any{}
	for _, f := range d.Fields {
		raw, ok := r.PostForm["field_"+f.ID]
		if !ok || len(raw) == 0 || strings.TrimSpace(raw[0]) == "" {
			continue
		}
		if pv, ok := d.App.Provenance[f.ID]; f.Computed != nil || (ok && pv.Status == "filled" && !pv.Editable) {
			continue // the system's or the source's value stands
		}
		s := strings.TrimSpace(raw[0])
		if formValue(d.App.Form[f.ID]) == s {
			continue
		}
		v, _, problem := f.ParsePosted(s)
		if problem != nil {
			h.fail(w, r, apperr.New(apperr.Invalid, apperr.BadNumber, "%s", problem.En).WithDetails([]apperr.Detail{*problem}), back)
			return
		}
		values[f.ID] = v
	}
	if len(values) > 0 {
		if _, err := h.Drafts.UpdateForm(r.Context(), p, id, values); err != nil {
			h.fail(w, r, err, back)
			return
		}
	}
	if r.MultipartForm != nil {
		for _, m := range d.Materials {
			files := r.MultipartForm.File["scan_"+m.ID]
			if len(files) == 0 {
				continue
			}
			f, err := files[0].Open()
			if err != nil {
				h.fail(w, r, err, back)
				return
			}
			a, err := h.Drafts.Get(r.Context(), p, id)
			if err == nil {
				_, err = h.Drafts.UploadMaterial(r.Context(), p, id, a.Revision, m.ID, f, true)
			}
			f.Close()
			if err != nil {
				h.fail(w, r, err, back)
				return
			}
		}
	}
	if r.PostFormValue("action") != "submit" {
		redirect(w, r, back)
		return
	}
	a, err := h.Drafts.Get(r.Context(), p, id)
	if err == nil {
		a, err = h.Drafts.Submit(r.Context(), p, id, a.Revision, "")
	}
	if err != nil {
		h.fail(w, r, err, back)
		return
	}
	redirect(w, r, appURL(a.ID))
}

// intakeParties names the walk-in's part and the other parties of a joint
// item (一事多人) by name and ID number; they confirm after submission.
func (h *Handler) intakeParties(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.fail(w, r, err, "/workbench/intake")
		return
	}
	back := "/workbench/intake/" + strconv.FormatInt(id, 10)
	d, err := h.draft(r, id)
	if err != nil {
		h.fail(w, r, err, back)
		return
	}
	own := r.PostFormValue("own_role")
	var parties []application.PartyRequest
	for _, ip := range d.Parties {
		pr := application.PartyRequest{Role: ip.Role, IDNumber: strings.TrimSpace(r.PostFormValue("party_" + ip.Role + "_id")), Name: strings.TrimSpace(r.PostFormValue("party_" + ip.Role + "_name"))}
		if ip.Role == own || pr.IDNumber+pr.Name == "" { // left empty: the service says who is missing
			continue
		}
		parties = append(parties, pr)
	}
	if _, err := h.Modes.NameParties(r.Context(), authz.From(r.Context()), id, d.App.Revision, own, parties); err != nil {
		h.fail(w, r, err, back)
		return
	}
	redirect(w, r, back)
}

// intakeDeferral marks a deferrable material pending until a date (容缺),
// once the walk-in has signed the deferral commitment at the window.
func (h *Handler) intakeDeferral(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.fail(w, r, err, "/workbench/intake")
		return
	}
	back := "/workbench/intake/" + strconv.FormatInt(id, 10)
	if r.PostFormValue("signed") != "yes" {
		h.fail(w, r, apperr.New(apperr.Invalid, apperr.DeferralUnsigned, "the applicant signs the commitment to supply it by the date first; then tick the box"), back)
		return
	}
	if _, err := h.Modes.DeferMaterial(r.Context(), authz.From(r.Context()), id, 0, r.PathValue("material"), r.PostFormValue("due")); err != nil {
		h.fail(w, r, err, back)
		return
	}
	redirect(w, r, back)
}

func (h *Handler) overdue(w http.ResponseWriter, r *http.Request) {
	b, err := h.Deadlines.Overdue(r.Context(), authz.From(r.Context()), r.URL.Query().Get("department"))
	if err != nil {
		h.fail(w, r, err, "/")
		return
	}
	b.Cases = b.Cases[:min(len(b.Cases), queuePage)] // as the queue: the nearest, and how many in all
	lang := web.Lang(w, r)
	h.pages.Render(w, r, http.StatusOK, "overdue.html", pick(lang, "超期督办", "Overdue board"), b)
}

// sweepsView is the supervisors' page of proactive sweeps.
type sweepsView struct {
	Sweeps  []proactive.Report
	Reasons map[string]catalog.Text
}

func (h *Handler) proactiveSweeps(w http.ResponseWriter, r *http.Request) {
	list, err := h.Proactive.Sweeps(r.Context(), authz.From(r.Context()), 60)
	if err != nil {
		h.fail(w, r, err, "/")
		return
	}
	h.pages.Render(w, r, http.StatusOK, "proactive.html", pick(web.Lang(w, r), "主动服务", "Proactive services"), sweepsView{Sweeps: list, Reasons: proactive.SkipReasons})
}

// tableText shows a table value as the lines catalog.Field.ParsePosted reads.
func tableText(f catalog.Field, v any) string {
	list, _ := v.([]any)
	var lines []string
	for _, r := range list {
		m, _ := r.(map[string]any)
		var cells []string
		for _, c := range f.Columns {
			cells = append(cells, formValue(m[c.ID]))
		}
		lines = append(lines, strings.Join(cells, ","))
	}
	return strings.Join(lines, "\n")
}
