-- Applications: made under one pinned catalogue version, by an account,
-- for the applicant person or the enterprise they act for. The form, where
-- each value came from, and the materials are kept as JSON documents; the
-- counters feed the dashboard's "materials saved".
CREATE TABLE applications (
	id                     INTEGER PRIMARY KEY AUTOINCREMENT,
	item_code              TEXT NOT NULL REFERENCES catalog_items(code),
	version_id             BIGINT NOT NULL REFERENCES catalog_versions(id),
	account_id             BIGINT NOT NULL REFERENCES accounts(id),
	person_id              BIGINT NOT NULL REFERENCES persons(id),
	enterprise_id          BIGINT REFERENCES enterprises(id),
	status                 TEXT NOT NULL CHECK (status IN ('draft', 'submitted')),
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
	submitted_at           TIMESTAMP
);
CREATE INDEX applications_account ON applications(account_id, created_at);
CREATE INDEX applications_enterprise ON applications(enterprise_id);
