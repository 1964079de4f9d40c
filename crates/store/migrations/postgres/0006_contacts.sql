-- The contact history store: contacts and their identities, the search
-- index over interactions' text, categories of standard responses, and
-- what the retention sweep keeps track of.

-- A contact: a customer. A merged contact stays as a tombstone pointing at
-- the contact it was merged into.
CREATE TABLE contacts (
    id           TEXT PRIMARY KEY,
    name         TEXT,
    first_name   TEXT,
    last_name    TEXT,
    attributes   TEXT NOT NULL DEFAULT '{}',
    merged_into  TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX contacts_by_merged_into ON contacts (merged_into);
CREATE INDEX contacts_by_update ON contacts (updated_at);

-- What identifies a contact: normalised e-mail addresses (lower case) and
-- phone numbers (`+` and digits), each owned by one contact.
CREATE TABLE contact_identities (
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    contact_id  TEXT NOT NULL,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE INDEX contact_identities_by_contact ON contact_identities (contact_id);

-- Interactions named their contact `email:<address>` before contacts
-- existed: each address becomes a contact (with a UUIDv7 id) and its
-- interactions point at it.
CREATE TEMP TABLE legacy_contacts AS
SELECT email,
       substr(ms, 1, 8) || '-' || substr(ms, 9, 4) || '-7' || substr(r, 1, 3)
       || '-' || substr('89ab', 1 + floor(random() * 4)::int, 1) || substr(r, 4, 3)
       || '-' || substr(r, 7, 12) AS id,
       first_at
FROM (
    SELECT email,
           lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0') AS ms,
           md5(random()::text || email) AS r,
           first_at
    FROM (
        SELECT lower(trim(substr(contact_id, 7))) AS email, MIN(submitted_at) AS first_at
        FROM interactions
        WHERE contact_id LIKE 'email:%'
        GROUP BY lower(trim(substr(contact_id, 7)))
    ) addresses
) numbered;
INSERT INTO contacts (id, created_at, updated_at)
SELECT id, first_at, first_at FROM legacy_contacts;
INSERT INTO contact_identities (kind, value, contact_id, added_at)
SELECT 'email', email, id, first_at FROM legacy_contacts;
UPDATE interactions
SET contact_id = l.id
FROM legacy_contacts l
WHERE interactions.contact_id LIKE 'email:%'
  AND l.email = lower(trim(substr(interactions.contact_id, 7)));
DROP TABLE legacy_contacts;

-- Full-text search: one document per searchable text (a subject, a chat
-- message, an e-mail body), indexed as a tsvector with a GIN index.
CREATE TABLE search_documents (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    interaction_id  TEXT NOT NULL,
    channel         TEXT NOT NULL,
    at              BIGINT NOT NULL,
    text            TEXT NOT NULL,
    tsv             tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
);
CREATE INDEX search_documents_by_interaction ON search_documents (interaction_id, at);
CREATE INDEX search_documents_tsv ON search_documents USING GIN (tsv);

-- What existed before the index: subjects and chat messages everyone saw.
INSERT INTO search_documents (interaction_id, channel, at, text)
SELECT i.id, i.media_type, i.submitted_at, a.value -> 'value' ->> 'text'
FROM interactions i, jsonb_array_elements(i.attached::jsonb) a
WHERE a.value ->> 'key' = 'subject' AND a.value -> 'value' ->> 'text' IS NOT NULL;
INSERT INTO search_documents (interaction_id, channel, at, text)
SELECT id, 'chat', created_at, subject FROM chat_sessions WHERE subject IS NOT NULL;
INSERT INTO search_documents (interaction_id, channel, at, text)
SELECT session_id, 'chat', at, searchable
FROM (
    SELECT seq, session_id, at,
           CASE kind
               WHEN 'text' THEN body::jsonb ->> 'text'
               WHEN 'url' THEN body::jsonb ->> 'url'
               ELSE body::jsonb -> 'file' ->> 'name'
           END AS searchable
    FROM chat_messages
    WHERE visibility = 'all' AND kind IN ('text', 'url', 'file')
) messages
WHERE searchable IS NOT NULL
ORDER BY seq;

-- Categories of standard responses, as a tree. A response's category was
-- a free name: each name becomes a category with that id.
CREATE TABLE response_categories (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    parent_id   TEXT,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX response_categories_by_parent ON response_categories (parent_id);
INSERT INTO response_categories (id, name, parent_id, updated_at)
SELECT DISTINCT category, category, NULL::text, 0 FROM responses WHERE category <> '';
ALTER TABLE responses ADD COLUMN category_id TEXT;
UPDATE responses SET category_id = NULLIF(category, '');
ALTER TABLE responses DROP COLUMN category;
CREATE INDEX responses_by_category ON responses (category_id);

-- Retention: interactions written to an archive file (and when, where),
-- and the highest event and chat message numbers it deleted, so numbering
-- never goes back.
CREATE TABLE archived_interactions (
    interaction_id  TEXT PRIMARY KEY,
    archived_at     BIGINT NOT NULL,
    file            TEXT NOT NULL
);
CREATE TABLE retired_numbers (
    name  TEXT PRIMARY KEY,
    last  BIGINT NOT NULL
);
CREATE INDEX interactions_by_finish ON interactions (state, updated_at);
