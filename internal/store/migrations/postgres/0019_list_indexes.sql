-- Every list a person or a staff member opens is read along an index, in
-- the order it is shown, so that opening it costs the same however many
-- applications the database holds (docs/BENCHMARKS.md, "Lists at a
-- million applications"). The same text for both backends. An index on
-- (x, id) serves "WHERE x = ? ORDER BY id DESC" on PostgreSQL too, where
-- SQLite's index on (x) already ends in the row id.

-- My applications (application.Drafts.Mine): made by the account, of the
-- enterprise acted for, of the person taken in at a window; newest first.
DROP INDEX applications_account;
CREATE INDEX applications_account ON applications(account_id, id);
DROP INDEX applications_enterprise;
CREATE INDEX applications_enterprise ON applications(enterprise_id, id);
CREATE INDEX applications_person ON applications(person_id, id);
-- The home page's most applied-for items of the last month, from the
-- index alone.
CREATE INDEX applications_submitted ON applications(submitted_at, item_code);

-- The inbox (application.Tasks.Inbox): a department's open steps of a role,
-- the clerks' open acceptance steps of every department, the steps one has
-- claimed, each by deadline.
DROP INDEX tasks_inbox;
CREATE INDEX tasks_inbox ON tasks(department, role, status, deadline, id);
CREATE INDEX tasks_clerk ON tasks(role, status, deadline, id);
CREATE INDEX tasks_assignee ON tasks(assignee, status, deadline, id);
-- The overdue board and the deadline sweep: the running steps and the
-- applications under way, by deadline, in one range each (partial indexes:
-- the few running among millions done).
CREATE INDEX tasks_running ON tasks(deadline, id) WHERE status IN ('open', 'claimed');
CREATE INDEX applications_running ON applications(deadline, id) WHERE status IN ('accepted', 'under_review');

-- My licences: the holder's, newest first (licences_holder, with the type,
-- serves revocation).
CREATE INDEX licences_holder_newest ON licences(holder_idx, id);

-- The unread count of the inbox of messages, on every page: the unread
-- alone (the inbox itself reads outbox_messages_account and _person).
CREATE INDEX outbox_messages_account_unread ON outbox_messages(account_id) WHERE read_at IS NULL;
CREATE INDEX outbox_messages_person_unread ON outbox_messages(person_id) WHERE read_at IS NULL;

-- Who read my data: the subject's reads, newest first.
DROP INDEX data_reads_subject;
CREATE INDEX data_reads_subject ON data_reads(subject_idx, at, id);

-- The prefill's consent lookup: the applicant's newest consent for the
-- subject, rather than every consent given for the subject.
CREATE INDEX consents_account ON consents(account_id, subject_idx, id);

-- My invitations as a co-party: newest application first.
DROP INDEX application_parties_person;
CREATE INDEX application_parties_person ON application_parties(person_id, application_id);

-- The authorisations an enterprise gave, newest first.
CREATE INDEX authorisations_enterprise ON authorisations(enterprise, id);

-- Accountability records, newest first (the overdue board).
CREATE INDEX accountability_records_newest ON accountability_records(created_at, id);

-- Staff accounts by user name (administration), past the applicants'.
CREATE INDEX accounts_staff ON accounts(kind, username);

-- The personal-data access log, newest first: all of it, or a staff
-- member's, or a subject's.
CREATE INDEX pii_access_log_newest ON pii_access_log(at, id);
DROP INDEX pii_access_log_subject;
CREATE INDEX pii_access_log_subject ON pii_access_log(subject_person, at, id);
DROP INDEX pii_access_log_staff;
CREATE INDEX pii_access_log_staff ON pii_access_log(staff_account, at, id);
