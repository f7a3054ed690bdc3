-- Working-day calendar years loaded by an administrator from the State
-- Council's yearly notice. They add to (or replace) the years shipped inside
-- the binary. holidays and make_up_days are JSON arrays as the administrator
-- wrote them: [{"name","from","to"}] and [{"date","for"}].
CREATE TABLE calendar_years (
	year         INTEGER PRIMARY KEY CHECK (year BETWEEN 2000 AND 2200),
	source       TEXT NOT NULL,
	holidays     TEXT NOT NULL,
	make_up_days TEXT NOT NULL,
	loaded_by    TEXT NOT NULL,
	loaded_at    TIMESTAMPTZ NOT NULL
);
