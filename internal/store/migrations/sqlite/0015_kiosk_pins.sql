-- Self-service kiosks (自助终端) sign a person in by ID card and a short PIN
-- (face recognition, where the hardware has it, replaces the PIN). The PIN
-- is stored only as an argon2id hash; failures lock it for a while.
CREATE TABLE kiosk_pins (
	account_id   BIGINT PRIMARY KEY REFERENCES accounts(id),
	pin_hash     TEXT NOT NULL,
	failures     INTEGER NOT NULL DEFAULT 0,
	locked_until TIMESTAMP,
	updated_at   TIMESTAMP NOT NULL
);
