-- Credit records may come from a failed spot check (双随机抽查不合格), and
-- may be about an enterprise: when the application was made for one, the
-- record is the enterprise's (enterprise_id), with person_id the applicant
-- who acted. SQLite cannot change a CHECK in place, so the table is rebuilt.
CREATE TABLE credit_records_new (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	person_id      BIGINT NOT NULL REFERENCES persons(id),
	enterprise_id  BIGINT REFERENCES enterprises(id),
	application_id BIGINT NOT NULL REFERENCES applications(id),
	kind           TEXT NOT NULL CHECK (kind IN ('false_commitment', 'overdue_supplement', 'spot_check_failed')),
	ref            TEXT NOT NULL DEFAULT '',
	note           TEXT NOT NULL DEFAULT '',
	created_at     TIMESTAMP NOT NULL,
	UNIQUE (application_id, kind, ref)
);
INSERT INTO credit_records_new (id, person_id, enterprise_id, application_id, kind, ref, note, created_at)
	SELECT c.id, c.person_id, a.enterprise_id, c.application_id, c.kind, c.ref, c.note, c.created_at
	FROM credit_records c JOIN applications a ON a.id = c.application_id;
DROP TABLE credit_records;
ALTER TABLE credit_records_new RENAME TO credit_records;
CREATE INDEX credit_records_person ON credit_records(person_id, kind);
CREATE INDEX credit_records_enterprise ON credit_records(enterprise_id) WHERE enterprise_id IS NOT NULL;
