-- Bundles (一件事): the catalogue's bundle definitions, imported with the
-- items (catalogue folder bundles/), and the bundle cases people submit.
CREATE TABLE catalog_bundles (
	code         TEXT PRIMARY KEY,
	name_zh      TEXT NOT NULL,
	name_en      TEXT NOT NULL,
	content_json TEXT NOT NULL,
	content_hash TEXT NOT NULL,
	source_file  TEXT NOT NULL,
	imported_by  TEXT NOT NULL,
	imported_at  TIMESTAMP NOT NULL
);

-- A bundle case: one number, one combined form (sealed like every form:
-- internal/pii, bound to bundle_cases.form), one consent, the promised
-- deadline in working days. Its members are applications of their own.
CREATE TABLE bundle_cases (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	number        TEXT NOT NULL UNIQUE,
	bundle_code   TEXT NOT NULL REFERENCES catalog_bundles(code),
	definition    TEXT NOT NULL,
	account_id    BIGINT NOT NULL REFERENCES accounts(id),
	person_id     BIGINT NOT NULL REFERENCES persons(id),
	enterprise_id BIGINT REFERENCES enterprises(id),
	answers       TEXT NOT NULL,
	form          TEXT NOT NULL,
	submitted_at  TIMESTAMP NOT NULL,
	idempotency_key TEXT,
	deadline      TIMESTAMP NOT NULL
);
CREATE INDEX bundle_cases_account ON bundle_cases(account_id, id);
-- A retried submission with the same Idempotency-Key finds its case.
CREATE UNIQUE INDEX bundle_cases_key ON bundle_cases(account_id, idempotency_key);
CREATE INDEX bundle_cases_enterprise ON bundle_cases(enterprise_id, id);

-- A member of a bundle case: waiting for the members it comes after,
-- submitted (its application says the rest), not applicable under the
-- answers, or failed (its predecessor did not end approved, or its own
-- submission was refused) with the reason in Chinese and English.
CREATE TABLE bundle_members (
	case_id        BIGINT NOT NULL REFERENCES bundle_cases(id),
	member_id      TEXT NOT NULL,
	position       INTEGER NOT NULL,
	item_code      TEXT NOT NULL,
	state          TEXT NOT NULL CHECK (state IN ('waiting', 'submitted', 'skipped', 'failed')),
	application_id BIGINT REFERENCES applications(id),
	reason_zh      TEXT NOT NULL DEFAULT '',
	reason_en      TEXT NOT NULL DEFAULT '',
	updated_at     TIMESTAMP NOT NULL,
	PRIMARY KEY (case_id, member_id)
);
CREATE UNIQUE INDEX bundle_members_application ON bundle_members(application_id);
