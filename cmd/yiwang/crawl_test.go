package main

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	democatalog "yiwang/catalog"
	"yiwang/internal/application"
	"yiwang/internal/catalog"
	"yiwang/internal/consult"
	"yiwang/internal/demo"
	"yiwang/internal/kiosk"
	"yiwang/internal/rating"
	"yiwang/internal/web"
)

// TestCrawlShowsNoInternalValues signs in as every demo role, follows the
// links of every page it can reach from the header and the demo data, in
// Chinese and in English, and fails on anything a person should not have
// to read: an internal code, a Go value dump, a zero date, a UTC time, or an
// English word on a Chinese page. The codes it looks for come from the label
// table and the catalogue, so a new code is checked without touching this.
func TestCrawlShowsNoInternalValues(t *testing.T) {
	h, a := citizenServer(t)
	more := richDemo(t, h, a)
	d := newDetector(t)
	var findings []string
	seen := map[string]bool{} // pages visited, by language and role; public ones by language alone
	for _, who := range []string{"", demo.ZhangSan, demo.LiSi, demo.WangWu, "kiosk", "clerk", "reviewer.civil", "head.civil",
		"reviewer.realestate", "reviewer.tax", "reviewer.fuan", "supervisor", "catalog.admin", "sysadmin"} {
		hd := crawlSession(t, h, who)
		for _, lang := range []string{"zh", "en"} {
			findings = append(findings, crawl(t, h, hd, who, lang, d, seen, more[who])...)
		}
	}
	if len(findings) > 0 {
		t.Errorf("%d finding(s), page by page:\n%s", len(findings), strings.Join(findings, "\n"))
	}
}

// TestDetectorFindsPlantedValues keeps the crawl able to fail.
func TestDetectorFindsPlantedValues(t *testing.T) {
	d := newDetector(t)
	page := `<html><body><h1>办件</h1><table><tr><td>window</td><td>0001-01-01</td><td>{a b}</td>
		<td>2026-01-02 03:04 UTC</td><td>map[x:1]</td><td>经办 staff:10</td><td>2026-01-02T03:04:05Z</td></tr></table>
		<p>状态 pending_things 与 PDF 下载</p><script>var x = {a: 1}</script><button onclick="go()">办理</button>
		<a href="javascript:go()">办理</a><script src="/static/site.js" defer></script></body></html>`
	got := strings.Join(d.check(page, "zh"), "\n")
	for _, want := range []string{`"window"`, "0001-01-01", "{a b}", "UTC", "map[", "staff:10", "T03:04:05Z", "pending_things",
		"inline script, which the CSP blocks: <script>", "CSP blocks: onclick=", `CSP blocks: href="javascript:`} {
		if !strings.Contains(got, want) {
			t.Errorf("the detector missed %s in:\n%s", want, got)
		}
	}
	for _, not := range []string{`word "PDF"`, "var x", "site.js"} {
		if strings.Contains(got, not) {
			t.Errorf("the detector flagged %q:\n%s", not, got)
		}
	}
	if got := d.check(`<p>Save the draft and open a window</p><td>window</td><td>已确认</td>`, "en"); len(got) != 2 {
		t.Errorf("in English only the code alone in its cell is internal, and a Chinese label is out of place, got %v", got)
	}
}

// richDemo adds what the demo needs so every page kind has something to
// show: an approved senior card with its licence, a machine rejection, a
// draft, a walk-in's draft at the window, a property transfer in parallel
// review with a co-party (one of its steps overdue), a senior card a
// reviewer asked to correct, a shared licence and a filing on public
// notice. It returns the pages of this data that no link leads a role to,
// by role: the walk-in's draft for the clerk, the shared licence for the
// visitor, every application's staff page for staff.
func richDemo(t *testing.T, h http.Handler, a *app) map[string][]string {
	t.Helper()
	ctx := context.Background()
	zhang, wang := signIn(t, h, demo.ZhangSan), signIn(t, h, demo.WangWu)
	approved, decided := applyForSeniorCard(t, h, zhang)
	if !strings.Contains(decided, "审批通过") {
		t.Fatalf("the senior card was not approved:\n%s", decided)
	}
	// 好差评: 张三 rates it 非常不满意 (his phone in the comment, sealed at
	// rest); 民政 answers, the supervisor calls back.
	page(t, h, zhang, "POST", approved+"/rating", url.Values{"stars": {"1"}, "comment": {"窗口排队太久，请回电13800000001"}})
	supervisor := staffPrincipal(t, a, "supervisor")
	rects, err := a.ratings.List(ctx, supervisor, rating.Filter{})
	if err != nil || len(rects) != 1 {
		t.Fatalf("the bad rating opened %d rectifications (%v), want 1", len(rects), err)
	}
	if err := a.ratings.Answer(ctx, staffPrincipal(t, a, "reviewer.civil"), rects[0].ID, "已增设取号窗口"); err != nil {
		t.Fatal(err)
	}
	if err := a.ratings.Callback(ctx, supervisor, rects[0].ID, "电话回访13800000001，张三表示排队已缩短", true); err != nil {
		t.Fatal(err)
	}
	applyForSeniorCard(t, h, wang) // 38: rejected by the machine
	_, start := page(t, h, wang, "GET", "/apply/11910102MB0001037K-07-00004", nil)
	page(t, h, wang, "POST", "/apply/11910102MB0001037K-07-00004", url.Values{"consent": {"yes"}, "idempotency_key": {hiddenKey.FindStringSubmatch(start)[1]}, "situation_reason": {"duplicate"}})
	draft, _ := page(t, h, signIn(t, h, "clerk"), "POST", "/workbench/intake", url.Values{"item": {propertyTransfer}, "id_number": {demo.WangWu}, "name": {"王五"},
		"answer_reason": {"sale"}, "answer_property_type": {"residential"}, "identity_checked": {"yes"}, "consent": {"yes"}})
	id := queueTransfer(t, a, staffPrincipal(t, a, "clerk"))
	if _, err := a.identities.DB().ExecContext(ctx, `UPDATE tasks SET deadline = $1 WHERE application_id = $2 AND department = 'tax' AND status = 'open'`,
		time.Now().AddDate(0, 0, -3).UTC(), id); err != nil {
		t.Fatal(err)
	}
	if err := a.applications.Decisions.SetMachineSuspended(ctx, staffPrincipal(t, a, "head.civil"), seniorCard, true, "test"); err != nil {
		t.Fatal(err)
	}
	applyForSeniorCard(t, h, zhang)
	tasks, err := a.applications.Tasks.Inbox(ctx, staffPrincipal(t, a, "reviewer.civil"))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("the civil reviewer's inbox: %v %v", tasks, err)
	}
	if _, err := a.applications.Tasks.RequestCorrection(ctx, staffPrincipal(t, a, "reviewer.civil"), tasks[0].ID, 0, []application.CorrectionItem{
		{Field: "delivery", Reason: "实体卡暂停邮寄，请改选仅电子证"}, {Material: "id_card", Reason: "身份证照片不清晰，请上传清晰的照片"}}); err != nil {
		t.Fatal(err)
	}
	// 张三 shares his licence; the senior card republished as a filing goes
	// on public notice when he applies again.
	_, shared := page(t, h, zhang, "POST", "/me/licences/1/share", url.Values{"days": {"7"}, "recipient": {"示范银行"}, "purpose": {"开户"}})
	link := regexp.MustCompile(`/shared/licences/[A-Za-z0-9_-]+`).FindString(shared)
	if link == "" {
		t.Fatalf("sharing the licence shows no link:\n%s", shared)
	}
	seniorCardIn(t, h, "approval: {mode: filing, notice_days: 5}")
	if _, notices := page(t, h, map[string]string{}, "GET", "/notices", nil); !strings.Contains(notices, "老年人优待证") {
		t.Fatalf("the filing is not on public notice:\n%s", notices)
	}
	// 张三 starts a company through 企业开办一件事; the advance job submits
	// the members the registration frees.
	verified(t, a, demo.ZhangSan, 3)
	zhang = signIn(t, h, demo.ZhangSan)
	if path, _ := page(t, h, zhang, "POST", "/bundles/business_startup", withKey(startupForm(), "web-crawl-bundle-0001", true)); !strings.HasPrefix(path, "/me/bundles/") {
		t.Fatalf("企业开办 landed on %s", path)
	}
	if _, err := a.bundles.Advance(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// 王五 asks 不动产 the same question three times, under his name; each
	// is answered, so the catalogue administrator is offered it as an FAQ.
	for range 3 {
		c, err := a.consults.Submit(ctx, personOf(t, a, demo.WangWu), "192.0.2.1", consult.NewConsultation{Kind: consult.Question, ItemCode: noHousing, Text: "无房证明可以帮父母代办吗？", ContactPhone: "13800000003"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.consults.Answer(ctx, staffPrincipal(t, a, "reviewer.realestate"), c.ID, "可以，凭父母的授权委托书在网上申请。"); err != nil {
			t.Fatal(err)
		}
	}
	q := url.Values{}
	for k, v := range startupForm() {
		if strings.HasPrefix(k, "situation_") {
			q[k] = v
		}
	}
	more := map[string][]string{"clerk": {draft}, "": {link}, demo.ZhangSan: {"/bundles/business_startup/form?" + q.Encode(), "/bundles/retirement/form?situation_want_fund=yes"}}
	// The closed rectification, on the lists of all states, and its token page.
	for _, who := range []string{"supervisor", "reviewer.civil", "head.civil"} {
		more[who] = append(more[who], "/workbench/rectifications?state=all")
	}
	more[""] = append(more[""], "/rate/"+a.ratings.Token(rects[0].ApplicationID, personOf(t, a, demo.ZhangSan).PersonID))
	var n int
	if err := a.identities.DB().QueryRowContext(ctx, `SELECT count(*) FROM applications`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"clerk", "reviewer.civil", "head.civil", "reviewer.realestate", "reviewer.tax", "supervisor"} {
		for id := range n {
			more[who] = append(more[who], fmt.Sprintf("/workbench/applications/%d", id+1))
		}
	}
	return more
}

// applyForSeniorCard has a person apply for the senior card through the
// wizard's pages; it returns the application's address and the page shown
// after submitting.
func applyForSeniorCard(t testing.TB, h http.Handler, hd map[string]string) (string, string) {
	t.Helper()
	_, start := page(t, h, hd, "GET", "/apply/"+seniorCard, nil)
	formPath, _ := page(t, h, hd, "POST", "/apply/"+seniorCard, url.Values{"consent": {"yes"}, "idempotency_key": {hiddenKey.FindStringSubmatch(start)[1]}})
	appPath := strings.Split(formPath, "?")[0]
	page(t, h, hd, "POST", appPath+"/form", url.Values{"f_delivery": {"electronic"}})
	_, confirm := page(t, h, hd, "GET", appPath+"?step=confirm", nil)
	_, decided := page(t, h, hd, "POST", appPath+"/submit", url.Values{"idempotency_key": {hiddenKey.FindStringSubmatch(confirm)[1]}, "revision": {hiddenRev.FindStringSubmatch(confirm)[1]}})
	return appPath, decided
}

// crawlSession signs who in: "" is a visitor, "kiosk" 王五 at the kiosk.
func crawlSession(t *testing.T, h http.Handler, who string) map[string]string {
	t.Helper()
	switch who {
	case "":
		return map[string]string{}
	case "kiosk": // the sign-in form's CSRF cookie and token first
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/kiosk", nil))
		token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(rec.Body.String())
		var cookies []string
		for _, c := range rec.Result().Cookies() {
			cookies = append(cookies, c.Name+"="+c.Value)
		}
		if token == nil {
			t.Fatalf("the kiosk sign-in has no CSRF token:\n%s", rec.Body)
		}
		req := httptest.NewRequest("POST", "/kiosk/session", strings.NewReader(url.Values{"id_number": {demo.WangWu}, "pin": {kiosk.DemoPIN}, "csrf_token": {token[1]}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", strings.Join(cookies, "; "))
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		for _, c := range rec.Result().Cookies() {
			cookies = append(cookies, c.Name+"="+c.Value)
		}
		hd := map[string]string{"Cookie": strings.Join(cookies, "; ")}
		if _, home := page(t, h, hd, "GET", "/kiosk", nil); strings.Contains(home, `id="kiosk-signout"`) {
			return hd
		}
		t.Fatalf("kiosk sign-in: %d %s", rec.Code, rec.Body)
	}
	return signIn(t, h, who)
}

var (
	hrefs = regexp.MustCompile(`href="([^"]+)"`)
	// crawlSkip are links the crawl does not follow: files, the API, the
	// language switch (the crawl sets the language itself) and sign-out.
	crawlSkip = regexp.MustCompile(`^/(static|api)/|\.(pdf|json)$|lang=|logout|signout|/\.well-known/`)
	// crawlKind is a page's address with its ids and codes taken out.
	crawlKind = regexp.MustCompile(`/[^/?]*[0-9][^/?]*`)
)

// crawl visits the pages who can reach in lang, at most a few of a kind,
// and returns what the detector found, page by page.
func crawl(t *testing.T, h http.Handler, hd map[string]string, who, lang string, d *detector, seen map[string]bool, more []string) []string {
	t.Helper()
	queue := append([]string{"/", "/workbench", "/workbench/intake", "/workbench/overdue", "/admin", "/kiosk", "/notices", "/me", "/me/invitations", "/items", "/search?q=证明"}, more...)
	kinds := map[string]int{}
	perKind := 6 // pages of a kind (an address with its ids taken out) a role visits
	if who == "" {
		perKind = 100 // the visitor reads every guide
	}
	var findings []string
	for n := 0; len(queue) > 0 && n < 400; n++ {
		p := queue[0]
		queue = queue[1:]
		kind := crawlKind.ReplaceAllString(p, "/{}")
		own, public := lang+" "+who+" "+p, lang+" "+p
		if seen[own] || kinds[kind] >= perKind {
			continue
		}
		seen[own] = true
		if strings.HasPrefix(p, "/items") || strings.HasPrefix(p, "/search") || strings.HasPrefix(p, "/verify/") {
			if seen[public] {
				continue
			}
			seen[public] = true
		}
		kinds[kind]++
		if testing.Verbose() {
			t.Log(lang, who, p)
		}
		req := httptest.NewRequest("GET", p, nil)
		for k, v := range hd {
			req.Header.Set(k, v)
		}
		req.Header.Set("Cookie", strings.Trim(hd["Cookie"]+"; lang="+lang, "; "))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			findings = append(findings, fmt.Sprintf("%s %s as %q: status %d", lang, p, who, rec.Code))
		}
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			continue
		}
		body := rec.Body.String()
		if found := d.check(body, lang); len(found) > 0 {
			findings = append(findings, fmt.Sprintf("%s %s as %q:\n\t%s", lang, p, who, strings.Join(found, "\n\t")))
		}
		for _, m := range hrefs.FindAllStringSubmatch(body, -1) {
			link := html.UnescapeString(m[1])
			link, _, _ = strings.Cut(link, "#")
			if strings.HasPrefix(link, "/") && !strings.HasPrefix(link, "//") && !crawlSkip.MatchString(link) {
				queue = append(queue, link)
			}
		}
	}
	total := 0
	for _, n := range kinds {
		total += n
	}
	t.Logf("%s as %q: %d pages of %d kinds", lang, who, total, len(kinds))
	return findings
}

// detector finds what a person should not read on a page.
type detector struct {
	codes   map[string]bool // internal codes: the label table's and the catalogue's
	chinese map[string]bool // the label table's Chinese words: on an English page, a label in the wrong language
	allow   map[string]bool // words allowed on a Chinese page
}

func newDetector(t *testing.T) *detector {
	t.Helper()
	d := &detector{codes: map[string]bool{}, chinese: map[string]bool{}, allow: map[string]bool{}}
	for kind, codes := range web.Codes() {
		for _, c := range codes {
			d.codes[c] = true
			d.chinese[web.Label("zh", kind, c)] = true
		}
	}
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		t.Fatal(err)
	}
	c, problems := schemas.LoadFS(democatalog.Demo)
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	for _, dep := range c.Departments {
		d.codes[dep.Code] = true
	}
	for _, l := range c.Licences {
		d.codes[l.Code] = true
	}
	var fields func([]catalog.Field)
	fields = func(fs []catalog.Field) {
		for _, f := range fs {
			for _, o := range f.Options {
				d.codes[o.Value] = true
			}
			fields(f.Columns)
		}
	}
	for _, it := range c.Items {
		fields(it.Item.Form)
		for _, s := range it.Item.Situations {
			for _, a := range s.Answers {
				d.codes[a.Value] = true
			}
		}
		for _, m := range it.Item.Materials {
			d.codes[m.ID] = true
		}
	}
	// Proper names: acronyms, the platform's name, the demo accounts' login
	// names (clerk and supervisor are role codes too: the other roles'
	// codes still show a role printed as it is) and the sysadmin's display
	// name (a role's Chinese label too).
	for _, w := range []string{"PDF", "OFD", "ID", "QR", "API", "yiwang", "English", "OpenAPI", "PIN", "CEL", "YAML", "SM2", "SM3", "GB", "T", "A", "B", "C", "D",
		"clerk", "reviewer.civil", "head.civil", "reviewer.realestate", "reviewer.tax", "reviewer.fuan", "supervisor", "catalog.admin", "sysadmin",
		"reviewer.amr", "系统管理员"} {
		d.allow[w] = true
	}
	return d
}

var (
	// Scripts and styles are not read, nor what a person types into a text
	// area, nor commands and identifiers set as <code>.
	scripts  = regexp.MustCompile(`(?is)<(script|style|textarea|code)\b.*?</(script|style|textarea|code)>`)
	tags     = regexp.MustCompile(`(?s)<[^>]*>`)
	shownAtt = regexp.MustCompile(`\b(?:title|placeholder|aria-label|alt)="([^"]*)"`)
	words    = regexp.MustCompile(`[A-Za-z0-9_.:@/+-]*[A-Za-z][A-Za-z0-9_.:@/+-]*`)
	goDumps  = regexp.MustCompile(`\{[^{}\s]*\s[^{}]*\}|\{\}|map\[|&\{|<nil>|%!`)
	utcTimes = regexp.MustCompile(`\bUTC\b|\+0000|\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?(\.\d+)?Z`)
	// What the Content-Security-Policy (script-src 'self') would block: a
	// <script> without src, an on* attribute, a javascript: link.
	scriptTags = regexp.MustCompile(`(?i)<script\b[^>]*>`)
	handlers   = regexp.MustCompile(`(?i)<[a-z][^>]*\s(on[a-z]+\s*=|href\s*=\s*"javascript:)`)
)

// check returns what a person should not read on the page, in the order found.
func (d *detector) check(page, lang string) []string {
	var out []string
	add := func(what, s string) {
		if f := what + " " + s; !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	for _, tag := range scriptTags.FindAllString(page, -1) {
		if !strings.Contains(tag, " src=") {
			add("inline script, which the CSP blocks:", tag)
		}
	}
	for _, m := range handlers.FindAllStringSubmatch(page, -1) {
		add("script in an attribute, which the CSP blocks:", m[1])
	}
	page = scripts.ReplaceAllString(page, " ")
	var texts []string // each text node and shown attribute, unescaped
	for _, m := range shownAtt.FindAllStringSubmatch(page, -1) {
		texts = append(texts, html.UnescapeString(m[1]))
	}
	for _, s := range tags.Split(page, -1) {
		if s = strings.TrimSpace(html.UnescapeString(s)); s != "" {
			texts = append(texts, s)
		}
	}
	for _, s := range texts {
		if m := goDumps.FindString(s); m != "" {
			add("Go value", strings.TrimSpace(m)+" in "+clip(s))
		}
		if strings.Contains(s, "0001-01-01") {
			add("zero date", clip(s))
		}
		if m := utcTimes.FindString(s); m != "" {
			add("UTC time", m+" in "+clip(s))
		}
		if lang == "en" && d.codes[s] && !d.allow[s] {
			add("code", fmt.Sprintf("%q", s))
		}
		if lang == "en" && d.chinese[s] && !d.allow[s] {
			add("Chinese label", fmt.Sprintf("%q", s))
		}
		for _, w := range words.FindAllString(s, -1) {
			w = strings.Trim(w, ".:/-+")
			switch {
			case w == "" || d.allow[w] || strings.Contains(w, "@") || strings.HasPrefix(w, "http") || strings.HasPrefix(w, "/"):
			case strings.ContainsAny(w, "_:") || (lang == "zh" && d.codes[w]):
				add("code", fmt.Sprintf("%q in %s", w, clip(s)))
			case lang == "zh" && !strings.ContainsAny(w, "0123456789") && !acronym(w):
				add("English word", fmt.Sprintf("%q in %s", w, clip(s)))
			}
		}
	}
	return out
}

// acronym: all capitals, up to four letters (SM, GB, OFD).
func acronym(w string) bool {
	return len(w) <= 4 && strings.ToUpper(w) == w
}

func clip(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}
