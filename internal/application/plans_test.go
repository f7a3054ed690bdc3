package application

import (
	"testing"
	"time"

	"yiwang/internal/authz"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestListsAreReadAlongIndexes: the lists of applications and steps that
// grow with the database — my applications, every inbox (a hall's too),
// the overdue board — are read through indexes (migrations 0019, 0022),
// never through a whole table.
func TestListsAreReadAlongIndexes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		now := time.Now()
		storetest.Indexed(t, db, []string{"applications"}, `SELECT `+columns+` FROM applications WHERE id IN (`+mineIDs+`) ORDER BY id DESC LIMIT 200`, 1, 2, 3)
		for _, p := range []authz.Principal{
			{AccountID: 1, Department: "gsdb", Roles: []authz.Role{authz.Clerk}},
			{AccountID: 2, Department: "civil", Roles: []authz.Role{authz.Reviewer}},
			{AccountID: 3, Department: "realestate", Roles: []authz.Role{authz.Reviewer, authz.Head}},
			{AccountID: 4, Department: "civil", HallID: 2, Roles: []authz.Role{authz.Reviewer, authz.Head}}, // a street hall's (migration 0022)
		} {
			q, args := inboxQuery(p)
			storetest.Indexed(t, db, []string{"tasks t", "applications a"}, `SELECT `+taskColumns+` FROM tasks t JOIN applications a ON a.id = t.application_id WHERE `+q, args...)
		}
		storetest.Indexed(t, db, []string{"tasks t", "applications a"}, lateStepsQuery, now, BoardCases)
		storetest.Indexed(t, db, []string{"tasks", "tasks t", "applications a"}, lateStepsCountQuery, now)
		storetest.Indexed(t, db, []string{"applications a", "tasks t"}, lateApplicationsQuery, now, BoardCases)
		storetest.Indexed(t, db, []string{"applications a", "tasks t"}, lateApplicationsCountQuery, now)
		storetest.Indexed(t, db, []string{"tasks t", "applications a"}, stepsOfQuery([]string{"1", "2"}))
	})
}
