-- A share link its holder withdrew before it expired: when, and by whom
-- (withdrawn_at NULL: not withdrawn). The expiry stays as it was promised.
ALTER TABLE licence_shares ADD COLUMN withdrawn_at TIMESTAMPTZ;
ALTER TABLE licence_shares ADD COLUMN withdrawn_by BIGINT; -- an account id, as created_by is
