-- Rule-change simulations (决策模拟): a catalogue administrator replays a
-- version's rules over the item's past machine decisions. A row is the
-- request, its progress as the durable job works it, and the report (JSON,
-- no personal data: examples are masked application numbers).
CREATE TABLE simulations (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	item_code   TEXT NOT NULL REFERENCES catalog_items(code),
	version_id  BIGINT NOT NULL REFERENCES catalog_versions(id),
	since       TEXT NOT NULL,
	status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
	done_count  BIGINT NOT NULL DEFAULT 0,
	total_count BIGINT NOT NULL DEFAULT 0,
	result      TEXT NOT NULL DEFAULT '',
	error       TEXT NOT NULL DEFAULT '',
	created_by  TEXT NOT NULL,
	created_at  TIMESTAMP NOT NULL,
	finished_at TIMESTAMP
);
CREATE INDEX simulations_item ON simulations(item_code, id);
