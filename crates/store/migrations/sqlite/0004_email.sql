-- E-mail: every message in and out (with its status), its attachments,
-- the raw MIME as received or sent, and each mailbox's intake progress.
CREATE TABLE email_messages (
    id              TEXT PRIMARY KEY,
    interaction_id  TEXT NOT NULL,
    direction       TEXT NOT NULL,
    status          TEXT NOT NULL,
    source          TEXT,
    message_id      TEXT,
    in_reply_to     TEXT,
    refs            TEXT NOT NULL,
    from_addr       TEXT,
    from_name       TEXT,
    reply_to        TEXT,
    to_addrs        TEXT NOT NULL,
    cc_addrs        TEXT NOT NULL,
    subject         TEXT,
    text            TEXT NOT NULL,
    html            TEXT,
    error           TEXT,
    author          TEXT,
    reviewer        TEXT,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER,
    at              INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX email_messages_by_interaction ON email_messages (interaction_id, at);
CREATE INDEX email_messages_by_message_id ON email_messages (message_id);
CREATE INDEX email_messages_by_status ON email_messages (status, next_attempt_at);

CREATE TABLE email_attachments (
    id              TEXT PRIMARY KEY,
    message_id      TEXT NOT NULL,
    interaction_id  TEXT NOT NULL,
    position        INTEGER NOT NULL,
    name            TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    content_id      TEXT,
    inline          INTEGER NOT NULL,
    size            INTEGER NOT NULL,
    data            BLOB NOT NULL
);
CREATE INDEX email_attachments_by_message ON email_attachments (message_id, position);
CREATE INDEX email_attachments_by_interaction ON email_attachments (interaction_id);

-- `kind`: received (as it arrived), original (before the inbound MIME
-- transform, when kept), sent (as handed to the SMTP server).
CREATE TABLE email_mime (
    message_id      TEXT NOT NULL,
    interaction_id  TEXT NOT NULL,
    kind            TEXT NOT NULL,
    raw             BLOB NOT NULL,
    PRIMARY KEY (message_id, kind)
);
CREATE INDEX email_mime_by_interaction ON email_mime (interaction_id);

-- One row per mailbox item taken in (IMAP `uidvalidity:uid`, POP3 UIDL),
-- written in the same transaction as what it became: intake is
-- exactly-once across crashes.
CREATE TABLE mailbox_items (
    mailbox     TEXT NOT NULL,
    item        TEXT NOT NULL,
    message_id  TEXT,
    at          INTEGER NOT NULL,
    PRIMARY KEY (mailbox, item)
);
