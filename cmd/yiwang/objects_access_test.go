package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/bundle"
	"yiwang/internal/consult"
	"yiwang/internal/credit"
	"yiwang/internal/demo"
	"yiwang/internal/identity"
	"yiwang/internal/notify"
	"yiwang/internal/rating"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// The principals of the object test, beyond those of TestAccessByRole.
const (
	otherCitizen = "other_citizen" // 张三, acting for himself
	headY        = "head_y"        // head (and reviewer) of 不动产 (realestate), department Y
)

// objectRoles are the principals every object route is tried as: a
// citizen and another, the enterprise's legal representative, a window
// clerk, a reviewer and the head of department X (民政, civil), the head of
// department Y (不动产, realestate), a supervisor, a catalogue
// administrator, a system administrator and another system's API token.
var objectRoles = []string{anon, applicant, otherCitizen, legalRep, clerk, reviewer, head, headY, supervisor, catAdmin, sysAdmin, system}

// An object of the test world: what its id is in a path, whose it is and
// which department's, so the coverage can say for each principal whether
// it was its own (or its department's) or another's.
type object struct {
	id, owner, dept string
	material        string // for an application: one of its materials; for a licence share: the share's id
}

// objectRoute is a route that takes an object id: which kind of object, how
// to call it ({id} stands for the object's id), and who may pass its access
// check on object A and on object B of that kind. A refusal is 401, 403,
// 404, or a redirect to sign in; anything else passes the access check
// (the handler may still refuse the request's content).
type objectRoute struct {
	kind, method, path, body string
	a, b                     []string
}

// objectKinds say what A and B are for each kind; a kind with one object
// (B empty) gets both ownership cases from the principals: one is its owner
// or of its department, the others are not.
var objectKinds = map[string]string{
	"application":   "A: 王五's senior card (民政, under review); B: 张三's property transfer (不动产, taken in at the clerk's hall)",
	"task":          "A: the open 民政 step of application A; B: the open 不动产 step of application B",
	"decision":      "A: application A (no machine decision: manual); B: 张三's approved senior card (民政, machine-approved)",
	"invitation":    "A: application B, to which 王五 is invited as buyer; B: application A, to which nobody is",
	"licence":       "A: 张三's senior card licence (民政); B: 王五's 无房证明 (不动产)",
	"share":         "A: 张三's share link of his licence",
	"licence_share": "A: a second share link of 张三's licence; B: a share link of 王五's 无房证明 (withdrawn by their holders only)",
	"notice":        "A: 张三's senior card as a filing on public notice (民政)",
	"notification":  "A: a message to 王五; B: a message to 张三",
	"person":        "A: 王五; B: 张三",
	"account":       "A: a tax reviewer's and head's account, whose roles are revoked; B: the system administrator's own",
	"authorisation": "A: the demo company's authorisation of an agent (张三 is its legal representative)",
	"token":         "A: a second API token of the test's system account",
	"bundle":        "A: 王五's 企业开办 bundle case; B: 张三's 企业开办 bundle case",
	"rectification": "A: 张三's bad rating of his senior card (民政); B: 王五's bad rating of his 无房证明 (不动产)",
	"credit_repair": "A: 张三's repair of a record of his senior card (民政); B: 王五's repair of a record of his 无房证明 (不动产)",
	"spot_check":    "A: a spot check of 张三's senior card (民政) assigned to the civil affairs reviewer; B: one of application B (不动产) assigned to its head",
	"consultation":  "A: 王五's question to 民政 (civil), under his name; B: 张三's question to 不动产 (realestate), under his name",
}

// objectRoutes has an entry for every route that takes an object id; the
// test fails for one without. Routes whose ids are not owned objects are in
// notObjects, with the reason.
var objectRoutes = map[string]objectRoute{}

// notObjects are routes with an id in their path that name no object of an
// owner or a department, and why.
var notObjects = map[string]string{
	"PUT /api/v1/admin/halls/{code}":                                     "halls are the platform's, for system administrators (TestAccessByRole)",
	"PUT /api/v1/admin/halls/{code}/windows/{number}":                    "halls are the platform's, for system administrators (TestAccessByRole)",
	"GET /api/v1/departments/{code}":                                     "public",
	"POST /api/v1/supervision/board/{department}/alert":                  "supervisors watch every department (TestAccessByRole)",
	"POST /workbench/supervision/{department}/alert":                     "supervisors watch every department (TestAccessByRole)",
	"GET /api/v1/items/{code}":                                           "public catalogue",
	"GET /items/{code}":                                                  "public catalogue",
	"GET /static/":                                                       "assets",
	"GET /api/v1/admin/catalog/items/{code}/versions":                    "the catalogue is the platform's, for catalogue administrators (TestAccessByRole)",
	"GET /api/v1/admin/catalog/items/{code}/versions/{version}":          "the catalogue is the platform's (TestAccessByRole)",
	"POST /api/v1/admin/catalog/items/{code}/versions/{version}/publish": "the catalogue is the platform's (TestAccessByRole)",
	"POST /api/v1/admin/catalog/items/{code}/retire":                     "the catalogue is the platform's (TestAccessByRole)",
	"GET /api/v1/admin/catalog/items/{code}/diff":                        "the catalogue is the platform's (TestAccessByRole)",
	"POST /api/v1/admin/catalog/items/{code}/simulations":                "simulations belong to the catalogue, not to an owner or a department (TestAccessByRole)",
	"GET /api/v1/admin/simulations/{id}":                                 "simulations belong to the catalogue, not to an owner or a department (TestAccessByRole)",
	"POST /admin/catalog/{code}/simulations":                             "simulations belong to the catalogue, not to an owner or a department (TestAccessByRole)",
	"GET /admin/simulations/{id}":                                        "simulations belong to the catalogue, not to an owner or a department (TestAccessByRole)",
	"PUT /api/v1/admin/catalog/items/{code}/machine-approval":            "an item's machine switch, for supervisors and catalogue administrators (TestAccessByRole)",
	"GET /admin/catalog/{code}/try":                                      "the catalogue is the platform's; a try-out writes nothing (TestAccessByRole)",
	"POST /admin/catalog/{code}/try":                                     "the catalogue is the platform's; a try-out writes nothing (TestAccessByRole)",
	"GET /kiosk/items/{code}":                                            "an item, not an application: applying is the person's own (TestAccessByRole)",
	"POST /kiosk/items/{code}":                                           "an item, not an application (TestAccessByRole)",
	"GET /admin/catalog/{code}":                                          "the catalogue is the platform's (TestAccessByRole)",
	"POST /admin/catalog/{code}/versions/{version}/publish":              "the catalogue is the platform's (TestAccessByRole)",
	"GET /apply/{code}":                                                  "an item, not an application: starting one is the person's own (TestAccessByRole)",
	"POST /apply/{code}":                                                 "an item, not an application (TestAccessByRole)",
	"GET /api/v1/calendar/{year}":                                        "public",
	"GET /api/v1/bundles/{code}":                                         "a bundle of the public catalogue",
	"POST /api/v1/bundles/{code}/cases":                                  "a bundle, not a case: applying is the person's own (TestAccessByRole)",
	"GET /bundles/{code}":                                                "a bundle of the public catalogue",
	"GET /bundles/{code}/form":                                           "a bundle, not a case (TestAccessByRole)",
	"POST /bundles/{code}":                                               "a bundle, not a case: applying is the person's own (TestAccessByRole)",
	"PUT /api/v1/admin/calendar/{year}":                                  "the calendar is the platform's (TestAccessByRole)",
	"GET /rate/{token}":                                                  "a rating token, not an id: holding it is the access (internal/rating tests, TestAccessByRole)",
	"POST /rate/{token}":                                                 "a rating token, not an id: holding it is the access (internal/rating tests, TestAccessByRole)",
	"POST /rate/{token}/verdict":                                         "a rating token, not an id: holding it is the access (internal/rating tests, TestAccessByRole)",
	"GET /rate/{token}/qr":                                               "a rating token, not an id: holding it is the access (TestAccessByRole)",
	"GET /kiosk/rate/{token}":                                            "a rating token, not an id: holding it is the access (TestAccessByRole)",
	"POST /kiosk/rate/{token}":                                           "a rating token, not an id: holding it is the access (TestAccessByRole)",
	"PUT /api/v1/admin/departments/{code}/machine-approval":              "a department's machine switch, for supervisors and catalogue administrators (TestAccessByRole)",
}

func init() {
	r := func(kind, path, body string, a, b []string) objectRoute {
		return objectRoute{kind: kind, path: path, body: body, a: a, b: b}
	}
	who := func(roles ...string) []string { return roles }
	none, everyone := []string{}, objectRoles
	for pattern, rule := range map[string]objectRoute{
		// Applications, the applicant's side (API and pages).
		"GET /api/v1/applications/{id}":                                  r("application", "/api/v1/applications/{id}", "", who(applicant), who(otherCitizen, legalRep)),
		"PATCH /api/v1/applications/{id}/form":                           r("application", "/api/v1/applications/{id}/form", `{}`, who(applicant), who(otherCitizen, legalRep)),
		"POST /api/v1/applications/{id}/submit":                          r("application", "/api/v1/applications/{id}/submit", `{}`, who(applicant), who(otherCitizen, legalRep)),
		"POST /api/v1/applications/{id}/correction":                      r("application", "/api/v1/applications/{id}/correction", `{"form":{}}`, who(applicant), who(otherCitizen, legalRep)),
		"POST /api/v1/applications/{id}/withdraw":                        r("application", "/api/v1/applications/{id}/withdraw", `{}`, who(applicant), who(otherCitizen, legalRep)),
		"POST /api/v1/applications/{id}/decline":                         r("application", "/api/v1/applications/{id}/decline", `{}`, who(applicant), who(otherCitizen, legalRep)),
		"PUT /api/v1/applications/{id}/materials/{material}":             r("application", "/api/v1/applications/{id}/materials/{material}", "", who(applicant), who(otherCitizen, legalRep, clerk)),
		"GET /api/v1/applications/{id}/materials/{material}":             r("application", "/api/v1/applications/{id}/materials/{material}", "", who(applicant, reviewer, head, supervisor), who(otherCitizen, legalRep, clerk, headY, supervisor)),
		"POST /api/v1/applications/{id}/materials/{material}/commitment": r("application", "/api/v1/applications/{id}/materials/{material}/commitment", "", who(applicant), who(otherCitizen, legalRep)),
		"POST /api/v1/applications/{id}/commitment":                      r("application", "/api/v1/applications/{id}/commitment", `{"text":"x"}`, who(applicant), who(otherCitizen, legalRep)),
		"PUT /api/v1/applications/{id}/parties":                          r("application", "/api/v1/applications/{id}/parties", `{"parties":[]}`, who(applicant), who(otherCitizen, legalRep)),
		"POST /api/v1/applications/{id}/materials/{material}/deferral":   r("application", "/api/v1/applications/{id}/materials/{material}/deferral", `{"due":"2099-01-01"}`, who(applicant), who(otherCitizen, legalRep, clerk)),
		// An invitation is its invitee's (王五); the application's own
		// applicant (张三, also while acting for his company) passes the
		// access check and is told he was not asked.
		"POST /api/v1/applications/{id}/parties/confirm": r("invitation", "/api/v1/applications/{id}/parties/confirm", "", who(applicant, otherCitizen, legalRep), none),
		"POST /api/v1/applications/{id}/parties/refuse":  r("invitation", "/api/v1/applications/{id}/parties/refuse", `{"reason":"x"}`, who(applicant, otherCitizen, legalRep), none),
		"GET /me/applications/{id}":                      r("application", "/me/applications/{id}", "", who(applicant), who(otherCitizen, legalRep)),
		// A bundle case is its applicant's (张三 also while acting for his company).
		"GET /api/v1/bundle-cases/{id}": r("bundle", "/api/v1/bundle-cases/{id}", "", who(applicant), who(otherCitizen, legalRep)),
		"GET /me/bundles/{id}":          r("bundle", "/me/bundles/{id}", "", who(applicant), who(otherCitizen, legalRep)),
		// A credit repair is decided by a head of the record's department.
		"POST /workbench/credit-repairs/{id}": r("credit_repair", "/workbench/credit-repairs/{id}", "outcome=refuse&reason=证明不足", who(head), who(headY)),
		// A consultation is rated by its sender (or its code's holder) and
		// answered by its department; supervisors read any. Unanswered, a
		// rating and a close without an answer are refused after the check.
		"POST /api/v1/consultations/{id}/rating":       r("consultation", "/api/v1/consultations/{id}/rating", `{"rating":"satisfied"}`, who(applicant), who(otherCitizen, legalRep)),
		"POST /me/consultations/{id}/rating":           r("consultation", "/me/consultations/{id}/rating", "rating=satisfied", who(applicant), who(otherCitizen, legalRep)),
		"GET /workbench/consultations/{id}":            r("consultation", "/workbench/consultations/{id}", "", who(reviewer, head, supervisor), who(headY, supervisor)),
		"POST /workbench/consultations/{id}/answer":    r("consultation", "/workbench/consultations/{id}/answer", "text=", who(reviewer, head), who(headY)),
		"POST /workbench/consultations/{id}/close":     r("consultation", "/workbench/consultations/{id}/close", "text=", who(reviewer, head), who(headY)),
		"POST /workbench/consultations/{id}/reveal":    r("consultation", "/workbench/consultations/{id}/reveal", "purpose=%E6%A0%B8%E5%AF%B9%E8%BA%AB%E4%BB%BD", who(reviewer, head), who(headY)),
		"POST /api/v1/staff/consultations/{id}/answer": r("consultation", "/api/v1/staff/consultations/{id}/answer", `{"text":""}`, who(reviewer, head), who(headY)),
		"POST /api/v1/staff/consultations/{id}/close":  r("consultation", "/api/v1/staff/consultations/{id}/close", `{"text":""}`, who(reviewer, head), who(headY)),
		// A notification's link: it sends every person to /me/applications/{id},
		// which decides (above).
		"GET /applications/{id}":                                   r("application", "/applications/{id}", "", who(applicant, otherCitizen, legalRep), who(applicant, otherCitizen, legalRep)),
		"POST /me/applications/{id}/form":                          r("application", "/me/applications/{id}/form", "f_phone=13800000009&revision=999999", who(applicant), who(otherCitizen, legalRep)),
		"POST /me/applications/{id}/materials/{material}":          r("application", "/me/applications/{id}/materials/{material}", "x=1&revision=999999", who(applicant), who(otherCitizen, legalRep)),
		"POST /me/applications/{id}/submit":                        r("application", "/me/applications/{id}/submit", "x=1&revision=999999", who(applicant), who(otherCitizen, legalRep)),
		"POST /me/applications/{id}/correction":                    r("application", "/me/applications/{id}/correction", "x=1&revision=999999", who(applicant), who(otherCitizen, legalRep)),
		"POST /me/applications/{id}/withdraw":                      r("application", "/me/applications/{id}/withdraw", "reason=test&revision=999999", who(applicant), who(otherCitizen, legalRep)),
		"POST /me/applications/{id}/decline":                       r("application", "/me/applications/{id}/decline", "reason=test", who(applicant), who(otherCitizen, legalRep)),
		"POST /me/applications/{id}/rating":                        r("application", "/me/applications/{id}/rating", "stars=5", who(applicant), who(applicant, otherCitizen, legalRep)),
		"POST /me/applications/{id}/materials/{material}/pledge":   r("application", "/me/applications/{id}/materials/{material}/pledge", "pledge=yes&revision=999999", who(applicant), who(otherCitizen, legalRep)),
		"POST /me/applications/{id}/materials/{material}/deferral": r("application", "/me/applications/{id}/materials/{material}/deferral", "pledge=yes&due=2099-01-01&revision=999999", who(applicant), who(otherCitizen, legalRep)),
		"POST /me/applications/{id}/parties":                       r("application", "/me/applications/{id}/parties", "own_role=x&revision=999999", who(applicant), who(otherCitizen, legalRep)),
		"POST /me/invitations/{id}/confirm":                        r("invitation", "/me/invitations/{id}/confirm", "confirm=1", who(applicant, otherCitizen, legalRep), none),
		"POST /me/invitations/{id}/refuse":                         r("invitation", "/me/invitations/{id}/refuse", "reason=x", who(applicant, otherCitizen, legalRep), none),
		// Applications, the staff's side.
		"GET /api/v1/admin/decisions/{id}": r("decision", "/api/v1/admin/decisions/{id}", "", who(reviewer, head, supervisor), who(reviewer, head, supervisor)),
		// A clerk sees B, taken in at their hall, not 王五's own A.
		"GET /api/v1/staff/applications/{id}":                       r("application", "/api/v1/staff/applications/{id}", "", who(reviewer, head, supervisor), who(clerk, headY, supervisor)),
		"POST /api/v1/staff/applications/{id}/revoke":               r("application", "/api/v1/staff/applications/{id}/revoke", `{"reason":"x"}`, who(head), who(headY)),
		"GET /workbench/applications/{id}":                          r("application", "/workbench/applications/{id}", "", who(reviewer, head, supervisor), who(clerk, headY, supervisor)),
		"POST /workbench/applications/{id}/reveal":                  r("application", "/workbench/applications/{id}/reveal", "purpose=%E6%A0%B8%E5%AF%B9%E8%BA%AB%E4%BB%BD", who(reviewer, head), who(clerk, headY)),
		"POST /workbench/applications/{id}/revoke":                  r("application", "/workbench/applications/{id}/revoke", "reason=x&revision=999999", who(head), who(headY)),
		"GET /workbench/intake/{id}":                                r("application", "/workbench/intake/{id}", "", none, who(clerk)),
		"POST /workbench/intake/{id}":                               r("application", "/workbench/intake/{id}", "action=save&revision=999999", none, who(clerk)),
		"POST /workbench/intake/{id}/parties":                       r("application", "/workbench/intake/{id}/parties", "own_role=seller&revision=999999", none, who(clerk)),
		"POST /workbench/intake/{id}/materials/{material}/deferral": r("application", "/workbench/intake/{id}/materials/{material}/deferral", "signed=yes&due=2099-01-01&revision=999999", none, who(clerk)),
		// Tasks.
		"POST /api/v1/tasks/{id}/claim":                    r("task", "/api/v1/tasks/{id}/claim", "", who(reviewer, head), who(headY)),
		"POST /api/v1/tasks/{id}/release":                  r("task", "/api/v1/tasks/{id}/release", "", who(reviewer, head), who(headY)),
		"POST /api/v1/tasks/{id}/reassign":                 r("task", "/api/v1/tasks/{id}/reassign", `{"account_id":1}`, who(head), who(headY)),
		"POST /api/v1/tasks/{id}/decision":                 r("task", "/api/v1/tasks/{id}/decision", `{"outcome":"approve"}`, who(reviewer, head), who(headY)),
		"POST /api/v1/tasks/{id}/correction":               r("task", "/api/v1/tasks/{id}/correction", `{"items":[{"field":"x","reason":"y"}]}`, who(reviewer, head), who(headY)),
		"POST /api/v1/tasks/{id}/special-procedure":        r("task", "/api/v1/tasks/{id}/special-procedure", `{"kind":"hearing","reason":"x"}`, who(reviewer, head), who(headY)),
		"DELETE /api/v1/tasks/{id}/special-procedure":      r("task", "/api/v1/tasks/{id}/special-procedure", "", who(reviewer, head), who(headY)),
		"POST /api/v1/tasks/{id}/inspection":               r("task", "/api/v1/tasks/{id}/inspection", `{"result":"truthful"}`, who(reviewer, head), who(headY)),
		"POST /api/v1/tasks/{id}/objection-review":         r("task", "/api/v1/tasks/{id}/objection-review", `{"outcome":"clear"}`, who(reviewer, head), who(headY)),
		"POST /workbench/tasks/{id}/claim":                 r("task", "/workbench/tasks/{id}/claim", "application=1", who(reviewer, head), who(headY)),
		"POST /workbench/tasks/{id}/release":               r("task", "/workbench/tasks/{id}/release", "application=1", who(reviewer, head), who(headY)),
		"POST /workbench/tasks/{id}/decision":              r("task", "/workbench/tasks/{id}/decision", "outcome=approve&revision=999999", who(reviewer, head), who(headY)),
		"POST /workbench/tasks/{id}/correction":            r("task", "/workbench/tasks/{id}/correction", "item=field:x&why_field:x=y&revision=999999", who(reviewer, head), who(headY)),
		"POST /workbench/tasks/{id}/special-procedure":     r("task", "/workbench/tasks/{id}/special-procedure", "kind=hearing&reason=x&revision=999999", who(reviewer, head), who(headY)),
		"POST /workbench/tasks/{id}/special-procedure/end": r("task", "/workbench/tasks/{id}/special-procedure/end", "note=x&revision=999999", who(reviewer, head), who(headY)),
		"POST /workbench/tasks/{id}/reassign":              r("task", "/workbench/tasks/{id}/reassign", "to=1", who(head), who(headY)),
		"POST /workbench/tasks/{id}/inspection":            r("task", "/workbench/tasks/{id}/inspection", "result=truthful&revision=999999", who(reviewer, head), who(headY)),
		"POST /workbench/tasks/{id}/objection-review":      r("task", "/workbench/tasks/{id}/objection-review", "outcome=clear&revision=999999", who(reviewer, head), who(headY)),
		// Licences and share links.
		// The issuing department's head only: not another department's, not a
		// supervisor (docs/SECURITY.md). The empty reason is refused after
		// the access check, so nothing is revoked.
		"POST /api/v1/admin/licences/{number}/revoke": r("licence_number", "/api/v1/admin/licences/{id}/revoke", `{"reason":""}`, who(head), who(headY)),
		"POST /api/v1/me/licences/{id}/shares":        r("licence", "/api/v1/me/licences/{id}/shares", `{"recipient":"r","purpose":"p"}`, who(otherCitizen), who(applicant)),
		"GET /me/licences/{id}":                       r("licence", "/me/licences/{id}", "", who(otherCitizen), who(applicant)),
		"GET /me/licences/{id}/licence.pdf":           r("licence", "/me/licences/{id}/licence.pdf", "", who(otherCitizen), who(applicant)),
		"GET /me/licences/{id}/licence.json":          r("licence", "/me/licences/{id}/licence.json", "", who(otherCitizen), who(applicant)),
		"POST /me/licences/{id}/share":                r("licence", "/me/licences/{id}/share", "recipient=r&purpose=p", who(otherCitizen), who(applicant)),
		// A holder lists and withdraws their own links; once withdrawn, the
		// holder's second try is told the link has ended (409), not refused.
		"GET /api/v1/me/licences/{id}/shares":            r("licence", "/api/v1/me/licences/{id}/shares", "", who(otherCitizen), who(applicant)),
		"DELETE /api/v1/me/licences/{id}/shares/{share}": r("licence_share", "/api/v1/me/licences/{id}/shares/{material}", "", who(otherCitizen), who(applicant)),
		"POST /me/licences/{id}/shares/{share}/revoke":   r("licence_share", "/me/licences/{id}/shares/{material}/revoke", "x=1", who(otherCitizen), who(applicant)),
		// Public: verification of any licence, and a share link for whoever holds it.
		"GET /verify/{number}":                       r("licence_number", "/verify/{id}", "", everyone, everyone),
		"GET /verify/{number}/qr.png":                r("licence_number", "/verify/{id}/qr.png", "", everyone, everyone),
		"GET /api/v1/licences/{number}/verification": r("licence_number", "/api/v1/licences/{id}/verification", "", everyone, everyone),
		"GET /shared/licences/{token}":               r("share", "/shared/licences/{id}", "", everyone, nil),
		"GET /shared/licences/{token}/licence.pdf":   r("share", "/shared/licences/{id}/licence.pdf", "", everyone, nil),
		// Any person may object to a filing on public notice (自审备案公示),
		// except its own applicant (张三, also while acting for his company).
		"POST /api/v1/notices/{id}/objections": r("notice", "/api/v1/notices/{id}/objections", `{"reasons":"x"}`, who(applicant), nil),
		"POST /notices/{id}/objections":        r("notice", "/notices/{id}/objections", "reasons=x", who(applicant), nil),
		// Messages, people, accounts, authorisations, tokens.
		"POST /api/v1/me/notifications/{id}/read": r("notification", "/api/v1/me/notifications/{id}/read", "", who(applicant), who(otherCitizen, legalRep)),
		"POST /me/notifications/{id}/read":        r("notification", "/me/notifications/{id}/read", "x=1", who(applicant), who(otherCitizen, legalRep)),
		// A delivery's log is the system administrator's, not even its recipient's.
		"GET /api/v1/admin/notifications/{id}/attempts": r("notification", "/api/v1/admin/notifications/{id}/attempts", "", who(sysAdmin), who(sysAdmin)),
		// So is sending a dead letter again (these were delivered: 409, nothing sent).
		"POST /api/v1/admin/notifications/{id}/retry": r("notification", "/api/v1/admin/notifications/{id}/retry", "", who(sysAdmin), who(sysAdmin)),
		// Staff with a need see any person unmasked, with a purpose, logged.
		"GET /api/v1/persons/{id}":        r("person", "/api/v1/persons/{id}?purpose=%E6%A0%B8%E5%AF%B9%E8%BA%AB%E4%BB%BD", "", who(clerk, reviewer, head, headY), who(clerk, reviewer, head, headY)),
		"GET /api/v1/admin/accounts/{id}": r("account", "/api/v1/admin/accounts/{id}", "", who(sysAdmin), who(sysAdmin)),
		// B is the administrator's own account: nobody grants themself a role.
		"POST /api/v1/admin/accounts/{id}/roles":          r("account", "/api/v1/admin/accounts/{id}/roles", `{"role":"nonsense"}`, who(sysAdmin), none),
		"DELETE /api/v1/admin/accounts/{id}/roles/{role}": r("account", "/api/v1/admin/accounts/{id}/roles/reviewer", "", who(sysAdmin), none),
		"POST /admin/accounts/{id}/roles":                 r("account", "/admin/accounts/{id}/roles", "role=nonsense", who(sysAdmin), none),
		"POST /admin/accounts/{id}/roles/{role}/revoke":   r("account", "/admin/accounts/{id}/roles/head/revoke", "x=1", who(sysAdmin), none),
		"DELETE /api/v1/me/authorisations/{id}":           r("authorisation", "/api/v1/me/authorisations/{id}", "", who(legalRep), nil),
		"DELETE /api/v1/admin/tokens/{id}":                r("token", "/api/v1/admin/tokens/{id}", "", who(sysAdmin), nil),
		// 好差评 (internal/rating): each party of an application rates — on
		// B, 王五 is the buyer, a co-party who confirmed, and passes (to be
		// told it is not finished); a department's staff answer its
		// rectifications, supervisors call back.
		"POST /me/applications/{id}/rating/verdict":    r("application", "/me/applications/{id}/rating/verdict", "verdict=satisfied", who(applicant), who(applicant, otherCitizen, legalRep)),
		"POST /api/v1/me/applications/{id}/rating":     r("application", "/api/v1/me/applications/{id}/rating", `{"stars":5}`, who(applicant), who(applicant, otherCitizen, legalRep)),
		"GET /workbench/applications/{id}/rating-qr":   r("application", "/workbench/applications/{id}/rating-qr", "", who(reviewer, head, supervisor), who(clerk, headY, supervisor)),
		"GET /workbench/rectifications/{id}":           r("rectification", "/workbench/rectifications/{id}", "", who(reviewer, head, supervisor), who(headY, supervisor)),
		"POST /workbench/rectifications/{id}/answer":   r("rectification", "/workbench/rectifications/{id}/answer", "answer=x", who(reviewer, head), who(headY)),
		"POST /workbench/rectifications/{id}/callback": r("rectification", "/workbench/rectifications/{id}/callback", "note=x&resolved=yes", who(supervisor), who(supervisor)),
		"POST /api/v1/rectifications/{id}/answer":      r("rectification", "/api/v1/rectifications/{id}/answer", `{"answer":"x"}`, who(reviewer, head), who(headY)),
		"POST /api/v1/rectifications/{id}/callback":    r("rectification", "/api/v1/rectifications/{id}/callback", `{"note":"x","resolved":true}`, who(supervisor), who(supervisor)),
		// A spot check is its assigned inspector's alone (a failure without findings is refused after the check).
		"POST /api/v1/spot-checks/{id}/result":    r("spot_check", "/api/v1/spot-checks/{id}/result", `{"result":"fail"}`, who(reviewer), who(headY)),
		"POST /workbench/spot-checks/{id}/result": r("spot_check", "/workbench/spot-checks/{id}/result", "result=fail", who(reviewer), who(headY)),
		// Supervisors draw another inspector for a late check of any department (not late here: refused after the check).
		"POST /api/v1/spot-checks/{id}/reassign":    r("spot_check", "/api/v1/spot-checks/{id}/reassign", "", who(supervisor), who(supervisor)),
		"POST /workbench/spot-checks/{id}/reassign": r("spot_check", "/workbench/spot-checks/{id}/reassign", "x=1", who(supervisor), who(supervisor)),
	} {
		objectRoutes[pattern] = rule
	}
}

// objectWorld is the test world: its objects by kind ("A", "B").
type objectWorld map[string]map[string]object

// TestObjectAccessAcrossOwnersAndDepartments tries every route that takes
// an object id, as every principal, on real objects of two owners and two
// departments, on both backends, and prints what it covered.
func TestObjectAccessAcrossOwnersAndDepartments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv, a := demoServerOn(t, db)
		withRegistries(t, a)
		h := srv.Handler()
		world, headers := buildObjectWorld(t, h, a)
		addSpotCheckObjects(t, db, a, world)

		var tried, refused int
		covered := map[string]bool{}
		var log []string
		byCase := map[string]int{} // "their own passed" …
		for _, route := range srv.Router().Routes() {
			rule, ok := objectRoutes[route.Pattern]
			if !ok {
				if _, skip := notObjects[route.Pattern]; !skip && strings.Contains(strings.ReplaceAll(route.Pattern, "{$}", ""), "{") {
					t.Errorf("route %q takes an id: add it to objectRoutes (or to notObjects, saying why)", route.Pattern)
				}
				continue
			}
			covered[route.Pattern] = true
			method, path, _ := strings.Cut(route.Pattern, " ")
			if rule.method != "" {
				method = rule.method
			}
			if rule.path != "" {
				path = rule.path
			}
			for _, which := range []string{"A", "B"} {
				obj, ok := world[rule.kind][which]
				allowed := rule.a
				if which == "B" {
					allowed = rule.b
				}
				if !ok {
					if len(allowed) > 0 {
						t.Errorf("%s: no object %s of kind %s", route.Pattern, which, rule.kind)
					}
					continue
				}
				cases := map[string]int{}
				for _, who := range objectRoles {
					cases[ownership(who, obj)]++
				}
				log = append(log, fmt.Sprintf("%s %s %s: %d principals (%s), passed by %v", route.Pattern, rule.kind, which, len(objectRoles), countsOf(cases), allowed))
				p := strings.NewReplacer("{id}", obj.id, "{material}", obj.material).Replace(path)
				for _, who := range objectRoles {
					code, loc := tryRoute(t, h, headers[who], method, p, strings.ReplaceAll(rule.body, "{id}", obj.id), who == anon)
					denied := code == http.StatusUnauthorized || code == http.StatusForbidden || code == http.StatusNotFound ||
						(code == http.StatusSeeOther && strings.HasPrefix(loc, "/login"))
					want := slices.Contains(allowed, who)
					tried++
					rel := ownership(who, obj)
					if denied {
						refused++
						byCase[rel+" refused"]++
					} else {
						byCase[rel+" passed"]++
					}
					if want && denied {
						t.Errorf("%s %s (%s %s: %s) as %s: refused with %d, want allowed", method, p, rule.kind, which, ownership(who, obj), who, code)
					}
					if !want && !denied {
						t.Errorf("%s %s (%s %s: %s) as %s: got %d, want refused", method, p, rule.kind, which, ownership(who, obj), who, code)
					}
				}
			}
		}
		for pattern := range objectRoutes {
			if !covered[pattern] {
				t.Errorf("objectRoutes has %q, which is no route", pattern)
			}
		}
		t.Logf("object access: %d routes × %d principals × objects A and B (%d requests, %d refused)", len(covered), len(objectRoles), tried, refused)
		t.Logf("  by ownership: %s", countsOf(byCase))
		slices.Sort(log)
		for _, l := range log {
			t.Logf("  %s, refused to the others", l)
		}
		for _, kind := range sortedKeys(objectKinds) {
			t.Logf("  %s — %s", kind, objectKinds[kind])
		}
		for _, pattern := range sortedKeys(notObjects) {
			t.Logf("  not tried on objects: %s — %s", pattern, notObjects[pattern])
		}
		if t.Failed() {
			fmt.Printf("object access (%s): %d routes × %d principals × 2 objects, %d requests; FAILED\n", db.Backend, len(covered), len(objectRoles), tried)
		}
	})
}

// countsOf says "a 3, b 5" in key order.
func countsOf(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// ownership says what obj is to who: theirs, their department's, or another's.
func ownership(who string, obj object) string {
	switch {
	case obj.owner != "" && obj.owner == who:
		return "their own"
	case obj.dept != "" && roleDept[who] == obj.dept:
		return "their department's"
	case obj.owner == "" && obj.dept == "":
		return "nobody's"
	}
	return "another's"
}

// roleDept is the department of each staff principal.
var roleDept = map[string]string{clerk: "gsdb", reviewer: "civil", head: "civil", headY: "realestate", supervisor: "gsdb", catAdmin: "gsdb", sysAdmin: "gsdb"}

// tryRoute sends one request and returns its status and redirect.
func tryRoute(t testing.TB, h http.Handler, hd map[string]string, method, path, body string, anonymous bool) (int, string) {
	hd = copyHeaders(hd)
	if body != "" {
		if strings.HasPrefix(body, "{") {
			hd["Content-Type"] = "application/json"
		} else {
			hd["Content-Type"] = "application/x-www-form-urlencoded"
			if anonymous {
				hd["Cookie"] = "yiwang_csrf=" + strings.Repeat("c", 43)
				hd["X-CSRF-Token"] = strings.Repeat("c", 43)
			}
		}
	}
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range hd {
		req.Header.Set(k, v)
	}
	rec := contract.Serve(t, h, req)
	return rec.Code, rec.Header().Get("Location")
}

// buildObjectWorld makes the objects and signs every principal in.
func buildObjectWorld(t *testing.T, h http.Handler, a *app) (objectWorld, map[string]map[string]string) {
	t.Helper()
	ctx := context.Background()
	logins := map[string]string{applicant: demo.WangWu, otherCitizen: demo.ZhangSan, legalRep: demo.ZhangSan, clerk: "clerk", reviewer: "reviewer.civil",
		head: "head.civil", headY: "reviewer.realestate", supervisor: "supervisor", catAdmin: "catalog.admin", sysAdmin: "sysadmin"}
	headers := map[string]map[string]string{anon: {}}
	for who, login := range logins {
		headers[who] = signIn(t, h, login)
	}
	if code, body, _ := call(t, h, "PUT", "/api/v1/me/acting-for", strings.NewReader(`{"credit_code":"`+demo.DemoCompany+`"}`), withJSON(headers[legalRep])); code != 200 {
		t.Fatalf("张三 cannot act for the demo company: %d %v", code, body)
	}
	var sysID int64
	headers[system], sysID = systemToken(t, a)
	_, token, err := a.identities.IssueToken(ctx, sysID, "spare", []authz.Permission{authz.CatalogManage}, timeNowPlusDays(30), 0)
	if err != nil {
		t.Fatal(err)
	}
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	w := objectWorld{}
	put := func(kind, which string, o object) {
		if w[kind] == nil {
			w[kind] = map[string]object{}
		}
		w[kind][which] = o
	}

	// 张三's senior card, approved by the machine, its licence and a share link.
	zhangPath, _ := applyForSeniorCard(t, h, headers[otherCitizen])
	zhangApp, err := strconv.ParseInt(strings.TrimPrefix(zhangPath, "/me/applications/"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	l, err := a.licences.ByApplication(ctx, zhangApp)
	if err != nil {
		t.Fatalf("张三's senior card has no licence: %v", err)
	}
	put("licence", "A", object{id: id(l.ID), owner: otherCitizen, dept: "civil"})
	put("licence_number", "A", object{id: l.Content.Number, owner: otherCitizen, dept: "civil"})
	put("decision", "B", object{id: id(zhangApp), owner: otherCitizen, dept: "civil"})
	_, _, raw := call(t, h, "POST", "/api/v1/me/licences/"+id(l.ID)+"/shares", strings.NewReader(`{"recipient":"示范银行","purpose":"开户"}`), withJSON(headers[otherCitizen]))
	link := regexp.MustCompile(`/shared/licences/([A-Za-z0-9_-]+)`).FindStringSubmatch(raw)
	if link == nil {
		t.Fatalf("sharing the licence gave no link: %s", raw)
	}
	put("share", "A", object{id: link[1], owner: otherCitizen})

	// 王五's 无房证明 (不动产), issued by the machine as at a kiosk.
	verified(t, a, demo.WangWu, 2) // the kiosk's card reader checks him against the registry
	wangP := personOf(t, a, demo.WangWu)
	wangP.Roles = []authz.Role{authz.Applicant}
	nh, err := a.applications.Drafts.Start(ctx, wangP, application.StartRequest{ItemCode: noHousing, Answers: map[string]string{"query_scope": "self"}, Channel: "kiosk"})
	if err == nil {
		nh, err = a.applications.Drafts.UpdateForm(ctx, wangP, nh.ID, map[string]any{"purpose": "purchase"})
	}
	if err == nil {
		nh, err = a.applications.Drafts.Submit(ctx, wangP, nh.ID, nh.Revision, "")
	}
	if err != nil {
		t.Fatal(err)
	}
	nhl, err := a.licences.ByApplication(ctx, nh.ID)
	if err != nil {
		t.Fatalf("王五's 无房证明 was not issued (%s %v): %v", nh.Status, nh.Reasons, err)
	}
	put("licence", "B", object{id: id(nhl.ID), owner: applicant, dept: "realestate"})
	shareOf := func(licence int64, who string) string {
		t.Helper()
		var sh struct {
			ID int64 `json:"id"`
		}
		_, _, raw := call(t, h, "POST", "/api/v1/me/licences/"+id(licence)+"/shares", strings.NewReader(`{"recipient":"示范银行","purpose":"开户"}`), withJSON(headers[who]))
		if err := json.Unmarshal([]byte(raw), &sh); err != nil || sh.ID == 0 {
			t.Fatalf("sharing licence %d as %s: %s", licence, who, raw)
		}
		return id(sh.ID)
	}
	put("licence_share", "A", object{id: id(l.ID), material: shareOf(l.ID, otherCitizen), owner: otherCitizen})
	put("licence_share", "B", object{id: id(nhl.ID), material: shareOf(nhl.ID, applicant), owner: applicant})
	put("licence_number", "B", object{id: nhl.Content.Number, owner: applicant, dept: "realestate"})
	// Bad ratings of both finished applications open a rectification each,
	// one for 民政 (张三's senior card) and one for 不动产 (王五's 无房证明).
	for which, bad := range map[string]struct {
		id, owner string
		app       int64
		dept      string
	}{"A": {demo.ZhangSan, otherCitizen, zhangApp, "civil"}, "B": {demo.WangWu, applicant, nh.ID, "realestate"}} {
		p := personOf(t, a, bad.id)
		p.Roles = []authz.Role{authz.Applicant}
		if _, err := a.ratings.RateOnline(ctx, p, bad.app, rating.Input{Stars: 1}); err != nil {
			t.Fatal(err)
		}
		var rect int64
		if err := a.identities.DB().QueryRowContext(ctx, `SELECT id FROM rectifications WHERE application_id = $1`, bad.app).Scan(&rect); err != nil {
			t.Fatal(err)
		}
		put("rectification", which, object{id: id(rect), owner: bad.owner, dept: bad.dept})
	}

	// 王五's senior card goes to people (machine approval suspended), past
	// the window's acceptance to 民政's review.
	civilHead := staffPrincipal(t, a, "head.civil")
	if err := a.applications.Decisions.SetMachineSuspended(ctx, civilHead, seniorCard, true, "test"); err != nil {
		t.Fatal(err)
	}
	wangPath, _ := applyForSeniorCard(t, h, headers[applicant])
	wangApp, err := strconv.ParseInt(strings.TrimPrefix(wangPath, "/me/applications/"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	clerkP := staffPrincipal(t, a, "clerk")
	openTask := func(p authz.Principal, app int64) int64 {
		t.Helper()
		tasks, err := a.applications.Tasks.Inbox(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			if task.ApplicationID == app {
				return task.ID
			}
		}
		return 0
	}
	if accept := openTask(clerkP, wangApp); accept != 0 {
		if _, err := a.applications.Tasks.DecideTask(ctx, clerkP, accept, 0, true, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	taskA := openTask(staffPrincipal(t, a, "reviewer.civil"), wangApp)
	if taskA == 0 {
		t.Fatal("王五's application has no open 民政 step")
	}
	put("application", "A", object{id: id(wangApp), owner: applicant, dept: "civil", material: "id_card"})
	put("decision", "A", object{id: id(wangApp), owner: applicant, dept: "civil"})
	put("task", "A", object{id: id(taskA), dept: "civil"})

	// 张三's property transfer, taken in at the clerk's hall, 王五 the buyer.
	transfer := queueTransfer(t, a, clerkP)
	taskB := openTask(staffPrincipal(t, a, "reviewer.realestate"), transfer)
	if taskB == 0 {
		t.Fatal("the property transfer has no open 不动产 step")
	}
	put("application", "B", object{id: id(transfer), owner: otherCitizen, dept: "realestate", material: "gift_contract"})
	put("task", "B", object{id: id(taskB), dept: "realestate"})
	put("invitation", "A", object{id: id(transfer), owner: applicant})
	put("invitation", "B", object{id: id(wangApp)})

	// Messages, people, accounts, an authorisation and the token.
	wang, err := a.identities.PersonByIDNumber(ctx, a.identities.DB(), demo.WangWu)
	if err != nil {
		t.Fatal(err)
	}
	zhang, err := a.identities.PersonByIDNumber(ctx, a.identities.DB(), demo.ZhangSan)
	if err != nil {
		t.Fatal(err)
	}
	msg := func(personID int64) int64 {
		return notifyAndDeliver(t, a, notify.Message{PersonID: personID, Kind: notify.Decision, TitleZh: "已办结", TitleEn: "Decided", BodyZh: "您的申请已办结。", BodyEn: "Your application is decided."})
	}
	put("notification", "A", object{id: id(msg(wang.ID)), owner: applicant})
	put("notification", "B", object{id: id(msg(zhang.ID)), owner: otherCitizen})
	put("person", "A", object{id: id(wang.ID), owner: applicant})
	put("person", "B", object{id: id(zhang.ID), owner: otherCitizen})
	spare, err := a.identities.CreateStaff(ctx, identity.NewStaff{Username: "spare.reviewer", DisplayName: "备用 审核", Password: demo.Password, Department: "tax", Region: "910102",
		Roles: []authz.Role{authz.Reviewer, authz.Head}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	adminAcc, err := a.identities.Login(ctx, "sysadmin", demo.Password)
	if err != nil {
		t.Fatal(err)
	}
	put("account", "A", object{id: id(spare.ID), dept: "tax"})
	put("account", "B", object{id: id(adminAcc.ID), owner: sysAdmin})
	code, body, _ := call(t, h, "POST", "/api/v1/me/authorisations", strings.NewReader(`{"agent_id_number":"11010519491231002X","agent_name":"赵六","scope":["*"],"expires_at":"`+
		time.Now().AddDate(0, 1, 0).UTC().Format(time.RFC3339)+`"}`), withJSON(headers[legalRep]))
	if code != 201 {
		t.Fatalf("authorise an agent: %d %v", code, body)
	}
	put("authorisation", "A", object{id: id(int64(body["id"].(float64))), owner: legalRep})
	put("token", "A", object{id: id(token.ID), owner: system})

	// The senior card as a filing: 张三's application goes on public notice.
	seniorCardIn(t, h, "approval: {mode: filing, notice_days: 5}")
	applyForSeniorCard(t, h, headers[otherCitizen])
	var notice int64
	if err := a.identities.DB().QueryRowContext(ctx, `SELECT id FROM notices ORDER BY id DESC LIMIT 1`).Scan(&notice); err != nil {
		t.Fatalf("no filing on public notice: %v", err)
	}
	put("notice", "A", object{id: id(notice), owner: otherCitizen, dept: "civil"})
	// 企业开办 bundle cases of 王五 (A) and 张三 (B): the registration alone.
	for which, login := range map[string]string{"A": demo.WangWu, "B": demo.ZhangSan} {
		verified(t, a, login, 3)
		p := personOf(t, a, login)
		p.Roles = []authz.Role{authz.Applicant}
		form := map[string]any{"company_name": "示范市明德区" + which + "记科技有限公司", "address": "示范市明德区福安街道创业路8号", "scope": "软件开发",
			"investment": 10.0}
		c, err := a.bundles.Submit(ctx, p, "business_startup", bundle.SubmitRequest{Consent: true, Form: form, Answers: map[string]string{
			"want_seals": "no", "want_invoices": "no", "hire_staff": "no", "want_bank": "no", "entity_type": "sole", "premises": "leased"}})
		if err != nil {
			t.Fatalf("%s's 企业开办: %v", login, err)
		}
		owner := applicant
		if which == "B" {
			owner = otherCitizen
		}
		put("bundle", which, object{id: id(c.ID), owner: owner})
	}
	// Repairs of credit records: of 张三's senior card (民政, A) and of
	// 王五's 无房证明 (不动产, B), each record half a year old.
	for which, rec := range map[string]struct {
		app   int64
		login string
		owner string
		dept  string
	}{"A": {zhangApp, demo.ZhangSan, otherCitizen, "civil"}, "B": {nh.ID, demo.WangWu, applicant, "realestate"}} {
		p := personOf(t, a, rec.login)
		var record int64
		if err := a.identities.DB().QueryRowContext(ctx, `INSERT INTO credit_records (person_id, application_id, kind, ref, note, created_at)
			VALUES ($1, $2, 'false_commitment', 'objects', '核查不实', $3) RETURNING id`, p.PersonID, rec.app, time.Now().AddDate(0, -7, 0)).Scan(&record); err != nil {
			t.Fatal(err)
		}
		r, err := a.credit.Apply(ctx, p, credit.RepairRequest{RecordID: record, Statement: "已如实补正", Pledge: true})
		if err != nil || r.Status != "pending" {
			t.Fatalf("%s's credit repair: %+v %v", rec.login, r, err)
		}
		put("credit_repair", which, object{id: id(r.ID), owner: rec.owner, dept: rec.dept})
	}
	// Questions of 王五 to 民政 (A) and of 张三 to 不动产 (B), under their names.
	for which, q := range map[string]struct{ login, dept string }{"A": {demo.WangWu, "civil"}, "B": {demo.ZhangSan, "realestate"}} {
		p := personOf(t, a, q.login)
		c, err := a.consults.Submit(ctx, p, "192.0.2.1", consult.NewConsultation{Kind: consult.Question, Department: q.dept, Text: "请问这个事项怎么办理？"})
		if err != nil {
			t.Fatalf("%s's question: %v", q.login, err)
		}
		owner := applicant
		if which == "B" {
			owner = otherCitizen
		}
		put("consultation", which, object{id: id(c.ID), owner: owner, dept: q.dept})
	}
	return w, headers
}
