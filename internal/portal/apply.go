package portal

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
)

// The apply wizard (在线办理): situation questions → the form with its
// prefilled fields marked → the other parties of a joint item → materials,
// pledged or deferred where the item allows → the item's commitment and
// submit → the decision (modes.go has the approval modes' steps). Steps 2 to 4 work on the draft the first step starts, so a
// person can leave and come back to it from my applications.

// wizardKey is a fresh idempotency key for one wizard step: the form posts it
// back, so a double click or a resent form does the step once.
func wizardKey() string {
	var b [16]byte
	rand.Read(b[:])
	return "web-" + hex.EncodeToString(b[:])
}

type applyData struct {
	Item catalog.Item
	Key  string
}

// applyPage is step 1: what the item is, the situation questions and the
// consent to read the applicant's data.
func (h *Handler) applyPage(w http.ResponseWriter, r *http.Request) {
	v, err := h.Catalog.Current(r.Context(), r.PathValue("code"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.pages.Render(w, r, http.StatusOK, "apply.html", title(w, r, "在线办理 · "+v.Item.Name.Zh, "Apply · "+v.Item.Name.In("en")), applyData{Item: v.Item, Key: wizardKey()})
}

// applyStart starts the draft with the answers given; the hub fills the form.
func (h *Handler) applyStart(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	v, err := h.Catalog.Current(r.Context(), code)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if r.PostFormValue("consent") != "yes" {
		h.fail(w, r, apperr.New(apperr.Invalid, apperr.NoConsent, "tick the box to let the departments' data fill in your form; without it nothing can be read for you"))
		return
	}
	answers := map[string]string{}
	for _, s := range v.Item.Situations {
		if a := r.PostFormValue("situation_" + s.ID); a != "" {
			answers[s.ID] = a
		}
	}
	a, err := h.Drafts.Start(r.Context(), authz.From(r.Context()), application.StartRequest{ItemCode: code, Answers: answers, Channel: "web", IdempotencyKey: r.PostFormValue("idempotency_key")})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/me/applications/%d?step=form", a.ID), http.StatusSeeOther)
}

// formField is one field of the form step.
type formField struct {
	catalog.Field
	Value    string
	Source   string // where a prefilled value came from, e.g. population.name; "" for none
	ReadOnly bool   // prefilled from a source the applicant may not change
	Missing  bool   // the source had nothing: type it in
	Computed bool   // the system computes it (由系统计算): never typed in
}

// fields is the form as the applicant fills it in.
func fields(it catalog.Item, a application.Application) []formField {
	var out []formField
	for _, f := range it.Form {
		if !f.When.Matches(a.Answers) {
			continue
		}
		ff := formField{Field: f, Value: formValue(a.Form[f.ID])}
		if f.Computed != nil {
			ff.Computed, ff.ReadOnly = true, true
			out = append(out, ff)
			continue
		}
		if pv, ok := a.Provenance[f.ID]; ok {
			if pv.Status == "filled" {
				ff.Source, ff.ReadOnly = pv.Source, !pv.Editable
			} else {
				ff.Missing = true
			}
		}
		out = append(out, ff)
	}
	return out
}

// formValue writes a form value as an input shows it; a table's rows are
// one line each, cells separated by commas.
func formValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		var lines []string
		for _, row := range x {
			if m, ok := row.(map[string]any); ok {
				var cells []string
				for _, k := range sortedKeys(m) {
					cells = append(cells, formValue(m[k]))
				}
				lines = append(lines, strings.Join(cells, ", "))
			}
		}
		return strings.Join(lines, "\n")
	}
	return fmt.Sprint(v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// saveForm is step 2's answer: the values the applicant typed.
func (h *Handler) saveForm(w http.ResponseWriter, r *http.Request) {
	a, it, ok := h.load(w, r)
	if !ok {
		return
	}
	values, err := readFields(r, fields(it, a), func(f formField) bool { return !f.ReadOnly }, false)
	if err == nil {
		_, err = h.Drafts.UpdateForm(r.Context(), authz.From(r.Context()), a.ID, values)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	next := "materials"
	if len(it.Parties) > 0 {
		next = "parties"
	}
	http.Redirect(w, r, fmt.Sprintf("/me/applications/%d?step=%s", a.ID, next), http.StatusSeeOther)
}

// readFields reads the posted values of the fields take accepts; with
// required, each of them must have one.
func readFields(r *http.Request, fs []formField, take func(formField) bool, required bool) (map[string]any, error) {
	values, problems := map[string]any{}, []apperr.Detail{}
	for _, f := range fs {
		if !take(f) || f.Type == "file" { // files are materials, uploaded one by one
			continue
		}
		val, ok, problem := f.ParsePosted(r.PostFormValue("f_" + f.ID))
		switch {
		case problem != nil:
			problems = append(problems, *problem)
		case ok:
			values[f.ID] = val
		case required:
			problems = append(problems, apperr.Detail{Subject: f.ID, Words: apperr.Words{Zh: f.Label.Zh + "：请填写。", En: f.Label.In("en") + ": fill this in."}})
		}
	}
	if len(problems) > 0 {
		return nil, apperr.New(apperr.Invalid, apperr.BadForm, "%d field(s) could not be read", len(problems)).WithDetails(problems)
	}
	return values, nil
}

// maxUpload bounds a file posted through the page; the blob store has its own limit too.
const maxUpload = 32 << 20

// upload attaches a file to one material, while drafting or correcting.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request) {
	a, _, ok := h.load(w, r)
	if !ok {
		return
	}
	id, p := a.ID, authz.From(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	f, _, err := r.FormFile("file")
	if err != nil {
		h.fail(w, r, apperr.New(apperr.Invalid, apperr.NoFile, "choose a file to upload (at most %d MB)", maxUpload>>20))
		return
	}
	defer f.Close()
	a, err = h.Drafts.UploadMaterial(r.Context(), p, id, 0, r.PathValue("material"), f, false)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	step := "materials"
	if a.Status != "draft" {
		step = "correction"
	}
	http.Redirect(w, r, fmt.Sprintf("/me/applications/%d?step=%s", id, step), http.StatusSeeOther)
}

// submit is step 4: the item's commitment signed (when it is approved on
// commitment), then the submission. A retried submit with the same key
// returns the submitted application instead of failing.
func (h *Handler) submit(w http.ResponseWriter, r *http.Request) {
	a, _, ok := h.load(w, r)
	if !ok {
		return
	}
	rev, _ := strconv.ParseInt(r.PostFormValue("revision"), 10, 64)
	var err error
	if a.Status == "draft" {
		rev, err = h.signCommitment(r, a, rev)
	}
	if err == nil {
		_, err = h.Drafts.Submit(r.Context(), authz.From(r.Context()), a.ID, rev, r.PostFormValue("idempotency_key"))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/me/applications/%d", a.ID), http.StatusSeeOther)
}
