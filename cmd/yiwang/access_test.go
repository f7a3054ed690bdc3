package main

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
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
	owned              bool     // someone else's record answers 404, which counts as refused
}

// accessTable has an entry for every route. Adding a route without one fails
// TestEveryRouteHasAnAccessRule. Paths and bodies may use {zhang} for Zhang
// San's person id, {authz} for the demo company's authorisation id,
// {company} for its credit code, {app} for Wang Wu's application and {note}
// for a notification to him.
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
	"POST /api/v1/admin/catalog/items/{code}/retire":                     {path: "/api/v1/admin/catalog/items/NO-SUCH-ITEM/retire", allowed: []string{catAdmin, system}},
	"GET /api/v1/admin/catalog/items/{code}/diff":                        {path: "/api/v1/admin/catalog/items/" + seniorCard + "/diff?from=1&to=1", allowed: []string{catAdmin, system}},

	"POST /api/v1/session":   {body: `{"login":"clerk","password":"` + demo.Password + `"}`, fresh: true},
	"DELETE /api/v1/session": {allowed: signedIn(), fresh: true},
	"GET /api/v1/me":         {allowed: signedIn()},
	"GET /me":                {allowed: signedIn()},
	"POST /logout":           {allowed: signedIn(), fresh: true},
	"POST /api/v1/accounts":  {body: `{"id_number":"110105194912310021","name":"x","password":"long-enough-pw"}`},
	// Acting for an enterprise: its legal representative and its agent, no one else.
	"PUT /api/v1/me/acting-for": {body: `{"credit_code":"{company}"}`, allowed: []string{legalRep, agent}},
	// Only a legal representative acting for the company may see or change its authorisations.
	"GET /api/v1/me/authorisations":         {allowed: []string{legalRep}},
	"POST /api/v1/me/authorisations":        {body: `{}`, allowed: []string{legalRep}},
	"DELETE /api/v1/me/authorisations/{id}": {path: "/api/v1/me/authorisations/{authz}", allowed: []string{legalRep}},
	// Unmasked personal data: staff with a need, never the person next door.
	"GET /api/v1/persons/{id}":                        {path: "/api/v1/persons/{zhang}?purpose=%E6%A0%B8%E5%AF%B9%E8%BA%AB%E4%BB%BD", allowed: []string{clerk, reviewer, head}},
	"GET /api/v1/admin/pii-access":                    {allowed: []string{supervisor, sysAdmin}},
	"POST /api/v1/admin/accounts":                     {body: `{}`, allowed: []string{sysAdmin}},
	"GET /api/v1/admin/accounts/{id}":                 {path: "/api/v1/admin/accounts/1", allowed: []string{sysAdmin}},
	"POST /api/v1/admin/accounts/{id}/roles":          {path: "/api/v1/admin/accounts/1/roles", body: `{"role":"nonsense"}`, allowed: []string{sysAdmin}},
	"DELETE /api/v1/admin/accounts/{id}/roles/{role}": {path: "/api/v1/admin/accounts/1/roles/nonsense", allowed: []string{sysAdmin}},
	"GET /api/v1/sources":                             {path: "/api/v1/sources"},
	// Applications: a person's own; someone else's is not found.
	"POST /api/v1/applications":                               {body: `{"item_code":"` + seniorCard + `","consent":true}`, allowed: []string{applicant}},
	"GET /api/v1/applications":                                {allowed: []string{applicant, legalRep, agent}},
	"GET /api/v1/applications/{id}":                           {path: "/api/v1/applications/{app}", allowed: []string{applicant}, owned: true},
	"PATCH /api/v1/applications/{id}/form":                    {path: "/api/v1/applications/{app}/form", body: `{}`, allowed: []string{applicant}, owned: true},
	"POST /api/v1/applications/{id}/submit":                   {path: "/api/v1/applications/{app}/submit", body: `{}`, allowed: []string{applicant}, owned: true},
	"GET /api/v1/admin/decisions/{id}":                        {path: "/api/v1/admin/decisions/{app}", allowed: []string{reviewer, head, supervisor}},
	"PUT /api/v1/admin/catalog/items/{code}/machine-approval": {path: "/api/v1/admin/catalog/items/NO-SUCH-ITEM/machine-approval", body: `{"suspended":false,"reason":"test"}`, allowed: []string{supervisor, catAdmin}},
	"GET /api/v1/admin/spot-checks":                           {allowed: []string{supervisor}},
	"GET /api/v1/supervision/overdue":                         {allowed: []string{supervisor, sysAdmin}},
	// The workflow: applicants on their own applications, staff on the tasks of their inbox.
	"POST /api/v1/applications/{id}/correction":                      {path: "/api/v1/applications/{app}/correction", body: `{"form":{}}`, allowed: []string{applicant}, owned: true},
	"POST /api/v1/applications/{id}/withdraw":                        {path: "/api/v1/applications/{app}/withdraw", body: `{}`, allowed: []string{applicant}, owned: true},
	"GET /api/v1/tasks":                                              {allowed: []string{clerk, reviewer, head}},
	"POST /api/v1/tasks/{id}/claim":                                  {path: "/api/v1/tasks/999/claim", allowed: []string{clerk, reviewer, head}},
	"POST /api/v1/tasks/{id}/release":                                {path: "/api/v1/tasks/999/release", allowed: []string{clerk, reviewer, head}},
	"POST /api/v1/tasks/{id}/reassign":                               {path: "/api/v1/tasks/999/reassign", body: `{"account_id":1}`, allowed: []string{clerk, reviewer, head}},
	"POST /api/v1/tasks/{id}/decision":                               {path: "/api/v1/tasks/999/decision", body: `{"outcome":"approve"}`, allowed: []string{clerk, reviewer, head}},
	"POST /api/v1/tasks/{id}/correction":                             {path: "/api/v1/tasks/999/correction", body: `{"items":[{"field":"x","reason":"y"}]}`, allowed: []string{clerk, reviewer, head}},
	"POST /api/v1/tasks/{id}/special-procedure":                      {path: "/api/v1/tasks/999/special-procedure", body: `{"kind":"hearing","reason":"x"}`, allowed: []string{clerk, reviewer, head}},
	"DELETE /api/v1/tasks/{id}/special-procedure":                    {path: "/api/v1/tasks/999/special-procedure", allowed: []string{clerk, reviewer, head}},
	"GET /api/v1/staff/applications/{id}":                            {path: "/api/v1/staff/applications/{app}", allowed: []string{supervisor}, owned: true}, // a clerk never sees a citizen's own draft
	"POST /api/v1/staff/applications/{id}/revoke":                    {path: "/api/v1/staff/applications/999/revoke", body: `{"reason":"x"}`, allowed: []string{head}},
	"POST /api/v1/window/applications":                               {body: `{}`, allowed: []string{clerk}},
	"PUT /api/v1/applications/{id}/materials/{material}":             {path: "/api/v1/applications/{app}/materials/id_card", allowed: []string{applicant}, owned: true},
	"GET /api/v1/applications/{id}/materials/{material}":             {path: "/api/v1/applications/{app}/materials/id_card", allowed: []string{applicant, supervisor}, owned: true},
	"POST /api/v1/applications/{id}/materials/{material}/commitment": {path: "/api/v1/applications/{app}/materials/id_card/commitment", allowed: []string{applicant}, owned: true},
	"GET /api/v1/me/data-reads":                                      {allowed: []string{applicant, legalRep, agent}},
	// Everyone signed in has an inbox; a message is only its recipient's.
	"GET /api/v1/me/notifications":            {allowed: signedIn()},
	"POST /api/v1/me/notifications/{id}/read": {path: "/api/v1/me/notifications/{note}/read", allowed: []string{applicant}, owned: true},
	"GET /api/v1/admin/tokens":                {allowed: []string{sysAdmin}},
	"POST /api/v1/admin/tokens":               {body: `{}`, allowed: []string{sysAdmin}},
	"DELETE /api/v1/admin/tokens/{id}":        {path: "/api/v1/admin/tokens/999", allowed: []string{sysAdmin}},
	// The working-day calendar: anyone reads it, a system administrator loads a year.
	"GET /api/v1/calendar/{year}":       {path: "/api/v1/calendar/2026"},
	"PUT /api/v1/admin/calendar/{year}": {path: "/api/v1/admin/calendar/2030", body: `{}`, allowed: []string{sysAdmin}},
	// E-licences: verification and seal keys are public; revocation is for heads and supervisors.
	"GET /.well-known/yiwang-seal-keys.json":      {path: "/.well-known/yiwang-seal-keys.json"},
	"GET /verify/{number}":                        {path: "/verify/11910102MB0001111L-1001-2025-000001-7"},
	"GET /api/v1/licences/{number}/verification":  {path: "/api/v1/licences/NO-SUCH-LICENCE/verification"},
	"POST /api/v1/licences/verify":                {body: `{}`},
	"POST /api/v1/admin/licences/{number}/revoke": {path: "/api/v1/admin/licences/NO-SUCH-LICENCE/revoke", body: `{"reason":"test"}`, allowed: []string{head, supervisor}},
	"GET /api/v1/me/licences":                     {allowed: []string{applicant, legalRep, agent}},
	"POST /api/v1/me/licences/{id}/shares":        {path: "/api/v1/me/licences/999999/shares", body: `{"recipient":"r","purpose":"p"}`, allowed: []string{applicant, legalRep, agent}},
	"GET /me/licences/{id}":                       {path: "/me/licences/999999", allowed: []string{applicant, legalRep, agent}},
	"GET /me/licences/{id}/licence.pdf":           {path: "/me/licences/999999/licence.pdf", allowed: []string{applicant, legalRep, agent}},
	"GET /me/licences/{id}/licence.json":          {path: "/me/licences/999999/licence.json", allowed: []string{applicant, legalRep, agent}},
	"GET /shared/licences/{token}":                {path: "/shared/licences/no-such-token"},
	"GET /shared/licences/{token}/licence.pdf":    {path: "/shared/licences/no-such-token/licence.pdf"},
	// Approval modes: applicants on their own drafts; co-parties answer for themselves; anyone reads
	// the public notices and any signed-in person may object; reviewers inspect and review objections.
	"POST /api/v1/applications/{id}/commitment":                    {path: "/api/v1/applications/{app}/commitment", body: `{"text":"x"}`, allowed: []string{applicant}, owned: true},
	"PUT /api/v1/applications/{id}/parties":                        {path: "/api/v1/applications/{app}/parties", body: `{"parties":[]}`, allowed: []string{applicant}, owned: true},
	"POST /api/v1/applications/{id}/parties/confirm":               {path: "/api/v1/applications/999999/parties/confirm", allowed: []string{applicant, legalRep, agent}},
	"POST /api/v1/applications/{id}/parties/refuse":                {path: "/api/v1/applications/999999/parties/refuse", body: `{"reason":"x"}`, allowed: []string{applicant, legalRep, agent}},
	"GET /api/v1/me/invitations":                                   {allowed: []string{applicant, legalRep, agent}},
	"POST /api/v1/applications/{id}/materials/{material}/deferral": {path: "/api/v1/applications/{app}/materials/id_card/deferral", body: `{"due":"2099-01-01"}`, allowed: []string{applicant}, owned: true}, // only the person signs their own
	"GET /api/v1/notices":                                          {path: "/api/v1/notices"},
	"POST /api/v1/notices/{id}/objections":                         {path: "/api/v1/notices/999999/objections", body: `{"reasons":"x"}`, allowed: []string{applicant, legalRep, agent}},
	"POST /api/v1/tasks/{id}/inspection":                           {path: "/api/v1/tasks/999/inspection", body: `{"result":"truthful"}`, allowed: []string{reviewer, head}},
	"POST /api/v1/tasks/{id}/objection-review":                     {path: "/api/v1/tasks/999/objection-review", body: `{"outcome":"clear"}`, allowed: []string{clerk, reviewer, head}},
	"GET /notices":                      {path: "/notices"},
	"POST /notices/{id}/objections":     {path: "/notices/999999/objections", body: "reasons=x", allowed: []string{applicant, legalRep, agent}},
	"GET /me/invitations":               {allowed: []string{applicant, legalRep, agent}},
	"POST /me/invitations/{id}/confirm": {path: "/me/invitations/999999/confirm", body: "confirm=1", allowed: []string{applicant, legalRep, agent}},
	"POST /me/invitations/{id}/refuse":  {path: "/me/invitations/999999/refuse", body: "reason=x", allowed: []string{applicant, legalRep, agent}},
	// The citizen pages (internal/portal): elder mode for anyone, the rest on one's own affairs.
	"POST /elder":                                           {body: "on=1&next=/"},
	"GET /apply/{code}":                                     {path: "/apply/" + seniorCard, allowed: []string{applicant, legalRep, agent}},
	"POST /apply/{code}":                                    {path: "/apply/" + seniorCard, body: "consent=yes", allowed: []string{applicant}},
	"GET /me/applications":                                  {allowed: []string{applicant, legalRep, agent}},
	"GET /me/applications/{id}":                             {path: "/me/applications/{app}", allowed: []string{applicant}, owned: true},
	"GET /applications/{id}":                                {path: "/applications/{app}", allowed: []string{applicant, legalRep, agent}},
	"POST /me/applications/{id}/form":                       {path: "/me/applications/{app}/form", body: "f_phone=13800000009", allowed: []string{applicant}, owned: true},
	"POST /me/applications/{id}/materials/{material}":       {path: "/me/applications/{app}/materials/id_card", body: "x=1", allowed: []string{applicant}, owned: true},
	"POST /me/applications/{id}/submit":                     {path: "/me/applications/{app}/submit", body: "x=1", allowed: []string{applicant}, owned: true},
	"POST /me/applications/{id}/correction":                 {path: "/me/applications/{app}/correction", body: "x=1", allowed: []string{applicant}, owned: true},
	"POST /me/applications/{id}/withdraw":                   {path: "/me/applications/{app}/withdraw", body: "reason=test", allowed: []string{applicant}, owned: true},
	"POST /me/applications/{id}/rating":                     {path: "/me/applications/{app}/rating", body: "stars=5", allowed: []string{applicant}, owned: true},
	"GET /me/licences":                                      {allowed: []string{applicant, legalRep, agent}},
	"POST /me/licences/{id}/share":                          {path: "/me/licences/999999/share", body: "recipient=r&purpose=p", allowed: []string{applicant, legalRep, agent}},
	"GET /me/notifications":                                 {allowed: signedIn()},
	"POST /me/notifications/{id}/read":                      {path: "/me/notifications/{note}/read", body: "x=1", allowed: []string{applicant}, owned: true},
	"GET /me/data-reads":                                    {allowed: []string{applicant, legalRep, agent}},
	"GET /workbench":                                        {allowed: []string{clerk, reviewer, head}},
	"GET /workbench/applications/{id}":                      {path: "/workbench/applications/{app}", allowed: []string{supervisor}, owned: true},
	"POST /workbench/tasks/{id}/claim":                      {path: "/workbench/tasks/999/claim", body: "application=1", allowed: []string{clerk, reviewer, head}},
	"POST /workbench/tasks/{id}/release":                    {path: "/workbench/tasks/999/release", body: "application=1", allowed: []string{clerk, reviewer, head}},
	"POST /workbench/tasks/{id}/decision":                   {path: "/workbench/tasks/999/decision", body: "outcome=approve", allowed: []string{clerk, reviewer, head}},
	"POST /workbench/tasks/{id}/correction":                 {path: "/workbench/tasks/999/correction", body: "item=field:x&why_field:x=y", allowed: []string{clerk, reviewer, head}},
	"GET /workbench/intake":                                 {allowed: []string{clerk}},
	"POST /workbench/intake":                                {body: "item=NO-SUCH-ITEM", allowed: []string{clerk}},
	"GET /workbench/intake/{id}":                            {path: "/workbench/intake/{app}", allowed: []string{}, owned: true}, // only the clerk who took it in; Wang Wu's is his own
	"POST /workbench/intake/{id}":                           {path: "/workbench/intake/{app}", body: "action=save", allowed: []string{}, owned: true},
	"GET /admin":                                            {allowed: signedIn()},
	"GET /admin/catalog":                                    {allowed: []string{catAdmin, system}},
	"GET /admin/catalog/{code}":                             {path: "/admin/catalog/" + seniorCard, allowed: []string{catAdmin, system}},
	"POST /admin/catalog/{code}/versions/{version}/publish": {path: "/admin/catalog/NO-SUCH-ITEM/versions/1/publish", body: "x=1", allowed: []string{catAdmin, system}},
	"GET /admin/accounts":                                   {allowed: []string{sysAdmin}},
	"POST /admin/accounts/{id}/roles":                       {path: "/admin/accounts/1/roles", body: "role=nonsense", allowed: []string{sysAdmin}},
	"POST /admin/accounts/{id}/roles/{role}/revoke":         {path: "/admin/accounts/1/roles/nonsense/revoke", body: "x=1", allowed: []string{sysAdmin}},
	"GET /admin/calendar":                                   {allowed: []string{sysAdmin}},
	"POST /admin/calendar":                                  {body: "notice=year%3A+x", allowed: []string{sysAdmin}},
	"GET /kiosk":                                            {path: "/kiosk"},
	"POST /kiosk/session":                                   {body: "id_number=" + demo.WangWu + "&pin=" + kiosk.DemoPIN, fresh: true},
	"POST /kiosk/signout":                                   {body: "x=1", fresh: true},
	"POST /kiosk/no-housing":                                {body: "consent=no", allowed: []string{applicant, legalRep, agent}},
	"GET /workbench/overdue":                                {allowed: []string{supervisor, sysAdmin}},

	// The wizard's approval-mode steps (internal/portal/modes.go).
	"POST /me/applications/{id}/materials/{material}/pledge":   {path: "/me/applications/{app}/materials/id_card/pledge", body: "pledge=yes", allowed: []string{applicant}, owned: true},
	"POST /me/applications/{id}/materials/{material}/deferral": {path: "/me/applications/{app}/materials/id_card/deferral", body: "pledge=yes&due=2099-01-01", allowed: []string{applicant}, owned: true},
	"POST /me/applications/{id}/parties":                       {path: "/me/applications/{app}/parties", body: "own_role=x", allowed: []string{applicant}, owned: true},

	// The workbench's approval-mode intake and further actions (internal/workbench/actions.go).
	"POST /workbench/intake/{id}/parties":                       {path: "/workbench/intake/{app}/parties", body: "own_role=seller", allowed: []string{}, owned: true},
	"POST /workbench/intake/{id}/materials/{material}/deferral": {path: "/workbench/intake/{app}/materials/x/deferral", body: "signed=yes&due=2099-01-01", allowed: []string{}, owned: true}, // a clerk records a walk-in's signature at their hall, never on a citizen's own draft
	"POST /workbench/tasks/{id}/special-procedure":              {path: "/workbench/tasks/999/special-procedure", body: "kind=hearing&reason=x", allowed: []string{clerk, reviewer, head}},
	"POST /workbench/tasks/{id}/special-procedure/end":          {path: "/workbench/tasks/999/special-procedure/end", body: "note=x", allowed: []string{clerk, reviewer, head}},
	"POST /workbench/tasks/{id}/reassign":                       {path: "/workbench/tasks/999/reassign", body: "to=1", allowed: []string{clerk, reviewer, head}},
	"POST /workbench/tasks/{id}/inspection":                     {path: "/workbench/tasks/999/inspection", body: "result=truthful", allowed: []string{reviewer, head}},
	"POST /workbench/tasks/{id}/objection-review":               {path: "/workbench/tasks/999/objection-review", body: "outcome=clear", allowed: []string{clerk, reviewer, head}},
	"POST /workbench/applications/{id}/revoke":                  {path: "/workbench/applications/999999/revoke", body: "reason=x", allowed: []string{head}},
}

func signedIn() []string {
	return []string{applicant, legalRep, agent, clerk, reviewer, head, supervisor, catAdmin, sysAdmin, system}
}

func TestEveryRouteHasAnAccessRule(t *testing.T) {
	srv, _ := demoServer(t)
	for _, r := range srv.Router().Routes() {
		if _, ok := accessTable[r.Pattern]; !ok {
			t.Errorf("route %q (permission %s) has no entry in accessTable: say who may use it", r.Pattern, r.Permission)
		}
	}
}

// TestAccessByRole tries every route as every kind of principal.
func TestAccessByRole(t *testing.T) {
	srv, a := demoServer(t)
	h := srv.Handler()
	ctx := context.Background()
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
	sys, err := a.identities.CreateSystem(ctx, "province-catalogue", []authz.Role{authz.CatalogAdmin}, 0)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := a.identities.IssueToken(ctx, sys.ID, "sync", []authz.Permission{authz.CatalogManage}, timeNowPlusDays(30), 0)
	if err != nil {
		t.Fatal(err)
	}
	headers[system] = map[string]string{"Authorization": "Bearer " + secret}

	zhang, err := a.identities.PersonByIDNumber(ctx, demo.ZhangSan)
	if err != nil {
		t.Fatal(err)
	}
	// A second authorisation, for someone else, that the revocation route may revoke.
	code, body, _ := call(t, h, "POST", "/api/v1/me/authorisations", strings.NewReader(`{"agent_id_number":"11010519491231002X","agent_name":"赵六","scope":["*"],"expires_at":"`+
		time.Now().AddDate(0, 1, 0).UTC().Format(time.RFC3339)+`"}`), withJSON(headers[legalRep]))
	if code != 201 {
		t.Fatalf("authorise an agent: %d %v", code, body)
	}
	authzID := int64(body["id"].(float64))
	code, body, _ = call(t, h, "POST", "/api/v1/applications", strings.NewReader(`{"item_code":"`+seniorCard+`","consent":true}`), withJSON(headers[applicant]))
	if code != 201 {
		t.Fatalf("Wang Wu starts an application: %d %v", code, body)
	}
	appID := strconv.FormatInt(int64(body["id"].(float64)), 10)
	wang, err := a.identities.PersonByIDNumber(ctx, demo.WangWu)
	if err != nil {
		t.Fatal(err)
	}
	note := notifyAndDeliver(t, a, notify.Message{PersonID: wang.ID, Kind: notify.Decision, TitleZh: "已办结", TitleEn: "Decided", BodyZh: "您的申请已办结。", BodyEn: "Your application is decided.", Link: "/applications/" + appID})
	ids := strings.NewReplacer("{zhang}", strconv.FormatInt(zhang.ID, 10), "{authz}", strconv.FormatInt(authzID, 10), "{company}", demo.DemoCompany, "{app}", appID,
		"{note}", strconv.FormatInt(note, 10))

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
			req := httptest.NewRequest(method, path, strings.NewReader(ids.Replace(rule.body)))
			for k, v := range hd {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			denied := rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden ||
				(rec.Code == http.StatusSeeOther && strings.HasPrefix(rec.Header().Get("Location"), "/login")) ||
				(rule.owned && rec.Code == http.StatusNotFound)
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

// notifyAndDeliver sends m through the app's outbox and works the job queue,
// as serve does, until it is delivered; it returns the message's id.
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
	ws := jobs.NewWorkers()
	registerWorkers(ws, db, a)
	q, err := jobs.New(db, ws, logging.New(io.Discard, "text", 0), jobs.Config{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(ctx)
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
