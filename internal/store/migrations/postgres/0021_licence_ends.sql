-- A licence leaves force in one of three ways besides expiring: revoked by
-- an authority, cancelled on its holder's request (注销) or superseded by the
-- licence that replaces it (a transfer or a change). The time, reason and
-- actor of the revocation become those of any end; the application that
-- cancelled or superseded it and the licence that superseded it are kept.
ALTER TABLE licences DROP CONSTRAINT licences_status_check;
ALTER TABLE licences ADD CONSTRAINT licences_status_check CHECK (status IN ('valid', 'revoked', 'cancelled', 'superseded'));
ALTER TABLE licences RENAME COLUMN revoked_at TO ended_at;
ALTER TABLE licences RENAME COLUMN revoke_reason TO end_reason;
ALTER TABLE licences RENAME COLUMN revoked_by TO ended_by;
ALTER TABLE licences ADD COLUMN end_application_id BIGINT REFERENCES applications(id);
ALTER TABLE licences ADD COLUMN end_application_number TEXT NOT NULL DEFAULT '';
ALTER TABLE licences ADD COLUMN superseded_by BIGINT REFERENCES licences(id);
