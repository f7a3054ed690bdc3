-- Every role grant, kept after the role itself is revoked: who gave which
-- role to whom, and when (granted_by NULL: the command line or seeding).
CREATE TABLE role_grants (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id BIGINT NOT NULL REFERENCES accounts(id),
	role       TEXT NOT NULL,
	granted_by BIGINT REFERENCES accounts(id),
	granted_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX role_grants_account ON role_grants(account_id, id);
