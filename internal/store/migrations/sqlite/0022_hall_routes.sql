-- A machine item's manual cases may go to a service hall's staff rather
-- than a department's (catalog approval.manual.hall): such a step names its
-- hall, and the hall's inbox reads its open steps of a role by deadline as
-- a department's inbox reads its own (tasks_inbox). Steps of a department
-- leave it empty.
ALTER TABLE tasks ADD COLUMN hall_id BIGINT REFERENCES halls(id);
CREATE INDEX tasks_hall_inbox ON tasks(hall_id, role, status, deadline, id);
