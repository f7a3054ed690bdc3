-- The channels a person chose beyond the inbox, which is always on: email
-- and SMS are opt-in, each with its address sealed like every other piece of
-- personal data (internal/pii, bound to its column). A row is an account's,
-- as /me is: messages to a person reach the chosen channels of every account
-- of theirs. A NULL address is a channel not chosen.
CREATE TABLE notify_channels (
	account_id BIGINT PRIMARY KEY REFERENCES accounts(id),
	email_enc  TEXT,
	phone_enc  TEXT,
	updated_at TIMESTAMPTZ NOT NULL
);

-- A delivery by email or SMS is its own outbox row, with its own status,
-- attempts, last error and job; source_id names the in-app message it
-- copies, so the operators see which message a failed delivery belonged to.
ALTER TABLE outbox_messages ADD COLUMN source_id BIGINT REFERENCES outbox_messages(id);

-- A webhook delivery names its endpoint (another government system, from
-- --webhooks-file) by name; empty for the other channels.
ALTER TABLE outbox_messages ADD COLUMN target TEXT NOT NULL DEFAULT '';

-- The delivery log: every attempt of every delivery, when, and what the
-- other side answered, so operators can tell a flaky system from a down one.
CREATE TABLE outbox_attempts (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	message_id BIGINT NOT NULL REFERENCES outbox_messages(id),
	attempt    INTEGER NOT NULL,
	at         TIMESTAMPTZ NOT NULL,
	ok         BOOLEAN NOT NULL,
	error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_attempts_message ON outbox_attempts(message_id, id);

-- Dead letters: the administrators' list of failed deliveries, newest first.
CREATE INDEX outbox_messages_failed ON outbox_messages(id) WHERE status = 'failed';
