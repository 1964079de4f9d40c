-- Agents, credentials, and what interactions need for assignment:
-- conference parties, workbins and dispositions.
ALTER TABLE interactions ADD COLUMN parties TEXT NOT NULL DEFAULT '[]';
ALTER TABLE interactions ADD COLUMN workbin TEXT;
ALTER TABLE interactions ADD COLUMN workbin_owner TEXT;
ALTER TABLE interactions ADD COLUMN disposition TEXT;
CREATE INDEX interactions_by_state ON interactions (state);
CREATE INDEX interactions_by_workbin ON interactions (workbin, workbin_owner);

-- Events about an agent (its offers, its interactions, its presence) carry
-- the agent's id, so an agent's desktop reads only its own.
ALTER TABLE events ADD COLUMN agent_id TEXT;
CREATE INDEX events_by_agent ON events (agent_id, seq);

CREATE TABLE agents (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    role                TEXT NOT NULL,
    password_hash       TEXT,
    skills              TEXT NOT NULL,
    agent_groups        TEXT NOT NULL,
    capacity            TEXT NOT NULL,
    after_call_work_ms  INTEGER NOT NULL,
    presence            TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

-- Session tokens and API keys, by the SHA-256 of the secret.
CREATE TABLE credentials (
    hash        TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    agent_id    TEXT,
    role        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER
);
CREATE INDEX credentials_by_agent ON credentials (agent_id);
