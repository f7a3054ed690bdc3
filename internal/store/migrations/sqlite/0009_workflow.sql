-- The back-office workflow: the application gains its number, channel,
-- accepting hall, the full set of statuses (internal/workflow), its
-- deadline and a revision that serialises concurrent actions; the timeline,
-- tasks of steps, corrections and idempotency keys get their tables.
-- SQLite cannot change a CHECK constraint: the table is rebuilt, with
-- foreign keys checked at commit, when the new table has taken the name.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE applications_next (
	id                     INTEGER PRIMARY KEY AUTOINCREMENT,
	item_code              TEXT NOT NULL REFERENCES catalog_items(code),
	version_id             BIGINT NOT NULL REFERENCES catalog_versions(id),
	account_id             BIGINT NOT NULL REFERENCES accounts(id),
	person_id              BIGINT NOT NULL REFERENCES persons(id),
	enterprise_id          BIGINT REFERENCES enterprises(id),
	status                 TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'accepted', 'not_accepted', 'correction_requested', 'under_review', 'special_procedure', 'approved', 'rejected', 'licence_issued', 'delivered', 'withdrawn', 'revoked')),
	answers                TEXT NOT NULL,
	form                   TEXT NOT NULL,
	provenance             TEXT NOT NULL,
	materials              TEXT NOT NULL,
	mismatches             TEXT NOT NULL DEFAULT '[]',
	consent_id             BIGINT NOT NULL,
	fields_total           INTEGER NOT NULL,
	fields_prefilled       INTEGER NOT NULL,
	materials_total        INTEGER NOT NULL,
	materials_attached     INTEGER NOT NULL,
	created_at             TIMESTAMP NOT NULL,
	updated_at             TIMESTAMP NOT NULL,
	submitted_at           TIMESTAMP,
	number                 TEXT UNIQUE,
	channel                TEXT NOT NULL DEFAULT 'web' CHECK (channel IN ('web', 'mobile', 'kiosk', 'window', 'bank')),
	hall_code              TEXT,
	intake_by              BIGINT REFERENCES accounts(id),
	stage                  INTEGER NOT NULL DEFAULT 0,
	stopped_from           TEXT,
	accepted_at            TIMESTAMP,
	deadline               TIMESTAMP,
	clock_stopped_at       TIMESTAMP,
	decided_at             TIMESTAMP,
	reasons                TEXT NOT NULL DEFAULT '[]',
	revision               BIGINT NOT NULL DEFAULT 1
);
INSERT INTO applications_next (id, item_code, version_id, account_id, person_id, enterprise_id, status, answers, form, provenance, materials, mismatches, consent_id, fields_total, fields_prefilled, materials_total, materials_attached, created_at, updated_at, submitted_at)
	SELECT id, item_code, version_id, account_id, person_id, enterprise_id, status, answers, form, provenance, materials, mismatches, consent_id, fields_total, fields_prefilled, materials_total, materials_attached, created_at, updated_at, submitted_at FROM applications;
DROP TABLE applications;
ALTER TABLE applications_next RENAME TO applications;
CREATE INDEX applications_account ON applications(account_id, created_at);
CREATE INDEX applications_enterprise ON applications(enterprise_id);
CREATE INDEX applications_status ON applications(status, deadline);

-- The timeline: every event of an application with who did it.
CREATE TABLE application_events (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	application_id BIGINT NOT NULL REFERENCES applications(id),
	at             TIMESTAMP NOT NULL,
	actor_kind     TEXT NOT NULL CHECK (actor_kind IN ('applicant', 'staff', 'machine', 'system', 'party')),
	actor_id       BIGINT,
	actor_name     TEXT NOT NULL,
	action         TEXT NOT NULL,
	from_status    TEXT NOT NULL,
	to_status      TEXT NOT NULL,
	note           TEXT NOT NULL DEFAULT '',
	details        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX application_events_application ON application_events(application_id, id);

-- Application numbers: region + date + a sequence per prefix.
CREATE TABLE application_numbers (
	prefix TEXT PRIMARY KEY,
	last   BIGINT NOT NULL
);

-- One task per back-office step; the steps of a stage are open at once.
CREATE TABLE tasks (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	application_id BIGINT NOT NULL REFERENCES applications(id),
	stage          INTEGER NOT NULL,
	step_id        TEXT NOT NULL,
	name_zh        TEXT NOT NULL,
	name_en        TEXT NOT NULL,
	department     TEXT NOT NULL,
	role           TEXT NOT NULL CHECK (role IN ('clerk', 'reviewer', 'head')),
	days           INTEGER NOT NULL,
	grp            TEXT NOT NULL DEFAULT '',
	status         TEXT NOT NULL CHECK (status IN ('waiting', 'open', 'claimed', 'approved', 'rejected', 'cancelled')),
	assignee       BIGINT REFERENCES accounts(id),
	opened_at      TIMESTAMP,
	deadline       TIMESTAMP,
	claimed_at     TIMESTAMP,
	done_at        TIMESTAMP,
	done_by        BIGINT REFERENCES accounts(id),
	reasons        TEXT NOT NULL DEFAULT '[]',
	note           TEXT NOT NULL DEFAULT '',
	UNIQUE (application_id, step_id)
);
CREATE INDEX tasks_inbox ON tasks(department, status, deadline);

-- Corrections (补正): everything missing, told at once; the clock stops
-- from requested_at until supplied_at.
CREATE TABLE corrections (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	application_id BIGINT NOT NULL REFERENCES applications(id),
	requested_by   BIGINT NOT NULL REFERENCES accounts(id),
	requested_at   TIMESTAMP NOT NULL,
	items          TEXT NOT NULL,
	supplied_at    TIMESTAMP
);
CREATE INDEX corrections_application ON corrections(application_id, id);

-- Idempotency-Key: a retried request gets the first one's application.
CREATE TABLE idempotency_keys (
	account_id     BIGINT NOT NULL REFERENCES accounts(id),
	key            TEXT NOT NULL,
	operation      TEXT NOT NULL,
	request_digest TEXT NOT NULL,
	application_id BIGINT NOT NULL REFERENCES applications(id),
	created_at     TIMESTAMP NOT NULL,
	PRIMARY KEY (account_id, key)
);
