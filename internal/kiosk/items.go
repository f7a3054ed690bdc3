package kiosk

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/httpx"
	"yiwang/internal/web"
)

// blocker says why the kiosk cannot take an application of it under the
// answers, in words; nil when it can. A kiosk has a touch screen and the
// person's ID card, nothing else: every material must come from the
// person's e-licences or the registries, and every field the person fills
// is one a touch screen can take.
func blocker(it catalog.Item, answers map[string]string) *catalog.Text {
	for _, f := range it.Form {
		if f.Required && f.Prefill == nil && f.Computed == nil && (f.Type == "file" || f.Type == "table") && f.When.Matches(answers) {
			return &catalog.Text{Zh: "「" + f.Label.Zh + "」需在网上或窗口填写。", En: f.Label.In("en") + " is filled in online or at a window."}
		}
	}
	for _, m := range it.Materials {
		if m.Required && m.When.Matches(answers) && !slices.ContainsFunc(m.Sources, func(s catalog.MaterialSource) bool { return s.Licence != "" || s.Registry != "" }) {
			return &catalog.Text{Zh: "「" + m.Name.Zh + "」需在网上或窗口提交。", En: m.Name.In("en") + " is supplied online or at a window."}
		}
	}
	return nil
}

// Offered reports whether the kiosk offers the item: it has the kiosk
// channel, a person applies alone (no co-party, no enterprise, no signed
// commitment), and for at least one set of answers the kiosk can take the
// application from start to decision.
func Offered(it catalog.Item) bool {
	if !slices.Contains(it.Channels, "kiosk") || it.Target == "enterprise" || len(it.Parties) > 0 || it.Approval.Mode == "commitment" {
		return false
	}
	return slices.ContainsFunc(catalog.AnswerCombinations(it.Situations, 64), func(a map[string]string) bool { return blocker(it, a) == nil })
}

// offered lists the published items the kiosk offers, in catalogue order.
func (h *Handler) offered(r *http.Request) ([]catalog.Item, error) {
	vs, err := h.Catalog.Published(r.Context())
	if err != nil {
		return nil, err
	}
	var items []catalog.Item
	for _, v := range vs {
		if Offered(v.Item) {
			items = append(items, v.Item)
		}
	}
	return items, nil
}

// itemData is an item's kiosk page: its questions first, then the fields
// the person fills by touch.
type itemData struct {
	Item     catalog.Item
	Answers  map[string]string
	Asking   bool            // some question is not answered yet
	Fill     []catalog.Field // fields the person fills
	Auto     []catalog.Text  // what is filled or fetched without the person
	Blocked  *catalog.Text   // why the kiosk cannot take these answers
	Key      string          // the idempotency key of this page's one application
	Error    string
	Problems []string
}

// item shows an item's kiosk page: GET /kiosk/items/{code}?a_SITUATION=ANSWER.
func (h *Handler) item(w http.ResponseWriter, r *http.Request) {
	it, ok := h.offeredItem(w, r)
	if !ok {
		return
	}
	h.showItem(w, r, http.StatusOK, it, answersOf(r, it), nil)
}

// offeredItem finds the item of the request's path among those the kiosk
// offers, or shows the kiosk's home with why not.
func (h *Handler) offeredItem(w http.ResponseWriter, r *http.Request) (catalog.Item, bool) {
	lang := web.Lang(w, r)
	v, err := h.Catalog.Current(r.Context(), r.PathValue("code"))
	if err == nil && !Offered(v.Item) {
		err = apperr.New(apperr.NotFound, apperr.ItemNotFound, "item %s is not offered at a kiosk", v.Item.Code)
	}
	if err != nil {
		if e := apperr.As(err); e != nil && e.Kind != apperr.Internal {
			h.show(w, r, http.StatusNotFound, pick(lang, "此事项不能在自助终端办理，请在网上或到窗口办理。", "This service is not offered at the kiosk: apply online or at a window."), nil, 0)
			return catalog.Item{}, false
		}
		httpx.WriteError(w, r, h.Logger, err)
		return catalog.Item{}, false
	}
	return v.Item, true
}

// answersOf reads the situation answers the request carries (a_ID), only
// the item's own answers.
func answersOf(r *http.Request, it catalog.Item) map[string]string {
	answers := map[string]string{}
	for _, s := range it.Situations {
		v := r.FormValue("a_" + s.ID)
		if slices.ContainsFunc(s.Answers, func(a catalog.Answer) bool { return a.Value == v }) {
			answers[s.ID] = v
		}
	}
	return answers
}

// fillable lists the fields of it under the answers that the person fills
// at the kiosk: those not filled from the registries or e-licences, nor
// computed by the system.
func fillable(it catalog.Item, answers map[string]string) (fill []catalog.Field, auto []catalog.Text) {
	for _, f := range it.Form {
		switch {
		case !f.When.Matches(answers):
		case f.Prefill != nil || f.Computed != nil:
			auto = append(auto, f.Label)
		case f.Type != "file" && f.Type != "table":
			fill = append(fill, f)
		}
	}
	for _, m := range it.Materials {
		if m.When.Matches(answers) && slices.ContainsFunc(m.Sources, func(s catalog.MaterialSource) bool { return s.Licence != "" || s.Registry != "" }) {
			auto = append(auto, m.Name)
		}
	}
	return fill, auto
}

func (h *Handler) showItem(w http.ResponseWriter, r *http.Request, status int, it catalog.Item, answers map[string]string, err *apperr.Error) {
	lang := web.Lang(w, r)
	d := itemData{Item: it, Answers: answers, Asking: len(answers) < len(it.Situations)}
	if !d.Asking {
		d.Blocked = blocker(it, answers)
		d.Fill, d.Auto = fillable(it, answers)
		d.Key = newKey()
	}
	if err != nil {
		d.Error, d.Problems = web.ErrorText(lang, err), web.ErrorDetails(lang, err)
	}
	h.pages.Render(w, r, status, "item.html", it.Name.In(lang), d)
}

// newKey is a fresh idempotency key for the one application a page makes,
// so a second touch of the button does not apply twice.
func newKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "kiosk-" + hex.EncodeToString(b)
}

// apply takes the person's application of the item in one call and, when
// the machine decides it at once, comes back with the licence to print;
// otherwise with the reasons, or that staff will look at it.
func (h *Handler) apply(w http.ResponseWriter, r *http.Request) {
	it, ok := h.offeredItem(w, r)
	if !ok {
		return
	}
	lang, p, answers := web.Lang(w, r), authz.From(r.Context()), answersOf(r, it)
	if len(answers) < len(it.Situations) || blocker(it, answers) != nil {
		h.showItem(w, r, http.StatusBadRequest, it, answers, nil)
		return
	}
	if r.PostFormValue("consent") != "yes" {
		h.showItem(w, r, http.StatusBadRequest, it, answers, apperr.New(apperr.Invalid, apperr.ConsentRequired, "agree to the data being read first"))
		return
	}
	fill, _ := fillable(it, answers)
	form, problems := map[string]any{}, []apperr.Detail{}
	for _, f := range fill {
		v, ok, problem := f.ParsePosted(r.PostFormValue("f_" + f.ID))
		switch {
		case problem != nil:
			problems = append(problems, *problem)
		case ok:
			form[f.ID] = v
		}
	}
	if len(problems) > 0 {
		h.showItem(w, r, http.StatusBadRequest, it, answers, apperr.New(apperr.Invalid, apperr.BadForm, "%d field(s) could not be read", len(problems)).WithDetails(problems))
		return
	}
	key := r.PostFormValue("key")
	if !strings.HasPrefix(key, "kiosk-") {
		key = newKey()
	}
	a, err := h.Drafts.Apply(r.Context(), p, application.ApplyRequest{
		StartRequest: application.StartRequest{ItemCode: it.Code, Answers: answers, Channel: "kiosk", IdempotencyKey: key},
		Consent:      true, Form: form,
	})
	if err != nil {
		if e := apperr.As(err); e != nil && e.Kind != apperr.Internal {
			h.showItem(w, r, httpx.StatusFor(e.Kind), it, answers, e)
			return
		}
		httpx.WriteError(w, r, h.Logger, err)
		return
	}
	l, err := h.Licences.ByApplication(r.Context(), a.ID)
	if err == nil {
		h.show(w, r, http.StatusOK, "", &l, a.ID)
		return
	}
	msg := pick(lang, "申请已提交，需工作人员审核，结果将通知您。办件编号：", "Submitted: staff will review it and tell you the result. Application number: ") + a.Number
	if len(a.Reasons) > 0 {
		msg = pick(lang, "未能办理「", "Not granted (") + it.Name.In(lang) + pick(lang, "」：", "): ") + strings.Join(a.Reasons, "；")
	}
	h.show(w, r, http.StatusOK, msg, nil, a.ID)
}
