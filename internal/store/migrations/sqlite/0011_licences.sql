-- Electronic licences (电子证照) and the departments' seal keys (电子印章).
-- See docs/LICENCES.md for the identifier, the canonical content and the seal.

-- What issuance needs beyond name, issuer and holder: the GB/T 36904 type
-- code, the licence's own fields, the default validity and the template,
-- as the catalogue's licences.yaml declares them (JSON).
ALTER TABLE licence_types ADD COLUMN spec TEXT NOT NULL DEFAULT '{}';

-- One SM2 key pair per issuing department in use at a time; retired keys stay,
-- so that every licence they sealed can still be verified. The private key is
-- sealed (AES-256-GCM) under a subkey of the personal-data master key.
CREATE TABLE seal_keys (
	id          TEXT PRIMARY KEY,
	department  TEXT NOT NULL,
	public_key  TEXT NOT NULL,
	private_key TEXT NOT NULL,
	created_at  TIMESTAMP NOT NULL,
	retired_at  TIMESTAMP
);
CREATE UNIQUE INDEX seal_keys_active ON seal_keys(department) WHERE retired_at IS NULL;

-- Gap-free sequence numbers per issuer, type and year: the counter row is
-- bumped in the issuing transaction, so a rolled-back issuance gives its
-- number back.
CREATE TABLE licence_sequences (
	issuer    TEXT NOT NULL,
	type_code TEXT NOT NULL,
	year      INTEGER NOT NULL,
	last      INTEGER NOT NULL,
	PRIMARY KEY (issuer, type_code, year)
);

-- Issued licences. content is the sealed canonical content (it names the
-- holder); digest and signature are the seal over it. One licence per
-- application: a retried issuing job finds the first.
CREATE TABLE licences (
	id                 INTEGER PRIMARY KEY AUTOINCREMENT,
	number             TEXT NOT NULL UNIQUE,
	application_id     BIGINT UNIQUE REFERENCES applications(id),
	application_number TEXT NOT NULL DEFAULT '',
	item_code          TEXT NOT NULL DEFAULT '',
	type               TEXT NOT NULL REFERENCES licence_types(code),
	issuer             TEXT NOT NULL,
	holder_kind        TEXT NOT NULL CHECK (holder_kind IN ('person', 'enterprise')),
	holder_idx         TEXT NOT NULL,
	content            TEXT NOT NULL,
	digest             TEXT NOT NULL,
	signature          TEXT NOT NULL,
	key_id             TEXT NOT NULL REFERENCES seal_keys(id),
	issued_by          TEXT NOT NULL,
	issued_at          TIMESTAMP NOT NULL,
	valid_until        TEXT NOT NULL DEFAULT '',
	status             TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked')),
	revoked_at         TIMESTAMP,
	revoke_reason      TEXT NOT NULL DEFAULT '',
	revoked_by         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX licences_holder ON licences(holder_idx, type, id);

-- Time-limited share links of a licence (我的证照 → 分享). Only the SHA-256
-- of the token is kept; the recipient's name goes into the watermark.
CREATE TABLE licence_shares (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	licence_id  BIGINT NOT NULL REFERENCES licences(id),
	token_hash  TEXT NOT NULL UNIQUE,
	recipient   TEXT NOT NULL,
	purpose     TEXT NOT NULL,
	created_by  BIGINT NOT NULL,
	created_at  TIMESTAMP NOT NULL,
	expires_at  TIMESTAMP NOT NULL
);
CREATE INDEX licence_shares_licence ON licence_shares(licence_id);
