-- Approval modes beyond machine and manual decisions (docs/WORKFLOW.md,
-- "Approval modes"): commitments signed by applicants, public notices of
-- filings and the objections to them, co-parties who must confirm, materials
-- deferred under a commitment, and the credit records broken promises write.

-- A signed commitment (告知承诺书, or the promise to supply a deferred
-- material later): who signed what, when. The digest is SHA-256 of the text.
CREATE TABLE commitments (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	application_id BIGINT NOT NULL REFERENCES applications(id),
	purpose        TEXT NOT NULL, -- approval, or deferral:MATERIAL
	account_id     BIGINT NOT NULL REFERENCES accounts(id),
	signer_name    TEXT NOT NULL,
	signed_at      TIMESTAMP NOT NULL,
	text           TEXT NOT NULL,
	digest         TEXT NOT NULL,
	UNIQUE (application_id, purpose)
);

-- A filing on public notice (自审备案公示) until ends_at.
CREATE TABLE notices (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	application_id BIGINT NOT NULL UNIQUE REFERENCES applications(id),
	status         TEXT NOT NULL CHECK (status IN ('open', 'halted', 'ended', 'rejected', 'withdrawn')),
	title          TEXT NOT NULL, -- what the public sees: the item and the applicant's masked name
	department     TEXT NOT NULL,
	starts_at      TIMESTAMP NOT NULL,
	ends_at        TIMESTAMP NOT NULL
);
CREATE INDEX notices_status ON notices(status, ends_at);

-- An objection to a notice, reviewed in the department's task inbox.
CREATE TABLE objections (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	notice_id  BIGINT NOT NULL REFERENCES notices(id),
	account_id BIGINT NOT NULL REFERENCES accounts(id),
	reasons    TEXT NOT NULL,
	task_id    BIGINT REFERENCES tasks(id),
	outcome    TEXT NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending', 'cleared', 'upheld')),
	created_at TIMESTAMP NOT NULL
);

-- A co-party of an application (一事多人), named by the applicant.
CREATE TABLE application_parties (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	application_id BIGINT NOT NULL REFERENCES applications(id),
	role           TEXT NOT NULL,
	person_id      BIGINT NOT NULL REFERENCES persons(id),
	name           TEXT NOT NULL,
	status         TEXT NOT NULL CHECK (status IN ('named', 'invited', 'confirmed', 'refused', 'lapsed')),
	reason         TEXT NOT NULL DEFAULT '',
	invited_at     TIMESTAMP,
	due_at         TIMESTAMP,
	acted_at       TIMESTAMP,
	UNIQUE (application_id, role)
);
CREATE INDEX application_parties_person ON application_parties(person_id, status);

-- A material deferred under a commitment (容缺受理), due by due_at.
CREATE TABLE deferrals (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	application_id BIGINT NOT NULL REFERENCES applications(id),
	material_id    TEXT NOT NULL,
	commitment_id  BIGINT NOT NULL REFERENCES commitments(id),
	due_at         TIMESTAMP NOT NULL,
	marked_at      TIMESTAMP NOT NULL,
	supplied_at    TIMESTAMP,
	overdue_at     TIMESTAMP,
	UNIQUE (application_id, material_id)
);
CREATE INDEX deferrals_due ON deferrals(supplied_at, overdue_at, due_at);

-- A credit record the platform wrote about a person: a false commitment, an
-- overdue supplement. Each also counts in the credit registry (信用库).
CREATE TABLE credit_records (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	person_id      BIGINT NOT NULL REFERENCES persons(id),
	application_id BIGINT NOT NULL REFERENCES applications(id),
	kind           TEXT NOT NULL CHECK (kind IN ('false_commitment', 'overdue_supplement')),
	ref            TEXT NOT NULL DEFAULT '',
	note           TEXT NOT NULL DEFAULT '',
	created_at     TIMESTAMP NOT NULL,
	UNIQUE (application_id, kind, ref)
);
CREATE INDEX credit_records_person ON credit_records(person_id, kind);
