package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"yiwang/internal/demo"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestAccessLicenceRevocationGoesThroughTheApplication: the machine's
// decision record is for the deciding department and supervisors, masked;
// the licence API refuses a head of another department before it writes
// anything, and a head of the issuing department revokes the application
// with the licence (status, timeline), not the licence alone.
func TestAccessLicenceRevocationGoesThroughTheApplication(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		h, a := citizenServerOn(t, db)
		appPath, _ := applyForSeniorCard(t, h, signIn(t, h, demo.ZhangSan))
		id, err := strconv.ParseInt(strings.TrimPrefix(appPath, "/me/applications/"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		l, err := a.licences.ByApplication(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		path := "/api/v1/admin/licences/" + l.Content.Number + "/revoke"
		watcher := staffPrincipal(t, a, "supervisor")
		before, err := a.applications.Tasks.StaffApplication(ctx, watcher, id)
		if err != nil || before.Status != "licence_issued" {
			t.Fatalf("the senior card was not issued at once: %s, %v", before.Status, err)
		}

		// The machine's decision record is 民政's and supervisors', masked.
		decision := "/api/v1/admin/decisions/" + strconv.FormatInt(id, 10)
		if code, body, _ := call(t, h, "GET", decision, nil, signIn(t, h, "reviewer.realestate")); code != http.StatusNotFound {
			t.Errorf("another department's reviewer reading the decision record: %d %v, want 404", code, body)
		}
		for _, login := range []string{"reviewer.civil", "supervisor"} {
			code, _, raw := call(t, h, "GET", decision, nil, signIn(t, h, login))
			if code != http.StatusOK || strings.Contains(raw, demo.ZhangSan) || !strings.Contains(raw, pii.MaskIDNumber(demo.ZhangSan)) {
				t.Errorf("%s reading the decision record: %d, want it with the ID number masked:\n%s", login, code, raw)
			}
		}

		// 不动产's head may revoke licences, but not 民政's.
		if code, body, _ := call(t, h, "POST", path, strings.NewReader(`{"reason":"不是本部门的证照"}`), withJSON(signIn(t, h, "reviewer.realestate"))); code != http.StatusNotFound {
			t.Errorf("another department's head revoking the licence: %d %v, want 404", code, body)
		}
		after, _ := a.applications.Tasks.StaffApplication(ctx, watcher, id)
		if after.Status != "licence_issued" || after.Revision != before.Revision || len(after.Timeline) != len(before.Timeline) {
			t.Errorf("the refused revocation changed the application: %s, revision %d → %d", after.Status, before.Revision, after.Revision)
		}
		if v, err := a.licences.VerifyNumber(ctx, l.Content.Number); err != nil || v.Result != "valid" {
			t.Errorf("after the refused revocation the licence verifies as %s, %v", v.Result, err)
		}

		// 民政's head revokes it: the application is revoked with it.
		if code, body, _ := call(t, h, "POST", path, strings.NewReader(`{"reason":"申请人户籍信息有误"}`), withJSON(signIn(t, h, "head.civil"))); code != http.StatusOK || body["status"] != "revoked" {
			t.Fatalf("the issuing department's head revoking: %d %v", code, body)
		}
		after, _ = a.applications.Tasks.StaffApplication(ctx, watcher, id)
		if last := after.Timeline[len(after.Timeline)-1]; after.Status != "revoked" || last.Action != "revoke" || last.Note != "申请人户籍信息有误" {
			t.Errorf("after revoking the licence the application is %s, its last event %+v", after.Status, last)
		}
	})
}
