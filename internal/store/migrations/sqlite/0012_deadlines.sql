-- Deadlines that act: a sweep job turns tasks and applications yellow
-- (few working days left) and red (overdue). What it told whom is kept, so
-- that a warning goes out once, not on every sweep.
CREATE TABLE deadline_warnings (
	subject    TEXT NOT NULL CHECK (subject IN ('task', 'application')),
	subject_id BIGINT NOT NULL,
	light      TEXT NOT NULL CHECK (light IN ('yellow', 'red')),
	sent_at    TIMESTAMP NOT NULL,
	PRIMARY KEY (subject, subject_id, light)
);

-- An overdue task or application writes one accountability record for the
-- supervisors (电子监察); later sweeps update its days over.
CREATE TABLE accountability_records (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	subject          TEXT NOT NULL CHECK (subject IN ('task', 'application')),
	subject_id       BIGINT NOT NULL,
	application_id   BIGINT NOT NULL REFERENCES applications(id),
	task_id          BIGINT REFERENCES tasks(id),
	department       TEXT NOT NULL,
	step_id          TEXT NOT NULL,
	step_name        TEXT NOT NULL,
	responsible_id   BIGINT REFERENCES accounts(id),
	responsible_name TEXT NOT NULL DEFAULT '',
	deadline         TIMESTAMP NOT NULL,
	days_over        INTEGER NOT NULL,
	created_at       TIMESTAMP NOT NULL,
	updated_at       TIMESTAMP NOT NULL,
	UNIQUE (subject, subject_id)
);
CREATE INDEX accountability_records_department ON accountability_records(department, created_at);
