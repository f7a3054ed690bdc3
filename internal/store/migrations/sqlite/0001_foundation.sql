-- Key-value facts about this installation, e.g. when demo data was seeded.
CREATE TABLE settings (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at TIMESTAMP NOT NULL
);

-- Administrative regions: district → street → community.
CREATE TABLE regions (
	code        TEXT PRIMARY KEY,
	parent_code TEXT REFERENCES regions(code),
	level       TEXT NOT NULL CHECK (level IN ('city', 'district', 'street', 'community')),
	name_zh     TEXT NOT NULL,
	name_en     TEXT NOT NULL
);

-- Government departments that own service items and review steps.
CREATE TABLE departments (
	code        TEXT PRIMARY KEY,
	region_code TEXT NOT NULL REFERENCES regions(code),
	name_zh     TEXT NOT NULL,
	name_en     TEXT NOT NULL,
	created_at  TIMESTAMP NOT NULL
);
CREATE INDEX departments_region ON departments(region_code);
