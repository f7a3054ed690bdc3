-- The notifications outbox: everything that tells a person something is a
-- row here, written in the transaction of the change that causes it and
-- delivered by a durable job. A recipient is an account, or a person who may
-- have no account yet (a co-party named by ID number); a person's account
-- sees both. Kind and channel are checked in Go, so a new channel needs no
-- migration.
CREATE TABLE outbox_messages (
	id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id     BIGINT REFERENCES accounts(id),
	person_id      BIGINT REFERENCES persons(id),
	kind           TEXT NOT NULL,
	channel        TEXT NOT NULL,
	title_zh       TEXT NOT NULL,
	title_en       TEXT NOT NULL,
	body_zh        TEXT NOT NULL,
	body_en        TEXT NOT NULL,
	link           TEXT NOT NULL DEFAULT '',
	application_id BIGINT REFERENCES applications(id),
	status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
	attempts       INTEGER NOT NULL DEFAULT 0,
	last_error     TEXT NOT NULL DEFAULT '',
	created_at     TIMESTAMPTZ NOT NULL,
	delivered_at   TIMESTAMPTZ,
	read_at        TIMESTAMPTZ,
	CHECK (account_id IS NOT NULL OR person_id IS NOT NULL)
);
CREATE INDEX outbox_messages_account ON outbox_messages(account_id, id);
CREATE INDEX outbox_messages_person ON outbox_messages(person_id, id);
