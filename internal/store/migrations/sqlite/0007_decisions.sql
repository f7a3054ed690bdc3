-- Machine decisions (秒批) with their full explainable record, the per-item
-- switch that suspends machine approval, and the spot checks that sample
-- machine approvals afterwards.
CREATE TABLE decisions (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	application_id BIGINT NOT NULL UNIQUE REFERENCES applications(id),
	outcome        TEXT NOT NULL CHECK (outcome IN ('approve', 'reject', 'manual')),
	version_id     BIGINT NOT NULL,
	rules_digest   TEXT NOT NULL,
	inputs_digest  TEXT NOT NULL,
	record         TEXT NOT NULL,
	took_ns        BIGINT NOT NULL,
	actor          TEXT NOT NULL,
	decided_at     TIMESTAMP NOT NULL
);

CREATE TABLE item_controls (
	item_code         TEXT PRIMARY KEY REFERENCES catalog_items(code),
	machine_suspended BOOLEAN NOT NULL,
	reason            TEXT NOT NULL,
	changed_by        BIGINT NOT NULL,
	changed_at        TIMESTAMP NOT NULL
);

CREATE TABLE spot_checks (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	application_id BIGINT NOT NULL UNIQUE REFERENCES applications(id),
	item_code      TEXT NOT NULL,
	status         TEXT NOT NULL CHECK (status IN ('open', 'confirmed', 'violation')),
	created_at     TIMESTAMP NOT NULL,
	checked_by     BIGINT,
	checked_at     TIMESTAMP,
	note           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX spot_checks_open ON spot_checks(status, created_at);
