-- A licence leaves force in one of three ways besides expiring: revoked by
-- an authority, cancelled on its holder's request (注销) or superseded by the
-- licence that replaces it (a transfer or a change). The time, reason and
-- actor of the revocation become those of any end; the application that
-- cancelled or superseded it and the licence that superseded it are kept.
-- SQLite cannot change a CHECK constraint: the table is rebuilt, with
-- foreign keys checked at commit, when the new table has taken the name.
-- The share links that point to licences are set aside while the old table
-- goes (dropping it would count them as broken references, which nothing
-- uncounts) and put back once the new one has its name.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE licence_shares_kept AS SELECT * FROM licence_shares;
DELETE FROM licence_shares;
CREATE TABLE licences_next (
	id                     INTEGER PRIMARY KEY AUTOINCREMENT,
	number                 TEXT NOT NULL UNIQUE,
	application_id         BIGINT UNIQUE REFERENCES applications(id),
	application_number     TEXT NOT NULL DEFAULT '',
	item_code              TEXT NOT NULL DEFAULT '',
	type                   TEXT NOT NULL REFERENCES licence_types(code),
	issuer                 TEXT NOT NULL,
	holder_kind            TEXT NOT NULL CHECK (holder_kind IN ('person', 'enterprise')),
	holder_idx             TEXT NOT NULL,
	content                TEXT NOT NULL,
	digest                 TEXT NOT NULL,
	signature              TEXT NOT NULL,
	key_id                 TEXT NOT NULL REFERENCES seal_keys(id),
	issued_by              TEXT NOT NULL,
	issued_at              TIMESTAMP NOT NULL,
	valid_until            TEXT NOT NULL DEFAULT '',
	status                 TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked', 'cancelled', 'superseded')),
	ended_at               TIMESTAMP,
	end_reason             TEXT NOT NULL DEFAULT '',
	ended_by               TEXT NOT NULL DEFAULT '',
	status_at              TEXT NOT NULL DEFAULT '',
	status_key_id          TEXT NOT NULL DEFAULT '',
	status_signature       TEXT NOT NULL DEFAULT '',
	end_application_id     BIGINT REFERENCES applications(id),
	end_application_number TEXT NOT NULL DEFAULT '',
	superseded_by          BIGINT REFERENCES licences(id)
);
INSERT INTO licences_next (id, number, application_id, application_number, item_code, type, issuer, holder_kind, holder_idx, content, digest, signature,
	key_id, issued_by, issued_at, valid_until, status, ended_at, end_reason, ended_by, status_at, status_key_id, status_signature)
	SELECT id, number, application_id, application_number, item_code, type, issuer, holder_kind, holder_idx, content, digest, signature,
	key_id, issued_by, issued_at, valid_until, status, revoked_at, revoke_reason, revoked_by, status_at, status_key_id, status_signature FROM licences;
DROP TABLE licences;
ALTER TABLE licences_next RENAME TO licences;
INSERT INTO licence_shares SELECT * FROM licence_shares_kept;
DROP TABLE licence_shares_kept;
CREATE INDEX licences_holder ON licences(holder_idx, type, id);
CREATE INDEX licences_holder_newest ON licences(holder_idx, id);
