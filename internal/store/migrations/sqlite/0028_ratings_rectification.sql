-- 好差评 with rectification (整改). A rating is now given by each party of
-- a finished application (the applicant, or a co-party), by a channel
-- (online, at the window through a QR code, at a kiosk, or heard on the
-- phone and recorded by staff), and may be changed once. Its comment is
-- personal data, sealed by the application (old plaintext comments are
-- sealed at start). The department is kept on the rating so that the
-- public figures and the rectifications are counted by department.
-- SQLite cannot drop a UNIQUE constraint: the table is rebuilt.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE ratings_next (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	application_id  BIGINT NOT NULL REFERENCES applications(id),
	person_id       BIGINT NOT NULL REFERENCES persons(id),
	account_id      BIGINT REFERENCES accounts(id),
	item_code       TEXT NOT NULL,
	department_code TEXT NOT NULL,
	stars           INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
	comment         TEXT NOT NULL DEFAULT '',
	channel         TEXT NOT NULL DEFAULT 'online' CHECK (channel IN ('online', 'window', 'kiosk', 'phone')),
	recorded_by     BIGINT REFERENCES accounts(id),
	changes         INTEGER NOT NULL DEFAULT 0,
	created_at      TIMESTAMP NOT NULL,
	updated_at      TIMESTAMP NOT NULL,
	UNIQUE (application_id, person_id)
);
INSERT INTO ratings_next (id, application_id, person_id, account_id, item_code, department_code, stars, comment, channel, changes, created_at, updated_at)
	SELECT r.id, r.application_id, a.person_id, r.account_id, r.item_code, i.department_code, r.stars, r.comment, 'online', 0, r.created_at, r.created_at
	FROM ratings r JOIN applications a ON a.id = r.application_id JOIN catalog_items i ON i.code = r.item_code;
DROP TABLE ratings;
ALTER TABLE ratings_next RENAME TO ratings;
CREATE INDEX ratings_item ON ratings(item_code, created_at);
CREATE INDEX ratings_department ON ratings(department_code, created_at);

-- A bad rating (1 or 2) opens a rectification for the item's department,
-- due in working days. The department answers what it changed; a
-- supervisor calls the person back and closes it, resolved or not; the
-- person may then say whether they are satisfied with it, once.
-- callback_note is what the person said on the phone: sealed.
CREATE TABLE rectifications (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	rating_id       BIGINT NOT NULL UNIQUE REFERENCES ratings(id),
	application_id  BIGINT NOT NULL REFERENCES applications(id),
	department_code TEXT NOT NULL,
	item_code       TEXT NOT NULL,
	status          TEXT NOT NULL CHECK (status IN ('open', 'answered', 'closed')),
	opened_at       TIMESTAMP NOT NULL,
	due_at          TIMESTAMP NOT NULL,
	answer          TEXT NOT NULL DEFAULT '',
	answered_by     BIGINT REFERENCES accounts(id),
	answered_at     TIMESTAMP,
	callback_note   TEXT NOT NULL DEFAULT '',
	callback_by     BIGINT REFERENCES accounts(id),
	closed_at       TIMESTAMP,
	resolved        BOOLEAN,
	verdict         TEXT NOT NULL DEFAULT '' CHECK (verdict IN ('', 'satisfied', 'unsatisfied')),
	verdict_at      TIMESTAMP
);
CREATE INDEX rectifications_department ON rectifications(department_code, status, due_at);
CREATE INDEX rectifications_application ON rectifications(application_id);
