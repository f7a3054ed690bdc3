-- Identity and organisation: people, enterprises, accounts, roles, sessions,
-- API tokens, authorisations to act for an enterprise, service halls and
-- windows, rate-limit events and the log of who saw unmasked personal data.
-- ID numbers are stored only encrypted (*_enc) and found through a keyed
-- blind index (*_idx); the keys are never in the database.

CREATE TABLE persons (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	id_number_enc TEXT NOT NULL,
	id_number_idx TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	birth_date    TEXT NOT NULL,
	sex           TEXT NOT NULL CHECK (sex IN ('male', 'female')),
	phone_enc     TEXT,
	created_at    TIMESTAMP NOT NULL
);

CREATE TABLE enterprises (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	credit_code      TEXT NOT NULL UNIQUE,
	name             TEXT NOT NULL,
	legal_rep_person INTEGER REFERENCES persons(id),
	status           TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'cancelled')),
	created_at       TIMESTAMP NOT NULL
);

CREATE TABLE halls (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	code        TEXT NOT NULL UNIQUE,
	region_code TEXT NOT NULL REFERENCES regions(code),
	name_zh     TEXT NOT NULL,
	name_en     TEXT NOT NULL,
	address     TEXT NOT NULL DEFAULT ''
);

CREATE TABLE hall_windows (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	hall_id INTEGER NOT NULL REFERENCES halls(id),
	number  TEXT NOT NULL,
	name_zh TEXT NOT NULL,
	name_en TEXT NOT NULL,
	UNIQUE (hall_id, number)
);

CREATE TABLE accounts (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	kind            TEXT NOT NULL CHECK (kind IN ('person', 'staff', 'system')),
	username        TEXT UNIQUE,
	person_id       INTEGER UNIQUE REFERENCES persons(id),
	display_name    TEXT NOT NULL,
	password_hash   TEXT,
	real_name_level INTEGER NOT NULL DEFAULT 1 CHECK (real_name_level BETWEEN 1 AND 3),
	department_code TEXT REFERENCES departments(code),
	region_code     TEXT REFERENCES regions(code),
	hall_id         INTEGER REFERENCES halls(id),
	failed_logins   INTEGER NOT NULL DEFAULT 0,
	locked_until    TIMESTAMP,
	disabled_at     TIMESTAMP,
	created_at      TIMESTAMP NOT NULL,
	updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE account_roles (
	account_id INTEGER NOT NULL REFERENCES accounts(id),
	role       TEXT NOT NULL,
	granted_by INTEGER REFERENCES accounts(id),
	granted_at TIMESTAMP NOT NULL,
	PRIMARY KEY (account_id, role)
);

CREATE TABLE oidc_links (
	issuer     TEXT NOT NULL,
	subject    TEXT NOT NULL,
	account_id INTEGER NOT NULL REFERENCES accounts(id),
	linked_at  TIMESTAMP NOT NULL,
	PRIMARY KEY (issuer, subject)
);

CREATE TABLE sessions (
	token_hash   TEXT PRIMARY KEY,
	account_id   INTEGER NOT NULL REFERENCES accounts(id),
	csrf_token   TEXT NOT NULL,
	acting_for   INTEGER REFERENCES enterprises(id),
	created_at   TIMESTAMP NOT NULL,
	expires_at   TIMESTAMP NOT NULL,
	last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_account ON sessions(account_id);

CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	name         TEXT NOT NULL,
	token_hash   TEXT NOT NULL UNIQUE,
	account_id   INTEGER NOT NULL REFERENCES accounts(id),
	scopes       TEXT NOT NULL,
	created_by   INTEGER REFERENCES accounts(id),
	created_at   TIMESTAMP NOT NULL,
	expires_at   TIMESTAMP,
	revoked_at   TIMESTAMP,
	last_used_at TIMESTAMP
);

CREATE TABLE authorisations (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	enterprise   INTEGER NOT NULL REFERENCES enterprises(id),
	agent_person INTEGER NOT NULL REFERENCES persons(id),
	scope        TEXT NOT NULL,
	valid_from   TIMESTAMP NOT NULL,
	expires_at   TIMESTAMP NOT NULL,
	revoked_at   TIMESTAMP,
	created_by   INTEGER NOT NULL REFERENCES accounts(id),
	created_at   TIMESTAMP NOT NULL
);
CREATE INDEX authorisations_agent ON authorisations(agent_person);

CREATE TABLE rate_events (
	account_id INTEGER NOT NULL,
	action     TEXT NOT NULL,
	at         TIMESTAMP NOT NULL
);
CREATE INDEX rate_events_lookup ON rate_events(account_id, action, at);

CREATE TABLE pii_access_log (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	at             TIMESTAMP NOT NULL,
	staff_account  BIGINT NOT NULL,
	staff_name     TEXT NOT NULL,
	subject_person BIGINT NOT NULL,
	fields         TEXT NOT NULL,
	purpose        TEXT NOT NULL,
	request_id     TEXT NOT NULL
);
CREATE INDEX pii_access_log_subject ON pii_access_log(subject_person, at);
CREATE INDEX pii_access_log_staff ON pii_access_log(staff_account, at);
