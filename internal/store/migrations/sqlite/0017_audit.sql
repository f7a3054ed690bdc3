-- The tamper-evident audit trail (docs/SECURITY.md, "Audit trail").
-- A transaction that changes something inserts its entry here with seq,
-- prev_hash and hash empty; the chainer then gives committed entries, in id
-- order, consecutive sequence numbers and their SM3 hashes. "at" is kept as
-- the exact text that is hashed, so both backends hash the same bytes.
CREATE TABLE audit_entries (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	at          TEXT NOT NULL,
	actor_kind  TEXT NOT NULL,
	actor_id    TEXT NOT NULL DEFAULT '',
	actor_name  TEXT NOT NULL DEFAULT '',
	human       BOOLEAN NOT NULL,
	action      TEXT NOT NULL,
	object_kind TEXT NOT NULL,
	object_id   TEXT NOT NULL,
	detail      TEXT NOT NULL DEFAULT '{}',
	seq         BIGINT UNIQUE,
	prev_hash   TEXT,
	hash        TEXT
);
CREATE INDEX audit_entries_pending ON audit_entries(id) WHERE seq IS NULL;

-- Signed heads of the chain: the platform's audit key (an SM2 key kept in
-- seal_keys) signs the sequence number and hash of the newest entry, so a
-- tail deleted after it is detected.
CREATE TABLE audit_heads (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	seq       BIGINT NOT NULL UNIQUE,
	hash      TEXT NOT NULL,
	signed_at TEXT NOT NULL,
	key_id    TEXT NOT NULL,
	signature TEXT NOT NULL
);

-- A licence's status is signed too (SM2 over number, status and the time of
-- the change), so a status set back in the database is seen as tampering.
ALTER TABLE licences ADD COLUMN status_at TEXT NOT NULL DEFAULT '';
ALTER TABLE licences ADD COLUMN status_key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE licences ADD COLUMN status_signature TEXT NOT NULL DEFAULT '';
