-- The back-office workflow: the application gains its number, channel,
-- accepting hall, the full set of statuses (internal/workflow), its
-- deadline and a revision that serialises concurrent actions; the timeline,
-- tasks of steps, corrections and idempotency keys get their tables.
ALTER TABLE applications DROP CONSTRAINT applications_status_check;
ALTER TABLE applications ADD CONSTRAINT applications_status_check CHECK (status IN ('draft', 'submitted', 'accepted', 'not_accepted', 'correction_requested', 'under_review', 'special_procedure', 'approved', 'rejected', 'licence_issued', 'delivered', 'withdrawn', 'revoked'));
ALTER TABLE applications
	ADD COLUMN number TEXT UNIQUE,
	ADD COLUMN channel TEXT NOT NULL DEFAULT 'web' CHECK (channel IN ('web', 'mobile', 'kiosk', 'window', 'bank')),
	ADD COLUMN hall_code TEXT,
	ADD COLUMN intake_by BIGINT REFERENCES accounts(id),
	ADD COLUMN stage INTEGER NOT NULL DEFAULT 0,
	ADD COLUMN stopped_from TEXT,
	ADD COLUMN accepted_at TIMESTAMPTZ,
	ADD COLUMN deadline TIMESTAMPTZ,
	ADD COLUMN clock_stopped_at TIMESTAMPTZ,
	ADD COLUMN decided_at TIMESTAMPTZ,
	ADD COLUMN reasons TEXT NOT NULL DEFAULT '[]',
	ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
CREATE INDEX applications_status ON applications(status, deadline);

-- The timeline: every event of an application with who did it.
CREATE TABLE application_events (
	id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	application_id BIGINT NOT NULL REFERENCES applications(id),
	at             TIMESTAMPTZ NOT NULL,
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
	id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
	opened_at      TIMESTAMPTZ,
	deadline       TIMESTAMPTZ,
	claimed_at     TIMESTAMPTZ,
	done_at        TIMESTAMPTZ,
	done_by        BIGINT REFERENCES accounts(id),
	reasons        TEXT NOT NULL DEFAULT '[]',
	note           TEXT NOT NULL DEFAULT '',
	UNIQUE (application_id, step_id)
);
CREATE INDEX tasks_inbox ON tasks(department, status, deadline);

-- Corrections (补正): everything missing, told at once; the clock stops
-- from requested_at until supplied_at.
CREATE TABLE corrections (
	id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	application_id BIGINT NOT NULL REFERENCES applications(id),
	requested_by   BIGINT NOT NULL REFERENCES accounts(id),
	requested_at   TIMESTAMPTZ NOT NULL,
	items          TEXT NOT NULL,
	supplied_at    TIMESTAMPTZ
);
CREATE INDEX corrections_application ON corrections(application_id, id);

-- Idempotency-Key: a retried request gets the first one's application.
CREATE TABLE idempotency_keys (
	account_id     BIGINT NOT NULL REFERENCES accounts(id),
	key            TEXT NOT NULL,
	operation      TEXT NOT NULL,
	request_digest TEXT NOT NULL,
	application_id BIGINT NOT NULL REFERENCES applications(id),
	created_at     TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (account_id, key)
);
