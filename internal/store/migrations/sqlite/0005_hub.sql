-- The data sharing hub: the built-in registries (the embedded default, filled
-- by the demo generator), applicants' consents to read them, and the log of
-- every read. Records are sealed with the personal-data key and found by the
-- blind index of their subject's ID number or credit code.

CREATE TABLE registry_records (
	source      TEXT NOT NULL,
	subject_idx TEXT NOT NULL,
	data        TEXT NOT NULL,
	updated_at  TIMESTAMP NOT NULL,
	PRIMARY KEY (source, subject_idx)
);

-- An applicant's authorisation to read sources for a purpose until a time.
CREATE TABLE consents (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id  INTEGER NOT NULL REFERENCES accounts(id),
	subject_idx TEXT NOT NULL,
	sources     TEXT NOT NULL,
	purpose     TEXT NOT NULL,
	application BIGINT,
	created_at  TIMESTAMP NOT NULL,
	expires_at  TIMESTAMP NOT NULL,
	revoked_at  TIMESTAMP
);
CREATE INDEX consents_subject ON consents(subject_idx);

-- Every read of a source: who read whose data, which fields, why, on what consent.
CREATE TABLE data_reads (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	at          TIMESTAMP NOT NULL,
	subject_idx TEXT NOT NULL,
	source      TEXT NOT NULL,
	fields      TEXT NOT NULL,
	reader      INTEGER NOT NULL,
	reader_name TEXT NOT NULL,
	purpose     TEXT NOT NULL,
	application BIGINT,
	consent_id  BIGINT,
	outcome     TEXT NOT NULL
);
CREATE INDEX data_reads_subject ON data_reads(subject_idx, at);
