package authz

import (
	"testing"

	"yiwang/internal/apperr"
)

func TestRolesGrantPermissions(t *testing.T) {
	staff := func(roles ...Role) Principal { return Principal{AccountID: 1, Kind: "staff", Roles: roles} }
	tests := []struct {
		p    Principal
		perm Permission
		want bool
	}{
		{Anonymous, Public, true},
		{Anonymous, SignedIn, false},
		{Anonymous, ActForOwn, false},
		{Principal{AccountID: 2, Kind: "person", Roles: []Role{Applicant}}, ActForOwn, true},
		{Principal{AccountID: 2, Kind: "person", Roles: []Role{Applicant}}, CatalogManage, false},
		{staff(CatalogAdmin), CatalogManage, true},
		{staff(Reviewer), Decide, false},
		{staff(Head), Decide, true},
		{staff(Clerk), WindowIntake, true},
		{staff(Supervisor), PersonalAudit, true},
		{staff(Supervisor), PersonalDataRaw, false},
		{staff(SysAdmin), AccountsManage, true},
		{staff(SysAdmin), CatalogManage, false},
		// A token is limited by its scopes and by its owner's roles.
		{Principal{AccountID: 3, Kind: "system", Roles: []Role{CatalogAdmin}, Scopes: []Permission{CatalogManage}}, CatalogManage, true},
		{Principal{AccountID: 3, Kind: "system", Roles: []Role{CatalogAdmin, SysAdmin}, Scopes: []Permission{CatalogManage}}, AccountsManage, false},
		{Principal{AccountID: 3, Kind: "system", Roles: []Role{Applicant}, Scopes: []Permission{CatalogManage}}, CatalogManage, false},
	}
	for _, tt := range tests {
		if got := tt.p.Can(tt.perm); got != tt.want {
			t.Errorf("%s %v Can(%s) = %v, want %v", tt.p.Kind, tt.p.Roles, tt.perm, got, tt.want)
		}
	}
	if err := Require(Anonymous, ActForOwn); !apperr.Is(err, apperr.Unauthenticated) {
		t.Errorf("anonymous: %v", err)
	}
	if err := Require(staff(Clerk), CatalogManage); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("clerk managing the catalogue: %v", err)
	}
}

func TestScopeCovers(t *testing.T) {
	tests := []struct {
		scope, item, hall string
		want              bool
	}{
		{"district", "910102", "910102001", true},
		{"district", "910102", "910103", false},
		{"", "910102", "910103", false},
		{"city", "910102", "910103", true},
		{"city", "910102", "910203", false},
		{"province", "910102", "910203", true},
		{"province", "910102", "920203", false},
		{"national", "910102", "440304", true},
		{"galaxy", "910102", "910102", false},
	}
	for _, tt := range tests {
		if got := ScopeCovers(tt.scope, tt.item, tt.hall); got != tt.want {
			t.Errorf("ScopeCovers(%q, %s, %s) = %v", tt.scope, tt.item, tt.hall, got)
		}
	}
	clerk := Principal{AccountID: 1, Kind: "staff", Roles: []Role{Clerk}}
	if err := ClerkMayAccept(clerk, "district", "910102", "910103001"); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("clerk outside the district: %v", err)
	}
	reviewer := Principal{AccountID: 1, Kind: "staff", Roles: []Role{Reviewer}, Department: "civil"}
	if err := ReviewsDepartment(reviewer, "psb"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("reviewer outside the department: %v", err)
	}
	if err := ReviewsDepartment(reviewer, "civil"); err != nil {
		t.Errorf("reviewer in the department: %v", err)
	}
}
