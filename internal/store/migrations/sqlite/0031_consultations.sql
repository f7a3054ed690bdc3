-- 我要问、我要投诉 (12345-style): questions, complaints, reports and
-- suggestions people send a department, signed in or anonymously, and the
-- department's replies.
--
-- The text and the contact name and phone are sealed (internal/pii, bound
-- to their column). An anonymous one stores no account: it is followed
-- with its query code, kept only as a keyed hash (code_hash). due_at is
-- the end of the last working day the department has to answer.
CREATE TABLE consultations (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	kind          TEXT NOT NULL CHECK (kind IN ('question', 'complaint', 'report', 'suggestion')),
	department    TEXT NOT NULL REFERENCES departments(code),
	item_code     TEXT NOT NULL DEFAULT '',
	area          TEXT NOT NULL DEFAULT '',
	account_id    BIGINT REFERENCES accounts(id),
	code_hash     TEXT NOT NULL UNIQUE,
	text_enc      TEXT NOT NULL,
	contact_name  TEXT NOT NULL DEFAULT '',
	contact_phone TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL CHECK (status IN ('open', 'answered', 'closed')),
	submitted_at  TIMESTAMP NOT NULL,
	due_at        TIMESTAMP NOT NULL,
	answered_at   TIMESTAMP,
	closed_at     TIMESTAMP,
	rating        TEXT CHECK (rating IN ('satisfied', 'unsatisfied')),
	rated_at      TIMESTAMP
);
CREATE INDEX consultations_department ON consultations(department, status, due_at);
CREATE INDEX consultations_account ON consultations(account_id, id);
CREATE INDEX consultations_item ON consultations(item_code, kind, status);

-- A department's reply, in order; the text is sealed like the question.
CREATE TABLE consultation_replies (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	consultation_id BIGINT NOT NULL REFERENCES consultations(id),
	staff_account   BIGINT NOT NULL REFERENCES accounts(id),
	staff_name      TEXT NOT NULL,
	text_enc        TEXT NOT NULL,
	at              TIMESTAMP NOT NULL
);
CREATE INDEX consultation_replies_of ON consultation_replies(consultation_id, id);

-- Frequent-question suggestions the catalogue administrator dismissed: the
-- item and the keyed hash of the question's normalised text.
CREATE TABLE faq_suggestion_dismissals (
	item_code    TEXT NOT NULL,
	text_key     TEXT NOT NULL,
	dismissed_by BIGINT NOT NULL REFERENCES accounts(id),
	dismissed_at TIMESTAMP NOT NULL,
	PRIMARY KEY (item_code, text_key)
);
