-- Web chat: sessions (one per chat interaction), the transcript, files
-- sent in chats, and the library of standard responses.
CREATE TABLE chat_sessions (
    id          TEXT PRIMARY KEY,
    key_hash    TEXT NOT NULL,
    nickname    TEXT NOT NULL,
    email       TEXT,
    subject     TEXT,
    created_at  BIGINT NOT NULL,
    ended_at    BIGINT,
    end_reason  TEXT
);
CREATE INDEX chat_sessions_open ON chat_sessions (ended_at);

-- Messages are numbered by the single writer, so `seq` order is commit
-- order across all sessions.
CREATE TABLE chat_messages (
    seq         BIGINT PRIMARY KEY,
    session_id  TEXT NOT NULL,
    at          BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    from_role   TEXT NOT NULL,
    from_id     TEXT,
    from_name   TEXT NOT NULL,
    visibility  TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX chat_messages_by_session ON chat_messages (session_id, seq);

CREATE TABLE chat_files (
    id            TEXT PRIMARY KEY,
    session_id    TEXT NOT NULL,
    name          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    data          BYTEA NOT NULL,
    at            BIGINT NOT NULL
);
CREATE INDEX chat_files_by_session ON chat_files (session_id);

CREATE TABLE responses (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    category    TEXT NOT NULL,
    text        TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE INDEX interactions_by_contact ON interactions (contact_id, submitted_at);
