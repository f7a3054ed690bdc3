-- 好差评 with rectification (整改). A rating is now given by each party of
-- a finished application (the applicant, or a co-party), by a channel
-- (online, at the window through a QR code, at a kiosk, or heard on the
-- phone and recorded by staff), and may be changed once. Its comment is
-- personal data, sealed by the application (old plaintext comments are
-- sealed at start). The department is kept on the rating so that the
-- public figures and the rectifications are counted by department.
ALTER TABLE ratings ADD COLUMN person_id BIGINT REFERENCES persons(id);
ALTER TABLE ratings ADD COLUMN department_code TEXT;
UPDATE ratings SET person_id = a.person_id FROM applications a WHERE a.id = ratings.application_id;
UPDATE ratings SET department_code = i.department_code FROM catalog_items i WHERE i.code = ratings.item_code;
ALTER TABLE ratings ALTER COLUMN person_id SET NOT NULL;
ALTER TABLE ratings ALTER COLUMN department_code SET NOT NULL;
ALTER TABLE ratings ALTER COLUMN account_id DROP NOT NULL;
ALTER TABLE ratings ADD COLUMN channel TEXT NOT NULL DEFAULT 'online' CHECK (channel IN ('online', 'window', 'kiosk', 'phone'));
ALTER TABLE ratings ADD COLUMN recorded_by BIGINT REFERENCES accounts(id);
ALTER TABLE ratings ADD COLUMN changes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ratings ADD COLUMN updated_at TIMESTAMPTZ;
UPDATE ratings SET updated_at = created_at;
ALTER TABLE ratings ALTER COLUMN updated_at SET NOT NULL;
ALTER TABLE ratings DROP CONSTRAINT ratings_application_id_key;
ALTER TABLE ratings ADD CONSTRAINT ratings_application_id_person_id_key UNIQUE (application_id, person_id);
CREATE INDEX ratings_department ON ratings(department_code, created_at);

-- A bad rating (1 or 2) opens a rectification for the item's department,
-- due in working days. The department answers what it changed; a
-- supervisor calls the person back and closes it, resolved or not; the
-- person may then say whether they are satisfied with it, once.
-- callback_note is what the person said on the phone: sealed.
CREATE TABLE rectifications (
	id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	rating_id       BIGINT NOT NULL UNIQUE REFERENCES ratings(id),
	application_id  BIGINT NOT NULL REFERENCES applications(id),
	department_code TEXT NOT NULL,
	item_code       TEXT NOT NULL,
	status          TEXT NOT NULL CHECK (status IN ('open', 'answered', 'closed')),
	opened_at       TIMESTAMPTZ NOT NULL,
	due_at          TIMESTAMPTZ NOT NULL,
	answer          TEXT NOT NULL DEFAULT '',
	answered_by     BIGINT REFERENCES accounts(id),
	answered_at     TIMESTAMPTZ,
	callback_note   TEXT NOT NULL DEFAULT '',
	callback_by     BIGINT REFERENCES accounts(id),
	closed_at       TIMESTAMPTZ,
	resolved        BOOLEAN,
	verdict         TEXT NOT NULL DEFAULT '' CHECK (verdict IN ('', 'satisfied', 'unsatisfied')),
	verdict_at      TIMESTAMPTZ
);
CREATE INDEX rectifications_department ON rectifications(department_code, status, due_at);
CREATE INDEX rectifications_application ON rectifications(application_id);
