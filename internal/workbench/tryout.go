package workbench

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/catalog"
	"yiwang/internal/rules"
	"yiwang/internal/web"
	"yiwang/internal/workday"
)

// traceView is what the "trace" partial shows: a decision of an item's
// rules, and whether to show the values each rule read (the try-out's,
// typed by the administrator; an application's page leaves them out).
type traceView struct {
	Item     catalog.Item
	Decision *rules.Decision
	Lang     string
	Values   bool
}

func newTraceView(it catalog.Item, d *rules.Decision, lang string, values bool) traceView {
	return traceView{Item: it, Decision: d, Lang: lang, Values: values}
}

// tryData is the try-out page of an item: the form, and the decision when
// one was asked for.
type tryData struct {
	Code      string
	Versions  []catalog.VersionSummary
	Version   int
	On        string // the decision day, YYYY-MM-DD
	Applicant string // the applicant file typed
	Item      *catalog.Item
	Trace     *traceView
	Error     string
	Problems  []string
}

// tryExample is the applicant file the page starts with: the keys of a
// tests file's input, to be filled in.
const tryExample = `applicant: {name: 王建国, id_number: "910102196703011233", kind: person, real_name_level: 3}
credit: {level: A, blacklisted: false}
answers: {}
form: {}
sources:
  population: {}
licences: {}
materials: {}
unknown: []
`

// adminTry shows an item's try-out: GET shows the form for the newest
// version, POST decides the chosen version for the applicant file typed on
// the chosen day. Nothing is written: the decision is the rules' alone,
// exactly as `yiwang rules try` makes it (docs/RULES.md).
func (h *Handler) adminTry(w http.ResponseWriter, r *http.Request) {
	lang := web.Lang(w, r)
	code, vs, err := h.itemVersions(r)
	if err != nil {
		h.fail(w, r, err, "/admin/catalog")
		return
	}
	// The newest version (often the draft being tried) is chosen first.
	d := tryData{Code: code, Versions: vs, Version: vs[0].Version, On: workday.DateOf(time.Now()).String(), Applicant: tryExample}
	title := pick(lang, "试算：", "Try out: ") + vs[0].NameZh
	if r.Method == http.MethodGet {
		h.pages.Render(w, r, http.StatusOK, "admin_try.html", title, d)
		return
	}
	d.Applicant = r.PostFormValue("applicant")
	d.On = strings.TrimSpace(r.PostFormValue("on"))
	status, err := h.try(r, &d, lang)
	if err != nil {
		e := apperr.As(err)
		if e == nil || e.Kind == apperr.Internal {
			h.fail(w, r, err, "/admin/catalog/"+code)
			return
		}
		d.Error, d.Problems = web.ErrorText(lang, e), web.ErrorDetails(lang, e)
	}
	h.pages.Render(w, r, status, "admin_try.html", title, d)
}

// try decides d's version for d's applicant on d's day into d.Trace.
func (h *Handler) try(r *http.Request, d *tryData, lang string) (int, error) {
	n, err := strconv.Atoi(r.PostFormValue("version"))
	if err != nil {
		return http.StatusBadRequest, apperr.New(apperr.Invalid, apperr.BadVersion, "the version is a whole number")
	}
	d.Version = n
	day, err := workday.ParseDate(d.On)
	if err != nil {
		return http.StatusBadRequest, apperr.New(apperr.Invalid, apperr.TryInputInvalid, "the decision day %q is not a date (YYYY-MM-DD)", d.On).
			WithDetails([]apperr.Detail{{Subject: "on", Words: apperr.Words{Zh: "决定日请按 年-月-日 填写，如 2027-03-01。", En: "Write the decision day as year-month-day, e.g. 2027-03-01."}}})
	}
	v, err := h.Catalog.Version(r.Context(), d.Code, n)
	if err != nil {
		return http.StatusNotFound, err
	}
	d.Item = &v.Item
	prog, problems := rules.Compile(v.Item)
	if len(problems) > 0 {
		var details []apperr.Detail
		for _, p := range problems {
			details = append(details, apperr.Detail{Subject: p.Rule, Words: apperr.Words{Zh: p.String(), En: p.String()}})
		}
		return http.StatusUnprocessableEntity, apperr.New(apperr.Invalid, apperr.RulesInvalid, "the rules of version %d do not compile", n).WithDetails(details)
	}
	in, err := rules.ReadInput([]byte(d.Applicant))
	if err != nil {
		return http.StatusBadRequest, apperr.New(apperr.Invalid, apperr.TryInputInvalid, "the applicant file: %v", err).
			WithDetails([]apperr.Detail{{Subject: "applicant", Words: apperr.Words{Zh: "申请人数据有误：" + err.Error(), En: "The applicant file: " + err.Error()}}})
	}
	decision := prog.Decide(in, rules.DecisionTime(day))
	tv := newTraceView(v.Item, &decision, lang, true)
	d.Trace = &tv
	return http.StatusOK, nil
}
