-- Identity and organisation: people, enterprises, accounts, roles, sessions,
-- API tokens, authorisations to act for an enterprise, service halls and
-- windows, rate-limit events and the log of who saw unmasked personal data.
-- ID numbers are stored only encrypted (*_enc) and found through a keyed
-- blind index (*_idx); the keys are never in the database.

CREATE TABLE persons (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id_number_enc TEXT NOT NULL,
	id_number_idx TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	birth_date    TEXT NOT NULL,
	sex           TEXT NOT NULL CHECK (sex IN ('male', 'female')),
	phone_enc     TEXT,
	created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE enterprises (
	id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	credit_code      TEXT NOT NULL UNIQUE,
	name             TEXT NOT NULL,
	legal_rep_person BIGINT REFERENCES persons(id),
	status           TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'cancelled')),
	created_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE halls (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code        TEXT NOT NULL UNIQUE,
	region_code TEXT NOT NULL REFERENCES regions(code),
	name_zh     TEXT NOT NULL,
	name_en     TEXT NOT NULL,
	address     TEXT NOT NULL DEFAULT ''
);

CREATE TABLE hall_windows (
	id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	hall_id BIGINT NOT NULL REFERENCES halls(id),
	number  TEXT NOT NULL,
	name_zh TEXT NOT NULL,
	name_en TEXT NOT NULL,
	UNIQUE (hall_id, number)
);

CREATE TABLE accounts (
	id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind            TEXT NOT NULL CHECK (kind IN ('person', 'staff', 'system')),
	username        TEXT UNIQUE,
	person_id       BIGINT UNIQUE REFERENCES persons(id),
	display_name    TEXT NOT NULL,
	password_hash   TEXT,
	real_name_level INTEGER NOT NULL DEFAULT 1 CHECK (real_name_level BETWEEN 1 AND 3),
	department_code TEXT REFERENCES departments(code),
	region_code     TEXT REFERENCES regions(code),
	hall_id         BIGINT REFERENCES halls(id),
	failed_logins   INTEGER NOT NULL DEFAULT 0,
	locked_until    TIMESTAMPTZ,
	disabled_at     TIMESTAMPTZ,
	created_at      TIMESTAMPTZ NOT NULL,
	updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE account_roles (
	account_id BIGINT NOT NULL REFERENCES accounts(id),
	role       TEXT NOT NULL,
	granted_by BIGINT REFERENCES accounts(id),
	granted_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (account_id, role)
);

CREATE TABLE oidc_links (
	issuer     TEXT NOT NULL,
	subject    TEXT NOT NULL,
	account_id BIGINT NOT NULL REFERENCES accounts(id),
	linked_at  TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (issuer, subject)
);

CREATE TABLE sessions (
	token_hash   TEXT PRIMARY KEY,
	account_id   BIGINT NOT NULL REFERENCES accounts(id),
	csrf_token   TEXT NOT NULL,
	acting_for   BIGINT REFERENCES enterprises(id),
	created_at   TIMESTAMPTZ NOT NULL,
	expires_at   TIMESTAMPTZ NOT NULL,
	last_seen_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_account ON sessions(account_id);

CREATE TABLE api_tokens (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name         TEXT NOT NULL,
	token_hash   TEXT NOT NULL UNIQUE,
	account_id   BIGINT NOT NULL REFERENCES accounts(id),
	scopes       TEXT NOT NULL,
	created_by   BIGINT REFERENCES accounts(id),
	created_at   TIMESTAMPTZ NOT NULL,
	expires_at   TIMESTAMPTZ,
	revoked_at   TIMESTAMPTZ,
	last_used_at TIMESTAMPTZ
);

CREATE TABLE authorisations (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	enterprise   BIGINT NOT NULL REFERENCES enterprises(id),
	agent_person BIGINT NOT NULL REFERENCES persons(id),
	scope        TEXT NOT NULL,
	valid_from   TIMESTAMPTZ NOT NULL,
	expires_at   TIMESTAMPTZ NOT NULL,
	revoked_at   TIMESTAMPTZ,
	created_by   BIGINT NOT NULL REFERENCES accounts(id),
	created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX authorisations_agent ON authorisations(agent_person);

CREATE TABLE rate_events (
	account_id BIGINT NOT NULL,
	action     TEXT NOT NULL,
	at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX rate_events_lookup ON rate_events(account_id, action, at);

CREATE TABLE pii_access_log (
	id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at             TIMESTAMPTZ NOT NULL,
	staff_account  BIGINT NOT NULL,
	staff_name     TEXT NOT NULL,
	subject_person BIGINT NOT NULL,
	fields         TEXT NOT NULL,
	purpose        TEXT NOT NULL,
	request_id     TEXT NOT NULL
);
CREATE INDEX pii_access_log_subject ON pii_access_log(subject_person, at);
CREATE INDEX pii_access_log_staff ON pii_access_log(staff_account, at);
