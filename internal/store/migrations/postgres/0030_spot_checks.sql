-- 双随机一公开: a spot check is assigned to a random inspector of the
-- item's department (NULL while the department has none), due by a working
-- day, and remembers the department and the approval mode it sampled; a
-- finding that can be put right is 'corrected' (责令整改) rather than a
-- violation. A department's machine approval can be switched off for all
-- its items.
ALTER TABLE spot_checks ADD COLUMN department TEXT NOT NULL DEFAULT '';
ALTER TABLE spot_checks ADD COLUMN mode TEXT NOT NULL DEFAULT 'auto';
ALTER TABLE spot_checks ADD COLUMN inspector BIGINT REFERENCES accounts(id);
ALTER TABLE spot_checks ADD COLUMN due_at TIMESTAMPTZ;
ALTER TABLE spot_checks DROP CONSTRAINT spot_checks_status_check;
ALTER TABLE spot_checks ADD CONSTRAINT spot_checks_status_check CHECK (status IN ('open', 'confirmed', 'violation', 'corrected'));
UPDATE spot_checks SET department = COALESCE((SELECT department_code FROM catalog_items i WHERE i.code = spot_checks.item_code), '');
CREATE INDEX spot_checks_inspector ON spot_checks(inspector, status);
CREATE INDEX spot_checks_department ON spot_checks(department, status, checked_at);

CREATE TABLE department_controls (
	department_code   TEXT PRIMARY KEY REFERENCES departments(code),
	machine_suspended BOOLEAN NOT NULL,
	reason            TEXT NOT NULL,
	changed_by        BIGINT NOT NULL,
	changed_at        TIMESTAMPTZ NOT NULL
);
