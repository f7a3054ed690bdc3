-- Credit records may come from a failed spot check (双随机抽查不合格), and
-- may be about an enterprise: when the application was made for one, the
-- record is the enterprise's (enterprise_id), with person_id the applicant
-- who acted.
ALTER TABLE credit_records DROP CONSTRAINT credit_records_kind_check;
ALTER TABLE credit_records ADD CONSTRAINT credit_records_kind_check
	CHECK (kind IN ('false_commitment', 'overdue_supplement', 'spot_check_failed'));
ALTER TABLE credit_records ADD COLUMN enterprise_id BIGINT REFERENCES enterprises(id);
UPDATE credit_records c SET enterprise_id = a.enterprise_id FROM applications a WHERE a.id = c.application_id;
CREATE INDEX credit_records_enterprise ON credit_records(enterprise_id) WHERE enterprise_id IS NOT NULL;
