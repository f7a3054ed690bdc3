-- Proactive services (主动服务 / 免申即享): the platform offers an item to a
-- person, or makes and decides the application for them, when a date is
-- reached or a registry records an event.
--
-- An application the platform made on its own initiative says so; the
-- person it is for finds it among their own, and it is told to them.
ALTER TABLE applications ADD COLUMN initiative TEXT NOT NULL DEFAULT '';

-- What was done for whom: one row per item, person (the blind index of
-- their ID number, as the registries key them) and period (the day the
-- trigger fired, or the event's key). The unique key is what makes a
-- sweep idempotent across restarts and processes: the row is written in
-- the transaction that grants or offers, and a second writer finds it.
CREATE TABLE proactive_actions (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	item_code      TEXT NOT NULL,
	subject_idx    TEXT NOT NULL,
	period         TEXT NOT NULL,
	trigger_name   TEXT NOT NULL,
	action         TEXT NOT NULL CHECK (action IN ('granted', 'offered')),
	application_id BIGINT REFERENCES applications(id),
	person_id      BIGINT NOT NULL REFERENCES persons(id),
	sweep_id       BIGINT,
	declined_at    TIMESTAMP,
	at             TIMESTAMP NOT NULL,
	UNIQUE (item_code, subject_idx, period)
);
CREATE INDEX proactive_actions_person ON proactive_actions(person_id, at);

-- Each sweep, for the supervisors: the day it ran for, whether it only
-- counted (dry run), and its counts: candidates, granted, offered and
-- skipped by reason (a JSON object of reason → count).
CREATE TABLE proactive_sweeps (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	on_date     TEXT NOT NULL,
	since_date  TEXT NOT NULL,
	dry_run     BOOLEAN NOT NULL,
	started_by  TEXT NOT NULL,
	started_at  TIMESTAMP NOT NULL,
	finished_at TIMESTAMP,
	status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
	scanned     INTEGER NOT NULL DEFAULT 0,
	candidates  INTEGER NOT NULL DEFAULT 0,
	granted     INTEGER NOT NULL DEFAULT 0,
	offered     INTEGER NOT NULL DEFAULT 0,
	skipped     TEXT NOT NULL DEFAULT '{}',
	took_ms     BIGINT NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX proactive_sweeps_on ON proactive_sweeps(on_date, id);

-- Registry events (a birth registered, a death, a household moved in, an
-- enterprise set up, a retirement) raised by the built-in registries when
-- a record changes, for the proactive engine to act on. The subject's key
-- is sealed like the records themselves.
CREATE TABLE registry_events (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	event       TEXT NOT NULL,
	subject_idx TEXT NOT NULL,
	subject_enc TEXT NOT NULL,
	at          TIMESTAMP NOT NULL,
	handled_at  TIMESTAMP
);
CREATE INDEX registry_events_pending ON registry_events(id) WHERE handled_at IS NULL;

-- The people the platform knows, by birth date: when the population
-- registry is a department's system read over HTTP, a sweep finds those who
-- turn an age here.
CREATE INDEX persons_birth_date ON persons(birth_date);
