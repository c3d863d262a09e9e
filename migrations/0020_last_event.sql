-- The tick reads the last gate.eligible and model.changed event of every use case it judges; by
-- (use_case, at) each was a read of all the use case's events of every kind. By (use_case, action,
-- id) it is one probe per use case and kind: the last id of the kind.
CREATE INDEX "audit_events_use_case_action" ON "audit_events" USING btree ("use_case","action","id");
