-- The audit log: administrative actions, who did them and when.
CREATE TABLE audit_log (
    id      TEXT PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    detail  TEXT NOT NULL
);
CREATE INDEX audit_log_by_action ON audit_log (action, id);
