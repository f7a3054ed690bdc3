-- Service performance (政务服务效能): rollups kept by the same transaction
-- that moves an application (package insight), so that a dashboard view
-- reads a few rows per day instead of the applications table.
--
-- One row per China-time day and (department, item, region, channel).
-- Received, online and visit counts and what the platform supplied are
-- counted on the day of submission; the decision's figures on the day it
-- was decided; days lost to corrections and special procedures on the day
-- the clock restarted. w0..w9 is a histogram of working days taken from
-- submission to decision (bucket bounds in package insight), so a median
-- and a 90th percentile need no scan.
CREATE TABLE insight_daily (
	day                TEXT NOT NULL,
	department         TEXT NOT NULL,
	item_code          TEXT NOT NULL,
	region             TEXT NOT NULL,
	channel            TEXT NOT NULL,
	received           BIGINT NOT NULL DEFAULT 0,
	zero_visit         BIGINT NOT NULL DEFAULT 0,
	one_visit          BIGINT NOT NULL DEFAULT 0,
	materials_saved    BIGINT NOT NULL DEFAULT 0,
	fields_prefilled   BIGINT NOT NULL DEFAULT 0,
	finished           BIGINT NOT NULL DEFAULT 0,
	approved           BIGINT NOT NULL DEFAULT 0,
	rejected           BIGINT NOT NULL DEFAULT 0,
	not_accepted       BIGINT NOT NULL DEFAULT 0,
	machine_approved   BIGINT NOT NULL DEFAULT 0,
	on_time            BIGINT NOT NULL DEFAULT 0,
	late               BIGINT NOT NULL DEFAULT 0,
	workdays_sum       BIGINT NOT NULL DEFAULT 0,
	promised_days_sum  BIGINT NOT NULL DEFAULT 0,
	statutory_days_sum BIGINT NOT NULL DEFAULT 0,
	w0 BIGINT NOT NULL DEFAULT 0,
	w1 BIGINT NOT NULL DEFAULT 0,
	w2 BIGINT NOT NULL DEFAULT 0,
	w3 BIGINT NOT NULL DEFAULT 0,
	w4 BIGINT NOT NULL DEFAULT 0,
	w5 BIGINT NOT NULL DEFAULT 0,
	w6 BIGINT NOT NULL DEFAULT 0,
	w7 BIGINT NOT NULL DEFAULT 0,
	w8 BIGINT NOT NULL DEFAULT 0,
	w9 BIGINT NOT NULL DEFAULT 0,
	stops              BIGINT NOT NULL DEFAULT 0,
	days_lost          BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (day, department, item_code, region, channel)
);

-- The same counters by month (day is the month's first day), department
-- and channel only (item_code and region are ''): the views of whole
-- months without an item or region filter read these, 1/30 of the days and
-- none of the items and regions.
CREATE TABLE insight_monthly (
	day                TEXT NOT NULL,
	department         TEXT NOT NULL,
	item_code          TEXT NOT NULL,
	region             TEXT NOT NULL,
	channel            TEXT NOT NULL,
	received           BIGINT NOT NULL DEFAULT 0,
	zero_visit         BIGINT NOT NULL DEFAULT 0,
	one_visit          BIGINT NOT NULL DEFAULT 0,
	materials_saved    BIGINT NOT NULL DEFAULT 0,
	fields_prefilled   BIGINT NOT NULL DEFAULT 0,
	finished           BIGINT NOT NULL DEFAULT 0,
	approved           BIGINT NOT NULL DEFAULT 0,
	rejected           BIGINT NOT NULL DEFAULT 0,
	not_accepted       BIGINT NOT NULL DEFAULT 0,
	machine_approved   BIGINT NOT NULL DEFAULT 0,
	on_time            BIGINT NOT NULL DEFAULT 0,
	late               BIGINT NOT NULL DEFAULT 0,
	workdays_sum       BIGINT NOT NULL DEFAULT 0,
	promised_days_sum  BIGINT NOT NULL DEFAULT 0,
	statutory_days_sum BIGINT NOT NULL DEFAULT 0,
	w0 BIGINT NOT NULL DEFAULT 0,
	w1 BIGINT NOT NULL DEFAULT 0,
	w2 BIGINT NOT NULL DEFAULT 0,
	w3 BIGINT NOT NULL DEFAULT 0,
	w4 BIGINT NOT NULL DEFAULT 0,
	w5 BIGINT NOT NULL DEFAULT 0,
	w6 BIGINT NOT NULL DEFAULT 0,
	w7 BIGINT NOT NULL DEFAULT 0,
	w8 BIGINT NOT NULL DEFAULT 0,
	w9 BIGINT NOT NULL DEFAULT 0,
	stops              BIGINT NOT NULL DEFAULT 0,
	days_lost          BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (day, department, item_code, region, channel)
);

-- Where applications wait (bottlenecks): per China-time day the step was
-- done, department and step, how many steps were done and the hours from
-- their opening to their being done. The names are the step's when first
-- counted.
CREATE TABLE insight_steps (
	day        TEXT NOT NULL,
	department TEXT NOT NULL,
	step_id    TEXT NOT NULL,
	name_zh    TEXT NOT NULL,
	name_en    TEXT NOT NULL,
	done       BIGINT NOT NULL DEFAULT 0,
	wait_hours BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (day, department, step_id)
);
