package notify

import (
	"testing"

	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestInboxIsReadAlongIndexes: the inbox and its unread count, on every
// page, read a person's messages along their indexes (migration 0019),
// never the whole outbox.
func TestInboxIsReadAlongIndexes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		storetest.Indexed(t, db, []string{"outbox_messages"}, unreadQuery, 1, 2)
		storetest.Indexed(t, db, []string{"outbox_messages"}, pageQuery(` AND id < $4 AND read_at IS NULL`), 1, 2, 20, 100)
	})
}
