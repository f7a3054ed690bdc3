-- Credit levels, lists and repair (信用修复; docs/SUPERVISION.md, "信用").
-- A record repaired counts no more towards its subject's level: repaired_at
-- says when, repair_id by which repair.
ALTER TABLE credit_records ADD COLUMN repaired_at TIMESTAMP;
ALTER TABLE credit_records ADD COLUMN repair_id BIGINT;

-- An application to repair one credit record. The rules decide it when its
-- conditions are met on their face; otherwise a reviewer of department (the
-- one that handled the record's application) approves or refuses it.
-- statement is what the person wrote, sealed; pledge the text they signed.
CREATE TABLE credit_repairs (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	record_id   BIGINT NOT NULL REFERENCES credit_records(id),
	account_id  BIGINT NOT NULL REFERENCES accounts(id),
	department  TEXT NOT NULL,
	statement   TEXT NOT NULL,
	pledge      TEXT NOT NULL,
	status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'refused')),
	decided_by  TEXT NOT NULL DEFAULT '', -- machine, or staff:ACCOUNT
	reason      TEXT NOT NULL DEFAULT '',
	created_at  TIMESTAMP NOT NULL,
	decided_at  TIMESTAMP
);
CREATE INDEX credit_repairs_queue ON credit_repairs(department, status, created_at);
CREATE INDEX credit_repairs_record ON credit_repairs(record_id);
CREATE UNIQUE INDEX credit_repairs_pending ON credit_repairs(record_id) WHERE status = 'pending';
