// Package authz decides who may do what. It is the one place where roles
// turn into permissions: handlers ask Require or Can, never compare roles.
//
// Every route names the permission it needs when it is registered (see
// httpx.Router), and handlers that serve one person's or one enterprise's
// records also check ownership with SeesPerson and SeesEnterprise.
package authz

import (
	"context"
	"slices"

	"yiwang/internal/apperr"
)

// Role is a job a person does on the platform.
type Role string

// The roles.
const (
	Applicant    Role = "applicant"     // a person or an enterprise's representative
	Clerk        Role = "clerk"         // 综合窗口: accepts applications at a hall window
	Reviewer     Role = "reviewer"      // 后台审批: reviews in one department
	Head         Role = "head"          // department head: decides
	Supervisor   Role = "supervisor"    // 电子监察: deadlines, audits, complaints
	CatalogAdmin Role = "catalog_admin" // 事项管理: writes and publishes items
	SysAdmin     Role = "sys_admin"     // accounts, roles, tokens, configuration
)

// Roles lists every role, for forms and tests.
var Roles = []Role{Applicant, Clerk, Reviewer, Head, Supervisor, CatalogAdmin, SysAdmin}

// Permission is something a route or an action needs.
type Permission string

// The permissions. Public and SignedIn are granted by who you are, the rest
// by roles (or, for other systems, by their API token's scopes).
const (
	Public          Permission = "public"          // anyone, signed in or not
	SignedIn        Permission = "signed_in"       // any signed-in person, staff member or system
	ActForOwn       Permission = "act_for_own"     // apply and manage one's own (or one's enterprise's) affairs
	CatalogManage   Permission = "catalog:manage"  // import, publish, retire, diff items
	AccountsManage  Permission = "accounts:manage" // create staff, grant roles, issue API tokens
	OrgManage       Permission = "org:manage"      // halls, windows
	PersonalDataRaw Permission = "pii:view"        // see unmasked personal data (every view is logged)
	PersonalAudit   Permission = "pii:audit"       // list who viewed personal data
	WindowIntake    Permission = "window:intake"   // accept walk-in applications
	ReviewTasks     Permission = "review:tasks"    // work a queue of tasks: acceptance (clerks), a department's review steps
	Decide          Permission = "review:decide"   // approve or reject
	Supervise       Permission = "supervise"       // overdue board, spot checks, complaints
	DecisionTrace   Permission = "decision:trace"  // read a machine decision's full record
	MachineSwitch   Permission = "machine:switch"  // suspend or resume an item's machine approval
	CalendarManage  Permission = "calendar:manage" // load a year of the working-day calendar
	LicenceRevoke   Permission = "licence:revoke"  // revoke an issued e-licence
	OverdueView     Permission = "overdue:view"    // the board of late and nearly late cases, and accountability records
	Inspect         Permission = "review:inspect"  // record the inspection of a commitment approval (告知承诺核查)
	DeadLetters     Permission = "notify:failed"   // list notifications that could not be delivered, with their errors
	NotifyRetry     Permission = "notify:retry"    // send failed notifications again
	Rectify         Permission = "rating:rectify"  // answer the bad ratings of one's department (整改)
	RatePhone       Permission = "rating:phone"    // record a rating a person gave on the phone
	InsightView     Permission = "insight:view"    // the service-performance dashboard (政务服务效能): a head their department's, a supervisor all
)

// grants is the whole policy: what each role may do.
var grants = map[Role][]Permission{
	Applicant:    {ActForOwn},
	Clerk:        {WindowIntake, ReviewTasks, PersonalDataRaw},
	Reviewer:     {ReviewTasks, PersonalDataRaw, DecisionTrace, Inspect, Rectify},
	Head:         {ReviewTasks, Decide, PersonalDataRaw, DecisionTrace, LicenceRevoke, Inspect, Rectify, InsightView},
	Supervisor:   {Supervise, PersonalAudit, DecisionTrace, MachineSwitch, OverdueView, RatePhone, InsightView}, // watches, never revokes: the issuing department does
	CatalogAdmin: {CatalogManage, MachineSwitch},
	SysAdmin:     {AccountsManage, OrgManage, PersonalAudit, CalendarManage, OverdueView, DeadLetters, NotifyRetry},
}

// Scopes an API token may carry: the permissions other systems can be given.
var Scopes = []Permission{CatalogManage, OrgManage, ActForOwn}

// Enterprise is the enterprise a person is acting for in this session.
type Enterprise struct {
	ID         int64    `json:"id"`
	CreditCode string   `json:"credit_code"`
	Name       string   `json:"name"`
	Via        string   `json:"via"`             // "legal_representative" or "authorisation"
	Scope      []string `json:"scope,omitempty"` // item codes the authorisation covers; empty = all
}

// Principal is who is making a request.
type Principal struct {
	AccountID     int64       `json:"account_id,omitempty"`
	Kind          string      `json:"kind"` // anonymous, person, staff, system
	Name          string      `json:"name,omitempty"`
	PersonID      int64       `json:"-"`
	Roles         []Role      `json:"roles,omitempty"`
	Department    string      `json:"department,omitempty"`
	Region        string      `json:"region,omitempty"`
	HallID        int64       `json:"hall_id,omitempty"`
	RealNameLevel int         `json:"real_name_level,omitempty"`
	ActingFor     *Enterprise `json:"acting_for,omitempty"`
	// Scopes limits an API token to these permissions; nil for sessions.
	Scopes []Permission `json:"scopes,omitempty"`
	// Via is how the request authenticated: "session", "token" or "".
	Via string `json:"via,omitempty"`
}

// Anonymous is the principal of a request without credentials.
var Anonymous = Principal{Kind: "anonymous"}

// SignedIn reports whether the principal is anyone at all.
func (p Principal) SignedIn() bool { return p.AccountID != 0 }

// Has reports whether the principal holds role.
func (p Principal) Has(role Role) bool { return slices.Contains(p.Roles, role) }

// Can reports whether the principal has perm.
func (p Principal) Can(perm Permission) bool {
	switch perm {
	case Public:
		return true
	case SignedIn:
		return p.SignedIn()
	}
	if !p.SignedIn() {
		return false
	}
	granted := false
	for _, r := range p.Roles {
		if slices.Contains(grants[r], perm) {
			granted = true
			break
		}
	}
	if p.Scopes != nil {
		// A token never exceeds its scopes, nor its owner's roles.
		return granted && slices.Contains(p.Scopes, perm)
	}
	return granted
}

// Require returns nil if the principal has perm, or an error telling an
// anonymous caller to sign in and a signed-in one what is missing.
func Require(p Principal, perm Permission) error {
	if p.Can(perm) {
		return nil
	}
	if !p.SignedIn() {
		return apperr.New(apperr.Unauthenticated, apperr.SignInRequired, "sign in first: this needs an account")
	}
	return apperr.New(apperr.Forbidden, apperr.PermissionDenied, "your account may not do this (it needs the %s permission)", perm)
}

// InsightDepartment is the one department whose performance figures p
// may see, or "" for every department: supervisors watch all of them, a
// department head only their own.
func (p Principal) InsightDepartment() string {
	if p.Has(Supervisor) {
		return ""
	}
	return p.Department
}

// SeesPerson reports whether p may see records belonging to person id:
// the person themself, or staff with a need (their roles decide elsewhere).
func (p Principal) SeesPerson(personID int64) bool {
	return personID != 0 && p.PersonID == personID
}

// SeesEnterprise reports whether p currently acts for enterprise id.
func (p Principal) SeesEnterprise(enterpriseID int64) bool {
	return enterpriseID != 0 && p.ActingFor != nil && p.ActingFor.ID == enterpriseID
}

// NotYours is the error for a record the principal may not see. It is a
// not-found, so that probing ids reveals nothing about other people's records.
// what names the kind of record, and so the not-found code.
func NotYours(what string) error {
	const msg = "no such %s among yours"
	switch what {
	case "application":
		return apperr.New(apperr.NotFound, apperr.ApplicationNotFound, msg, what)
	case "bundle":
		return apperr.New(apperr.NotFound, apperr.BundleCaseNotFound, msg, what)
	case "authorisation":
		return apperr.New(apperr.NotFound, apperr.AuthorisationNotFound, msg, what)
	case "enterprise":
		return apperr.New(apperr.NotFound, apperr.EnterpriseNotFound, msg, what)
	case "invitation":
		return apperr.New(apperr.NotFound, apperr.InvitationNotFound, msg, what)
	case "notification":
		return apperr.New(apperr.NotFound, apperr.NotificationNotFound, msg, what)
	}
	return apperr.New(apperr.NotFound, apperr.NoSuchThing, msg, what)
}

// RequireRealName refuses a principal whose real-name level is below level,
// saying how to raise it.
func RequireRealName(p Principal, level int) error {
	if p.RealNameLevel >= level {
		return nil
	}
	how := map[int]string{
		2: "sign in at a self-service kiosk with your identity card, or through the unified identity platform",
		3: "bring your identity card to a window at any service hall, where a clerk checks it in person",
	}[level]
	return apperr.New(apperr.Forbidden, apperr.RealNameLevelTooLow, "this service needs real-name level %d, your account has level %d: %s", level, p.RealNameLevel, how)
}

type principalKey struct{}

// With returns ctx carrying p.
func With(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// From returns the principal in ctx, Anonymous if none.
func From(ctx context.Context) Principal {
	if p, ok := ctx.Value(principalKey{}).(Principal); ok {
		return p
	}
	return Anonymous
}

// ScopeCovers reports whether an item with 通办 scope, implemented by a
// department in region itemRegion, may be accepted at a hall in hallRegion.
// Region codes follow GB/T 2260: two digits of province, two of city, two of
// district, then street and community digits.
func ScopeCovers(scope, itemRegion, hallRegion string) bool {
	prefix := map[string]int{"": 6, "district": 6, "city": 4, "province": 2, "national": 0}
	n, ok := prefix[scope]
	if !ok || len(itemRegion) < n || len(hallRegion) < n {
		return false
	}
	return itemRegion[:n] == hallRegion[:n]
}

// ClerkMayAccept refuses a clerk whose hall is outside an item's scope.
func ClerkMayAccept(p Principal, scope, itemRegion, hallRegion string) error {
	if err := Require(p, WindowIntake); err != nil {
		return err
	}
	if !ScopeCovers(scope, itemRegion, hallRegion) {
		return apperr.New(apperr.Forbidden, apperr.OutsideScope, "this item can be handled only within its %s; your hall is outside it", scopeName(scope))
	}
	return nil
}

func scopeName(scope string) string {
	if scope == "" {
		return "district"
	}
	return scope
}

// ReviewsDepartment refuses staff who would review outside their department.
func ReviewsDepartment(p Principal, department string) error {
	if err := Require(p, ReviewTasks); err != nil {
		return err
	}
	if p.Department != department {
		return apperr.New(apperr.NotFound, apperr.TaskNotFound, "no such task in your department")
	}
	return nil
}
