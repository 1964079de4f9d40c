-- Interactions and the event log.
CREATE TABLE interactions (
    id            TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL,
    media_type    TEXT NOT NULL,
    state         TEXT NOT NULL,
    queue         TEXT,
    priority      INTEGER NOT NULL DEFAULT 0,
    attached      TEXT NOT NULL DEFAULT '[]',
    contact_id    TEXT,
    parent_id     TEXT,
    owner         TEXT,
    submitted_at  INTEGER NOT NULL,
    queued_at     INTEGER,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX interactions_by_queue ON interactions (queue, state, priority DESC, queued_at);
CREATE INDEX interactions_by_owner ON interactions (owner, state);

CREATE TABLE events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    at              INTEGER NOT NULL,
    interaction_id  TEXT,
    kind            TEXT NOT NULL,
    data            TEXT NOT NULL
);
CREATE INDEX events_by_interaction ON events (interaction_id, seq);
