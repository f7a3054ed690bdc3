-- 好差评: the applicant's rating of a finished application, one per
-- application, five levels with an optional comment. Bad ratings (1-2) are
-- what supervisors follow up and rectify.
CREATE TABLE ratings (
	id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	application_id BIGINT NOT NULL UNIQUE REFERENCES applications(id),
	account_id     BIGINT NOT NULL REFERENCES accounts(id),
	item_code      TEXT NOT NULL,
	stars          INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
	comment        TEXT NOT NULL DEFAULT '',
	created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX ratings_item ON ratings(item_code, created_at);
