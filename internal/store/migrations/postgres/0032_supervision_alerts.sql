-- 电子监察: the alerts sent to a department's heads, at most one per
-- department and day (China time), whether the daily job or a supervisor
-- sent it.
CREATE TABLE supervision_alerts (
	department TEXT NOT NULL,
	day        TEXT NOT NULL,
	findings   INTEGER NOT NULL,
	summary    TEXT NOT NULL,
	heads      INTEGER NOT NULL DEFAULT 0,
	sent_by    BIGINT REFERENCES accounts(id),
	sent_at    TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (department, day)
);
