-- What people search for, normalised (trimmed, spaces collapsed, Latin
-- lower-cased): counted for hot words, and last_hits = 0 shows catalogue
-- administrators which searches find nothing.
--
-- COLLATE "C" orders queries by code point, as SQLite does, so hot words with
-- equal counts come out in the same order on both backends.
CREATE TABLE search_queries (
	query     TEXT COLLATE "C" PRIMARY KEY,
	count     BIGINT NOT NULL,
	last_at   TIMESTAMPTZ NOT NULL,
	last_hits INTEGER NOT NULL
);
-- Hot words are read far more often than the table is scanned for anything else.
CREATE INDEX search_queries_hot ON search_queries (count DESC, query);
