-- Every role grant, kept after the role itself is revoked: who gave which
-- role to whom, and when (granted_by NULL: the command line or seeding), and
-- who took it away, and when (revoked_at NULL: still held).
CREATE TABLE role_grants (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id BIGINT NOT NULL REFERENCES accounts(id),
	role       TEXT NOT NULL,
	granted_by BIGINT REFERENCES accounts(id),
	granted_at TIMESTAMP NOT NULL,
	revoked_by BIGINT REFERENCES accounts(id),
	revoked_at TIMESTAMP
);
CREATE INDEX role_grants_account ON role_grants(account_id, id);
