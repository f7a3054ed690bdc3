-- Every table that points at an application is indexed by that column, so
-- that removing an application (the bench tool's floor takes its own rows
-- away again) checks the references along an index instead of reading the
-- whole table once for each row removed: with tens of thousands of
-- notifications, removing 500 floor rows held the write lock for minutes.
-- The same text for both backends.
CREATE INDEX idempotency_keys_application ON idempotency_keys(application_id);
CREATE INDEX outbox_messages_application ON outbox_messages(application_id);
CREATE INDEX accountability_records_application ON accountability_records(application_id);
