-- The service catalogue: items, their immutable versions, and the e-licence
-- types they refer to. Departments gain their unified social credit code,
-- the implementing-body part of every item code.
ALTER TABLE departments ADD COLUMN credit_code TEXT;

CREATE TABLE licence_types (
	code    TEXT PRIMARY KEY,
	name_zh TEXT NOT NULL,
	name_en TEXT NOT NULL,
	issuer  TEXT NOT NULL,
	holder  TEXT NOT NULL CHECK (holder IN ('person', 'enterprise'))
);

CREATE TABLE catalog_items (
	code            TEXT PRIMARY KEY,
	department_code TEXT NOT NULL REFERENCES departments(code),
	current_version INTEGER,
	retired_at      TIMESTAMP,
	created_at      TIMESTAMP NOT NULL,
	updated_at      TIMESTAMP NOT NULL
);

-- One row per version of an item. Applications pin id. A version is a draft
-- until published; after that its content never changes (enforced below).
CREATE TABLE catalog_versions (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	item_code     TEXT NOT NULL REFERENCES catalog_items(code),
	version       INTEGER NOT NULL,
	status        TEXT NOT NULL CHECK (status IN ('draft', 'published', 'superseded', 'retired')),
	content_hash  TEXT NOT NULL,
	content_json  TEXT NOT NULL,
	source_yaml   TEXT NOT NULL,
	source_file   TEXT NOT NULL,
	name_zh       TEXT NOT NULL,
	name_en       TEXT NOT NULL,
	kind          TEXT NOT NULL,
	approval_mode TEXT NOT NULL,
	imported_by   TEXT NOT NULL,
	imported_at   TIMESTAMP NOT NULL,
	published_by  TEXT,
	published_at  TIMESTAMP,
	UNIQUE (item_code, version)
);
CREATE INDEX catalog_versions_status ON catalog_versions(status);

CREATE TRIGGER catalog_versions_immutable
BEFORE UPDATE OF content_hash, content_json, source_yaml, version, item_code ON catalog_versions
WHEN OLD.status <> 'draft'
BEGIN
	SELECT RAISE(ABORT, 'a published catalogue version is immutable');
END;

CREATE TRIGGER catalog_versions_no_delete
BEFORE DELETE ON catalog_versions
WHEN OLD.status <> 'draft'
BEGIN
	SELECT RAISE(ABORT, 'a published catalogue version is immutable');
END;
