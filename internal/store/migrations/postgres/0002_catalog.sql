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
	retired_at      TIMESTAMPTZ,
	created_at      TIMESTAMPTZ NOT NULL,
	updated_at      TIMESTAMPTZ NOT NULL
);

-- One row per version of an item. Applications pin id. A version is a draft
-- until published; after that its content never changes (enforced below).
CREATE TABLE catalog_versions (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
	imported_at   TIMESTAMPTZ NOT NULL,
	published_by  TEXT,
	published_at  TIMESTAMPTZ,
	UNIQUE (item_code, version)
);
CREATE INDEX catalog_versions_status ON catalog_versions(status);

CREATE FUNCTION catalog_versions_immutable() RETURNS trigger AS $$
BEGIN
	IF OLD.status <> 'draft' AND (TG_OP = 'DELETE'
		OR NEW.content_hash IS DISTINCT FROM OLD.content_hash
		OR NEW.content_json IS DISTINCT FROM OLD.content_json
		OR NEW.source_yaml IS DISTINCT FROM OLD.source_yaml
		OR NEW.version IS DISTINCT FROM OLD.version
		OR NEW.item_code IS DISTINCT FROM OLD.item_code) THEN
		RAISE EXCEPTION 'a published catalogue version is immutable';
	END IF;
	IF TG_OP = 'DELETE' THEN
		RETURN OLD;
	END IF;
	RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER catalog_versions_immutable
BEFORE UPDATE OR DELETE ON catalog_versions
FOR EACH ROW EXECUTE FUNCTION catalog_versions_immutable();
