package main

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"yiwang/internal/authz"
	"yiwang/internal/demo"
	"yiwang/internal/jobs"
	"yiwang/internal/kiosk"
	"yiwang/internal/logging"
	"yiwang/internal/notify"
)

// The principals every route is tried as.
const (
	anon       = "anonymous"
	applicant  = "applicant"  // 王五, acting for himself
	legalRep   = "legal_rep"  // 张三, acting for 示范科技有限公司
	agent      = "agent"      // 李四, acting for the company under an authorisation
	clerk      = "clerk"      // window clerk
	reviewer   = "reviewer"   // civil affairs reviewer
	head       = "head"       // civil affairs head
	supervisor = "supervisor" // 电子监察
	catAdmin   = "catalog_admin"
	sysAdmin   = "sys_admin"
	system     = "system" // another government system's API token, scope catalog:manage
)

var everyone = []string{anon, applicant, legalRep, agent, clerk, reviewer, head, supervisor, catAdmin, sysAdmin, system}

// access says who may pass a route's access check. The request is sent as
// written; a handler may still refuse it for its content (400, 404, 409),
// which counts as passing the access check — the check is that nobody else
// gets through (401, 403, or a redirect to sign in).
type access struct {
	method, path, body string
	allowed            []string // nil means everyone
	fresh              bool     // ends the session: use a new one
	keyed              bool     // needs an Idempotency-Key: each request sends a new one
}

// accessTable has an entry for every route that takes no object of an owner
// or a department; those are in objectRoutes, tried on real objects
// (TestObjectAccessAcrossOwnersAndDepartments). Adding a route without an
// entry in either fails TestEveryRouteHasAnAccessRule. Bodies may use
// {company} for the demo company's credit code.
var accessTable = map[string]access{
	"GET /healthz":                   {path: "/healthz"},
	"GET /readyz":                    {path: "/readyz"},
	"GET /metrics":                   {path: "/metrics"},
	"GET /api/v1/openapi.yaml":       {path: "/api/v1/openapi.yaml"},
	"/api/":                          {method: "GET", path: "/api/v1/nothing-here"},
	"GET /api/v1/regions":            {path: "/api/v1/regions"},
	"GET /api/v1/departments":        {path: "/api/v1/departments"},
	"GET /api/v1/departments/{code}": {path: "/api/v1/departments/civil"},
	"GET /api/v1/items":              {path: "/api/v1/items"},
	"GET /api/v1/halls":              {path: "/api/v1/halls"},
	"PUT /api/v1/admin/halls/{code}": {path: "/api/v1/admin/halls/test-hall", body: `{"region_code":"910102","name_zh":"测试大厅","name_en":"Test hall"}`, allowed: []string{sysAdmin}},
	"PUT /api/v1/admin/halls/{code}/windows/{number}": {path: "/api/v1/admin/halls/test-hall/windows/9", body: `{"name_zh":"测试窗口","name_en":"Test window"}`, allowed: []string{sysAdmin}},
	"GET /api/v1/items/{code}":                        {path: "/api/v1/items/" + seniorCard},
	"GET /api/v1/catalog/schema.json":                 {path: "/api/v1/catalog/schema.json"},
	"GET /api/v1/search":                              {path: "/api/v1/search?q=%E8%80%81%E4%BA%BA"},
	"GET /api/v1/search/hot":                          {path: "/api/v1/search/hot"},
	"GET /items":                                      {path: "/items"},
	"GET /items/{code}":                               {path: "/items/" + seniorCard},
	"GET /search":                                     {path: "/search"},
	"GET /static/":                                    {path: "/static/site.css"},
	"GET /{$}":                                        {path: "/"},
	"GET /login":                                      {path: "/login"},
	"POST /login":                                     {body: "login=clerk&password=" + demo.Password, fresh: true},

	"POST /api/v1/admin/catalog/import":                                  {body: "{}", allowed: []string{catAdmin, system}},
	"GET /api/v1/admin/catalog/items/{code}/versions":                    {path: "/api/v1/admin/catalog/items/" + seniorCard + "/versions", allowed: []string{catAdmin, system}},
	"GET /api/v1/admin/catalog/items/{code}/versions/{version}":          {path: "/api/v1/admin/catalog/items/" + seniorCard + "/versions/1", allowed: []string{catAdmin, system}},
	"POST /api/v1/admin/catalog/items/{code}/versions/{version}/publish": {path: "/api/v1/admin/catalog/items/" + seniorCard + "/versions/1/publish", allowed: []string{catAdmin, system}},
	"POST /api/v1/admin/catalog/items/{code}/retire":                     {path: "/api/v1/admin/catalog/items/" + propertyTransfer + "/retire", allowed: []string{catAdmin, system}},
	"GET /api/v1/admin/catalog/items/{code}/diff":                        {path: "/api/v1/admin/catalog/items/" + seniorCard + "/diff?from=1&to=1", allowed: []string{catAdmin, system}},
	"POST /api/v1/admin/catalog/items/{code}/simulations":                {path: "/api/v1/admin/catalog/items/" + seniorCard + "/simulations", body: `{"version_id":1,"since":"2026-01-01"}`, allowed: []string{catAdmin, system}},
	"GET /api/v1/admin/simulations/{id}":                                 {path: "/api/v1/admin/simulations/1", allowed: []string{catAdmin, system}},
	"POST /admin/catalog/{code}/simulations":                             {path: "/admin/catalog/" + seniorCard + "/simulations", body: "version=1&since=2026-01-01", allowed: []string{catAdmin, system}},
	"GET /admin/simulations/{id}":                                        {path: "/admin/simulations/1", allowed: []string{catAdmin, system}},

	"POST /api/v1/session":   {body: `{"login":"clerk","password":"` + demo.Password + `"}`, fresh: true},
	"DELETE /api/v1/session": {allowed: signedIn(), fresh: true},
	"GET /api/v1/me":         {allowed: signedIn()},
	"GET /me":                {allowed: signedIn()},
	"POST /logout":           {allowed: signedIn(), fresh: true},
	"POST /api/v1/accounts":  {body: `{"id_number":"110105194912310021","name":"x","password":"long-enough-pw"}`},
	// Raising a real-name level in person: a window clerk only.
	"POST /api/v1/identity-checks": {body: `{}`, allowed: []string{clerk}},
	// Acting for an enterprise: its legal representative and its agent, no one else.
	"PUT /api/v1/me/acting-for": {body: `{"credit_code":"{company}"}`, allowed: []string{legalRep, agent}},
	// Only a legal representative acting for the company may see or change its authorisations.
	"GET /api/v1/me/authorisations":  {allowed: []string{legalRep}},
	"POST /api/v1/me/authorisations": {body: `{}`, allowed: []string{legalRep}},
	// Unmasked personal data: staff with a need, never the person next door.
	"GET /api/v1/admin/pii-access": {allowed: []string{supervisor, sysAdmin}},
	"POST /api/v1/admin/accounts":  {body: `{}`, allowed: []string{sysAdmin}},
	"GET /api/v1/sources":          {path: "/api/v1/sources"},
	// Applications: a person's own; someone else's is not found.
	"POST /api/v1/applications":                               {body: `{"item_code":"` + seniorCard + `","consent":true}`, allowed: []string{applicant}},
	"POST /api/v1/submissions":                                {body: `{"item_code":"` + seniorCard + `","consent":true,"form":{"delivery":"electronic"}}`, keyed: true, allowed: []string{applicant}},
	"GET /api/v1/applications":                                {allowed: []string{applicant, legalRep, agent}},
	"PUT /api/v1/admin/catalog/items/{code}/machine-approval": {path: "/api/v1/admin/catalog/items/" + seniorCard + "/machine-approval", body: `{"suspended":false,"reason":"test"}`, allowed: []string{supervisor, catAdmin}},
	"GET /api/v1/admin/spot-checks":                           {allowed: []string{supervisor}},
	"GET /api/v1/supervision/overdue":                         {allowed: []string{supervisor, sysAdmin}},
	"GET /api/v1/supervision/proactive-sweeps":                {allowed: []string{supervisor}},
	"GET /api/v1/me/credit":                                   {allowed: []string{applicant, legalRep, agent}},
	"POST /api/v1/me/credit/repairs":                          {body: `{"record_id":999999,"pledge":true}`, allowed: []string{applicant, legalRep, agent}},
	"GET /me/credit":                                          {allowed: []string{applicant, legalRep, agent}},
	"POST /me/credit/repairs":                                 {body: "record_id=999999&pledge=yes", allowed: []string{applicant, legalRep, agent}},
	"GET /workbench/credit-repairs":                           {allowed: []string{head}},
	"GET /api/v1/supervision/board":                           {allowed: []string{supervisor}},
	"POST /api/v1/supervision/board/{department}/alert":       {path: "/api/v1/supervision/board/civil/alert", allowed: []string{supervisor}},
	"POST /api/v1/me/eligibility":                             {body: `{"consent":true}`, allowed: []string{applicant, legalRep, agent}},
	// Spot checks (双随机一公开): inspectors list theirs, supervisors all and switch departments; the results are public.
	"GET /api/v1/spot-checks":                               {allowed: []string{reviewer, head}},
	"GET /api/v1/spot-checks/public":                        {path: "/api/v1/spot-checks/public?department=civil&period=2026-12"},
	"PUT /api/v1/admin/departments/{code}/machine-approval": {path: "/api/v1/admin/departments/civil/machine-approval", body: `{"suspended":false,"reason":"test"}`, allowed: []string{supervisor, catAdmin}},
	"GET /workbench/spot-checks":                            {allowed: []string{reviewer, head, supervisor}},
	"POST /workbench/spot-checks/department-switch":         {body: "department=civil&suspended=false&reason=test", allowed: []string{supervisor, catAdmin}},
	"GET /spot-checks":                                      {path: "/spot-checks"},
	"GET /api/v1/insight/dashboard":                         {allowed: []string{head, supervisor}},
	"GET /workbench/insight":                                {allowed: []string{head, supervisor}},
	"GET /workbench/insight/export.csv":                     {allowed: []string{head, supervisor}},
	"GET /workbench/insight/export.xlsx":                    {allowed: []string{head, supervisor}},
	"GET /stats":                                            {path: "/stats"},
	// The workflow: applicants on their own applications, staff on the tasks of their inbox.
	"GET /api/v1/tasks":                {allowed: []string{clerk, reviewer, head}},
	"POST /api/v1/window/applications": {body: `{}`, allowed: []string{clerk}},
	"GET /api/v1/me/data-reads":        {allowed: []string{applicant, legalRep, agent}},
	// Everyone signed in has an inbox; a message is only its recipient's.
	"GET /api/v1/me/notifications": {allowed: signedIn()},
	// Everyone signed in chooses their own channels; failed deliveries are the system administrator's.
	"GET /api/v1/me/notification-channels":   {allowed: signedIn()},
	"PATCH /api/v1/me/notification-channels": {body: `{}`, allowed: signedIn()},
	"GET /api/v1/admin/notifications/failed": {allowed: []string{sysAdmin}},
	"GET /admin/notifications":               {allowed: []string{sysAdmin}},
	"POST /api/v1/admin/notifications/retry": {body: `{"channel":"webhook"}`, allowed: []string{sysAdmin}},
	"POST /admin/notifications/retry":        {body: `channel=webhook`, allowed: []string{sysAdmin}},
	"POST /me/notification-channels":         {body: `stop=email`, allowed: signedIn()},
	"GET /api/v1/admin/tokens":               {allowed: []string{sysAdmin}},
	"POST /api/v1/admin/tokens":              {body: `{}`, allowed: []string{sysAdmin}},
	// The working-day calendar: anyone reads it, a system administrator loads a year.
	"GET /api/v1/calendar/{year}":       {path: "/api/v1/calendar/2026"},
	"GET /api/v1/calendar/deadline":     {path: "/api/v1/calendar/deadline?from=2026-12-07&days=20"},
	"PUT /api/v1/admin/calendar/{year}": {path: "/api/v1/admin/calendar/2030", body: `{}`, allowed: []string{sysAdmin}},
	// E-licences: verification and seal keys are public; revocation is for heads and supervisors.
	"GET /.well-known/yiwang-seal-keys.json": {path: "/.well-known/yiwang-seal-keys.json"},
	"POST /api/v1/licences/verify":           {body: `{}`},
	"GET /api/v1/me/licences":                {allowed: []string{applicant, legalRep, agent}},
	// Approval modes: applicants on their own drafts; co-parties answer for themselves; anyone reads
	// the public notices and any signed-in person may object; reviewers inspect and review objections.
	"GET /api/v1/me/invitations": {allowed: []string{applicant, legalRep, agent}},
	"GET /api/v1/notices":        {path: "/api/v1/notices"},
	"GET /notices":               {path: "/notices"},
	"GET /me/invitations":        {allowed: []string{applicant, legalRep, agent}},
	// The citizen pages (internal/portal): elder mode for anyone, the rest on one's own affairs.
	"POST /elder":          {body: "on=1&next=/"},
	"GET /apply/{code}":    {path: "/apply/" + seniorCard, allowed: []string{applicant, legalRep, agent}},
	"POST /apply/{code}":   {path: "/apply/" + seniorCard, body: "consent=yes", allowed: []string{applicant}},
	"GET /me/applications": {allowed: []string{applicant, legalRep, agent}},
	// Bundles (一件事): the definitions are public; applying is a person's own
	// (企业开办 is applied for by the founder, not while acting for a company).
	"GET /api/v1/bundles":                                   {},
	"GET /api/v1/bundles/{code}":                            {path: "/api/v1/bundles/business_startup"},
	"POST /api/v1/bundles/{code}/cases":                     {path: "/api/v1/bundles/business_startup/cases", body: `{}`, allowed: []string{applicant}},
	"GET /api/v1/bundle-cases":                              {allowed: []string{applicant, legalRep, agent}},
	"GET /bundles/{code}":                                   {path: "/bundles/business_startup"},
	"GET /bundles/{code}/form":                              {path: "/bundles/business_startup/form", allowed: []string{applicant, legalRep, agent}},
	"POST /bundles/{code}":                                  {path: "/bundles/business_startup", body: "x=1", allowed: []string{applicant}},
	"GET /me/licences":                                      {allowed: []string{applicant, legalRep, agent}},
	"GET /me/notifications":                                 {allowed: signedIn()},
	"GET /me/data-reads":                                    {allowed: []string{applicant, legalRep, agent}},
	"GET /workbench":                                        {allowed: []string{clerk, reviewer, head}},
	"GET /workbench/intake":                                 {allowed: []string{clerk}},
	"POST /workbench/intake":                                {body: "item=NO-SUCH-ITEM", allowed: []string{clerk}},
	"POST /workbench/identity-check":                        {body: "identity_checked=yes&id_number=bad", allowed: []string{clerk}},
	"GET /admin":                                            {allowed: signedIn()},
	"GET /admin/catalog":                                    {allowed: []string{catAdmin, system}},
	"GET /admin/catalog/{code}":                             {path: "/admin/catalog/" + seniorCard, allowed: []string{catAdmin, system}},
	"GET /me/eligible":                                      {allowed: []string{applicant, legalRep, agent}},
	"POST /me/eligible":                                     {body: "consent=yes", allowed: []string{applicant, legalRep, agent}},
	"GET /workbench/proactive":                              {allowed: []string{supervisor}},
	"GET /workbench/supervision":                            {allowed: []string{supervisor}},
	"POST /workbench/supervision/{department}/alert":        {path: "/workbench/supervision/civil/alert", body: "x=1", allowed: []string{supervisor}},
	"POST /admin/catalog/{code}/versions/{version}/publish": {path: "/admin/catalog/" + seniorCard + "/versions/1/publish", body: "x=1", allowed: []string{catAdmin, system}},
	"GET /admin/catalog/{code}/try":                         {path: "/admin/catalog/" + seniorCard + "/try", allowed: []string{catAdmin, system}},
	"POST /admin/catalog/{code}/try":                        {path: "/admin/catalog/" + seniorCard + "/try", body: "version=1", allowed: []string{catAdmin, system}},
	"GET /admin/accounts":                                   {allowed: []string{sysAdmin}},
	"GET /admin/calendar":                                   {allowed: []string{sysAdmin}},
	"POST /admin/calendar":                                  {body: "notice=year%3A+x", allowed: []string{sysAdmin}},
	"GET /kiosk":                                            {path: "/kiosk"},
	"POST /kiosk/session":                                   {body: "id_number=" + demo.WangWu + "&pin=" + kiosk.DemoPIN, fresh: true},
	"POST /kiosk/signout":                                   {body: "x=1", fresh: true},
	"GET /kiosk/items/{code}":                               {path: "/kiosk/items/" + noHousing, allowed: []string{applicant, legalRep, agent}},
	"POST /kiosk/items/{code}":                              {path: "/kiosk/items/" + noHousing, body: "consent=no", allowed: []string{applicant, legalRep, agent}},
	"GET /workbench/overdue":                                {allowed: []string{supervisor, sysAdmin}},

	// 好差评 (internal/rating): public figures and token pages (a token that
	// is not valid is not found for everyone), the departments' and the
	// supervisors' rectifications, phone ratings by supervisors.
	"GET /ratings":                  {},
	"GET /api/v1/ratings/summary":   {},
	"GET /rate/{token}":             {path: "/rate/1-1-0"},
	"POST /rate/{token}":            {path: "/rate/1-1-0", body: "stars=5"},
	"POST /rate/{token}/verdict":    {path: "/rate/1-1-0/verdict", body: "verdict=satisfied"},
	"GET /rate/{token}/qr":          {path: "/rate/1-1-0/qr"},
	"GET /kiosk/rate/{token}":       {path: "/kiosk/rate/1-1-0"},
	"POST /kiosk/rate/{token}":      {path: "/kiosk/rate/1-1-0", body: "stars=5"},
	"GET /workbench/rectifications": {allowed: []string{reviewer, head, supervisor}},
	"GET /api/v1/rectifications":    {allowed: []string{reviewer, head, supervisor}},
	"POST /workbench/ratings/phone": {body: "number=none&stars=5", allowed: []string{supervisor}},

	// The wizard's approval-mode steps (internal/portal/modes.go).

	// The workbench's approval-mode intake and further actions (internal/workbench/actions.go).

	// 我要问、我要投诉: anyone may ask, complain and follow up with a code;
	// department staff and supervisors list them; catalogue administrators
	// see the frequent questions.
	"POST /api/v1/consultations":          {body: `{}`},
	"POST /api/v1/consultations/track":    {body: `{"code":""}`},
	"GET /api/v1/me/consultations":        {allowed: []string{applicant, legalRep, agent}},
	"GET /api/v1/staff/consultations":     {allowed: []string{clerk, reviewer, head, supervisor}},
	"GET /ask":                            {},
	"POST /ask":                           {body: "step=match&text=x"},
	"GET /complain":                       {},
	"POST /complain":                      {body: "kind=x"},
	"GET /complain/track":                 {},
	"POST /complain/track":                {body: "code="},
	"POST /complain/track/rating":         {body: "code=&rating=satisfied"},
	"GET /me/consultations":               {allowed: []string{applicant, legalRep, agent}},
	"GET /workbench/consultations":        {allowed: []string{clerk, reviewer, head, supervisor}},
	"GET /admin/faq-suggestions":          {allowed: []string{catAdmin, system}},
	"POST /admin/faq-suggestions/dismiss": {body: "item=&key=", allowed: []string{catAdmin, system}},
}

func signedIn() []string {
	return []string{applicant, legalRep, agent, clerk, reviewer, head, supervisor, catAdmin, sysAdmin, system}
}

func TestEveryRouteHasAnAccessRule(t *testing.T) {
	srv, _ := demoServer(t)
	for _, r := range srv.Router().Routes() {
		_, ok := accessTable[r.Pattern]
		_, object := objectRoutes[r.Pattern]
		if ok == object {
			t.Errorf("route %q (permission %s) has %d entries in accessTable and objectRoutes: say who may use it, in one of them (objectRoutes for a route on an object of an owner or a department)", r.Pattern, r.Permission, map[bool]int{true: 1}[ok]+map[bool]int{true: 1}[object])
		}
	}
}

// TestAccessByRole tries every route of accessTable as every kind of principal.
func TestAccessByRole(t *testing.T) {
	srv, a := demoServer(t)
	h := srv.Handler()
	logins := map[string]string{applicant: demo.WangWu, legalRep: demo.ZhangSan, agent: demo.LiSi, clerk: "clerk", reviewer: "reviewer.civil",
		head: "head.civil", supervisor: "supervisor", catAdmin: "catalog.admin", sysAdmin: "sysadmin"}
	headers := map[string]map[string]string{anon: {}}
	session := func(who string) map[string]string {
		hd := signIn(t, h, logins[who])
		if who == legalRep || who == agent {
			code, body, _ := call(t, h, "PUT", "/api/v1/me/acting-for", strings.NewReader(`{"credit_code":"`+demo.DemoCompany+`"}`), withJSON(hd))
			if code != 200 {
				t.Fatalf("%s cannot act for the demo company: %d %v", who, code, body)
			}
		}
		return hd
	}
	for who := range logins {
		headers[who] = session(who)
	}
	headers[system], _ = systemToken(t, a)

	ids := strings.NewReplacer("{company}", demo.DemoCompany)

	for _, route := range srv.Router().Routes() {
		rule, ok := accessTable[route.Pattern]
		if !ok {
			continue // reported by TestEveryRouteHasAnAccessRule
		}
		method, path, _ := strings.Cut(route.Pattern, " ")
		if rule.method != "" {
			method = rule.method
		}
		if rule.path != "" {
			path = rule.path
		}
		path = ids.Replace(path)
		for _, who := range everyone {
			hd := headers[who]
			if rule.fresh && who != anon && who != system {
				hd = session(who)
			}
			hd = copyHeaders(hd)
			if rule.body != "" {
				if strings.HasPrefix(rule.body, "{") {
					hd["Content-Type"] = "application/json"
				} else {
					hd["Content-Type"] = "application/x-www-form-urlencoded"
					if who == anon {
						hd["Cookie"] = "yiwang_csrf=" + strings.Repeat("c", 43)
						hd["X-CSRF-Token"] = strings.Repeat("c", 43)
					}
				}
			}
			if rule.keyed {
				hd["Idempotency-Key"] = "access-" + who
			}
			req := httptest.NewRequest(method, path, strings.NewReader(ids.Replace(rule.body)))
			for k, v := range hd {
				req.Header.Set(k, v)
			}
			rec := contract.Serve(t, h, req)
			denied := rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden ||
				(rec.Code == http.StatusSeeOther && strings.HasPrefix(rec.Header().Get("Location"), "/login"))
			// A handler's own refusal (e.g. not the legal representative) is a 403 too.
			want := rule.allowed == nil || contains(rule.allowed, who)
			if want && denied {
				t.Errorf("%s %s as %s: refused with %d %s, want allowed", method, path, who, rec.Code, firstLine(rec.Body.String()))
			}
			if !want && !denied {
				t.Errorf("%s %s as %s: got %d, want refused", method, path, who, rec.Code)
			}
		}
	}
}

// systemToken makes another government system's account, a catalogue
// administrator, and returns the headers of its API token (scope
// catalog:manage) and the account's id.
func systemToken(t *testing.T, a *app) (map[string]string, int64) {
	t.Helper()
	ctx := context.Background()
	sys, err := a.identities.CreateSystem(ctx, "province-catalogue", []authz.Role{authz.CatalogAdmin}, 0)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := a.identities.IssueToken(ctx, sys.ID, "sync", []authz.Permission{authz.CatalogManage}, timeNowPlusDays(30), 0)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"Authorization": "Bearer " + secret}, sys.ID
}

// notifyAndDeliver sends m through the app's outbox and works the job queue,
// as serve does, until it is delivered; it returns the message's id.
// workJobs works the app's background jobs, as serve does, until the test ends.
func workJobs(t *testing.T, a *app) {
	t.Helper()
	ctx := context.Background()
	db := a.identities.DB()
	ws := jobs.NewWorkers()
	registerWorkers(ws, db, a)
	q, err := jobs.New(db, ws, logging.New(io.Discard, "text", 0), jobs.Config{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Stop(ctx) })
}

func notifyAndDeliver(t *testing.T, a *app, m notify.Message) int64 {
	t.Helper()
	ctx := context.Background()
	db := a.identities.DB()
	var id int64
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = a.outbox.Send(ctx, tx, m)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	workJobs(t, a)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var status string
		if err := db.QueryRowContext(ctx, `SELECT status FROM outbox_messages WHERE id = $1`, id).Scan(&status); err != nil {
			t.Fatal(err)
		}
		if status == notify.StatusDelivered {
			return id
		}
		if time.Now().After(deadline) {
			t.Fatalf("notification %d still %s: is its worker registered in registerWorkers?", id, status)
		}
	}
}

func withJSON(h map[string]string) map[string]string {
	c := copyHeaders(h)
	c["Content-Type"] = "application/json"
	return c
}

func copyHeaders(h map[string]string) map[string]string {
	c := map[string]string{}
	for k, v := range h {
		c[k] = v
	}
	return c
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	if len(l) > 200 {
		l = l[:200]
	}
	return l
}

func timeNowPlusDays(n int) time.Time { return time.Now().AddDate(0, 0, n) }
