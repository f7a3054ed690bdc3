-- 双随机一公开: a spot check is assigned to a random inspector of the
-- item's department (NULL while the department has none), due by a working
-- day, and remembers the department and the approval mode it sampled; a
-- finding that can be put right is 'corrected' (责令整改) rather than a
-- violation. SQLite cannot change a CHECK in place, so the table is rebuilt.
-- A department's machine approval can be switched off for all its items.
CREATE TABLE spot_checks_new (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	application_id BIGINT NOT NULL UNIQUE REFERENCES applications(id),
	item_code      TEXT NOT NULL,
	status         TEXT NOT NULL CHECK (status IN ('open', 'confirmed', 'violation', 'corrected')),
	created_at     TIMESTAMP NOT NULL,
	checked_by     BIGINT,
	checked_at     TIMESTAMP,
	note           TEXT NOT NULL DEFAULT '',
	department     TEXT NOT NULL DEFAULT '',
	mode           TEXT NOT NULL DEFAULT 'auto',
	inspector      BIGINT REFERENCES accounts(id),
	due_at         TIMESTAMP
);
INSERT INTO spot_checks_new (id, application_id, item_code, status, created_at, checked_by, checked_at, note, department)
	SELECT s.id, s.application_id, s.item_code, s.status, s.created_at, s.checked_by, s.checked_at, s.note, COALESCE(i.department_code, '')
	FROM spot_checks s LEFT JOIN catalog_items i ON i.code = s.item_code;
DROP TABLE spot_checks;
ALTER TABLE spot_checks_new RENAME TO spot_checks;
CREATE INDEX spot_checks_open ON spot_checks(status, created_at);
CREATE INDEX spot_checks_inspector ON spot_checks(inspector, status);
CREATE INDEX spot_checks_department ON spot_checks(department, status, checked_at);

CREATE TABLE department_controls (
	department_code   TEXT PRIMARY KEY REFERENCES departments(code),
	machine_suspended BOOLEAN NOT NULL,
	reason            TEXT NOT NULL,
	changed_by        BIGINT NOT NULL,
	changed_at        TIMESTAMP NOT NULL
);
