//! The OpenAPI 3.1 document of the API, served at `/v1/openapi.json`,
//! built from one table of operations (a test checks that every listed
//! operation is served).

use serde_json::{Map, Value, json};

/// One operation: method, path, who may call it, what it does.
pub struct Operation {
    /// HTTP method, lower case.
    pub method: &'static str,
    /// Path, with `{parameters}`.
    pub path: &'static str,
    /// `public`, `chat-key` (a chat session's key), `any` (any credential),
    /// `agent`, `supervisor` or `admin`.
    pub access: &'static str,
    /// Summary.
    pub summary: &'static str,
}

const fn op(
    method: &'static str,
    path: &'static str,
    access: &'static str,
    summary: &'static str,
) -> Operation {
    Operation {
        method,
        path,
        access,
        summary,
    }
}

/// Every operation of the API.
pub const OPERATIONS: &[Operation] = &[
    op("get", "/health", "public", "Liveness: the process answers."),
    op(
        "get",
        "/ready",
        "public",
        "Readiness: the database answers.",
    ),
    op("get", "/metrics", "public", "Prometheus metrics."),
    op("get", "/v1/openapi.json", "public", "This document."),
    op(
        "post",
        "/v1/sessions",
        "public",
        "Log in with id and password; returns a session token.",
    ),
    op(
        "delete",
        "/v1/sessions/current",
        "agent",
        "Log out (ends the session token used).",
    ),
    op(
        "get",
        "/v1/me",
        "any",
        "Who the credential is, with the account.",
    ),
    op(
        "get",
        "/v1/agents",
        "supervisor",
        "Every account with its presence.",
    ),
    op(
        "post",
        "/v1/agents",
        "admin",
        "Create an account (skills, groups, capacity rule, after-call work).",
    ),
    op(
        "get",
        "/v1/agents/{id}",
        "agent",
        "One account (itself, or any for supervisors).",
    ),
    op(
        "put",
        "/v1/agents/{id}",
        "admin",
        "Replace an account's settings.",
    ),
    op(
        "delete",
        "/v1/agents/{id}",
        "admin",
        "Delete an account that holds no interaction.",
    ),
    op(
        "put",
        "/v1/agents/{id}/presence",
        "agent",
        "Set presence per media type: ready, not-ready (reason), after-call-work, logged-out.",
    ),
    op(
        "get",
        "/v1/api-keys",
        "admin",
        "API keys (never their secrets).",
    ),
    op(
        "post",
        "/v1/api-keys",
        "admin",
        "Create an API key with a role; the key is shown once.",
    ),
    op(
        "delete",
        "/v1/api-keys/{name}",
        "admin",
        "Revoke an API key.",
    ),
    op(
        "post",
        "/v1/interactions",
        "any",
        "Submit an interaction (idempotent with a client id); queued ones are routed.",
    ),
    op(
        "get",
        "/v1/interactions",
        "agent",
        "List interactions by queue, state, owner, workbin (agents: their own).",
    ),
    op(
        "get",
        "/v1/interactions/{id}",
        "agent",
        "One interaction (supervisors, or agents in it).",
    ),
    op(
        "post",
        "/v1/interactions/{id}/accept",
        "agent",
        "Accept an offer.",
    ),
    op(
        "post",
        "/v1/interactions/{id}/reject",
        "agent",
        "Reject an offer; it is routed again, not to this agent.",
    ),
    op(
        "post",
        "/v1/interactions/{id}/complete",
        "agent",
        "Complete with a disposition code.",
    ),
    op(
        "post",
        "/v1/interactions/{id}/transfer",
        "agent",
        "Transfer to {\"agent\": id} (offered) or {\"queue\": name} (routed).",
    ),
    op(
        "post",
        "/v1/interactions/{id}/conference",
        "agent",
        "Add an agent to an accepted interaction.",
    ),
    op(
        "post",
        "/v1/interactions/{id}/leave",
        "agent",
        "Leave a conference.",
    ),
    op(
        "post",
        "/v1/interactions/{id}/park",
        "agent",
        "Park in a workbin (the agent's, or a group's).",
    ),
    op(
        "post",
        "/v1/interactions/{id}/pull",
        "agent",
        "Pull from a workbin or a queue (capacity is checked).",
    ),
    op(
        "post",
        "/v1/interactions/{id}/move",
        "supervisor",
        "Move into a queue.",
    ),
    op(
        "post",
        "/v1/interactions/{id}/stop",
        "supervisor",
        "Stop, with a reason.",
    ),
    op(
        "get",
        "/v1/views/{name}",
        "agent",
        "The queued interactions a view shows, filtered and ordered.",
    ),
    op(
        "get",
        "/v1/workbins/{name}",
        "agent",
        "Interactions parked in a workbin (?owner= agent or group).",
    ),
    op(
        "get",
        "/v1/events",
        "agent",
        "The event log after a cursor (agents: their own events).",
    ),
    op(
        "get",
        "/v1/events/stream",
        "agent",
        "Server-Sent Events from a cursor (?after= or Last-Event-ID), then live.",
    ),
    op(
        "get",
        "/v1/events/ws",
        "agent",
        "The same stream over WebSocket (?after=, ?token=).",
    ),
    op(
        "get",
        "/v1/processes",
        "supervisor",
        "The running business processes and the last refused change.",
    ),
    op(
        "get",
        "/v1/stats/queues",
        "supervisor",
        "Per queue: waiting, offered, oldest, estimated wait.",
    ),
    op(
        "get",
        "/v1/stats/agents",
        "supervisor",
        "Per agent: presence, load, idle time, offers answered.",
    ),
    op(
        "get",
        "/v1/stats/totals",
        "supervisor",
        "Counters since start.",
    ),
    op(
        "get",
        "/v1/plugins",
        "admin",
        "Loaded plugins with their versions and statistics.",
    ),
    op(
        "post",
        "/v1/plugins",
        "admin",
        "Upload a plugin (validated, then swapped in).",
    ),
    op("get", "/v1/plugins/{name}", "admin", "One plugin's status."),
    op(
        "post",
        "/v1/plugins/{name}/rollback",
        "admin",
        "Make an earlier version live again.",
    ),
    op(
        "post",
        "/v1/plugins/{name}/invoke",
        "admin",
        "Call a plugin function with JSON.",
    ),
    op(
        "get",
        "/v1/plugins/{name}/recording",
        "admin",
        "How far the recording of a plugin's calls is (`[[recording]]`).",
    ),
    op(
        "get",
        "/v1/plugins/{name}/recording/calls",
        "admin",
        "The recorded calls, one fixture case per line (JSON lines).",
    ),
    op(
        "get",
        "/v1/plugins/{name}/shadow",
        "admin",
        "How often the shadow candidate agrees with the live version.",
    ),
    op(
        "post",
        "/v1/plugins/{name}/shadow",
        "admin",
        "Run a candidate version (an upload) in the shadow of the live one.",
    ),
    op(
        "delete",
        "/v1/plugins/{name}/shadow",
        "admin",
        "Stop the shadow run; its final summary.",
    ),
    op(
        "get",
        "/v1/events/cursor",
        "agent",
        "The newest event's seq, to follow the stream from now.",
    ),
    op(
        "post",
        "/v1/chat/sessions",
        "public",
        "Start a chat (customer): nickname, e-mail, subject, attached data; returns the session id and its key.",
    ),
    op(
        "get",
        "/v1/chat/sessions/{id}",
        "chat-key",
        "The chat as its customer sees it: state, agents, ended.",
    ),
    op(
        "post",
        "/v1/chat/sessions/{id}/messages",
        "chat-key",
        "Send a message (stored, masked, before the answer).",
    ),
    op(
        "get",
        "/v1/chat/sessions/{id}/messages",
        "chat-key",
        "Long poll: messages after `after`, waiting up to `wait` s.",
    ),
    op(
        "post",
        "/v1/chat/sessions/{id}/typing",
        "chat-key",
        "Typing started or stopped.",
    ),
    op(
        "post",
        "/v1/chat/sessions/{id}/url",
        "chat-key",
        "Push a URL.",
    ),
    op(
        "post",
        "/v1/chat/sessions/{id}/files",
        "chat-key",
        "Send a file (raw body, `Content-Type`, `?name=`); size and type checked.",
    ),
    op(
        "get",
        "/v1/chat/sessions/{id}/files/{file}",
        "chat-key",
        "Download a file of the chat.",
    ),
    op(
        "get",
        "/v1/chat/sessions/{id}/ws",
        "chat-key",
        "The chat's WebSocket, resuming after `after`.",
    ),
    op(
        "post",
        "/v1/chat/sessions/{id}/leave",
        "chat-key",
        "Leave the chat.",
    ),
    op(
        "get",
        "/v1/chats",
        "supervisor",
        "Live chats with their agents, activity and supervisors.",
    ),
    op(
        "get",
        "/v1/chats/ws",
        "agent",
        "One WebSocket for every chat the account is in or supervises.",
    ),
    op(
        "get",
        "/v1/chats/{id}",
        "agent",
        "A chat's session and transcript (coaching included), also after it ended.",
    ),
    op(
        "post",
        "/v1/chats/{id}/messages",
        "agent",
        "Write in a chat (a party, or a supervisor coaching or barging in).",
    ),
    op(
        "post",
        "/v1/chats/{id}/typing",
        "agent",
        "Typing started or stopped.",
    ),
    op(
        "post",
        "/v1/chats/{id}/url",
        "agent",
        "Push a URL to the customer.",
    ),
    op("post", "/v1/chats/{id}/files", "agent", "Send a file."),
    op(
        "get",
        "/v1/chats/{id}/files/{file}",
        "agent",
        "Download a file of a chat.",
    ),
    op(
        "put",
        "/v1/chats/{id}/supervision",
        "supervisor",
        "Monitor, coach or barge in.",
    ),
    op(
        "delete",
        "/v1/chats/{id}/supervision",
        "supervisor",
        "Stop supervising.",
    ),
    op(
        "get",
        "/v1/emails/{interaction}",
        "agent",
        "The e-mail messages of an interaction, oldest first.",
    ),
    op(
        "get",
        "/v1/emails/{interaction}/reply",
        "agent",
        "The reply to start from: recipients, `Re:` subject, the original quoted.",
    ),
    op(
        "post",
        "/v1/emails/{interaction}/replies",
        "agent",
        "Reply (queued, or waiting for review when the author's group needs it).",
    ),
    op(
        "get",
        "/v1/email/attachments/{id}",
        "agent",
        "Download an e-mail attachment.",
    ),
    op(
        "get",
        "/v1/email/messages/{id}",
        "agent",
        "An e-mail message.",
    ),
    op(
        "put",
        "/v1/email/messages/{id}",
        "agent",
        "The author's new version of a rejected reply (back to review).",
    ),
    op(
        "get",
        "/v1/email/messages/{id}/mime",
        "agent",
        "The raw MIME of a message as received, sent or before its transform.",
    ),
    op(
        "post",
        "/v1/email/messages/{id}/approve",
        "supervisor",
        "Approve a reply under review, optionally with an edit.",
    ),
    op(
        "post",
        "/v1/email/messages/{id}/reject",
        "supervisor",
        "Send a reply under review back to its author with a comment.",
    ),
    op(
        "get",
        "/v1/email/reviews",
        "supervisor",
        "Replies waiting for review.",
    ),
    op(
        "get",
        "/v1/email/malformed",
        "supervisor",
        "Messages kept for inspection because they could not be read.",
    ),
    op(
        "get",
        "/v1/email/mailboxes",
        "supervisor",
        "Each mailbox: connected, messages taken in, last error.",
    ),
    op(
        "post",
        "/v1/email/forms/{form}",
        "public",
        "A web form post, taken in as an e-mail interaction.",
    ),
    op(
        "get",
        "/v1/directory",
        "agent",
        "Agents (with readiness), queues, dispositions and not-ready reasons for the desktop.",
    ),
    op(
        "get",
        "/v1/responses",
        "agent",
        "Standard responses, by name (each with its category's id).",
    ),
    op(
        "post",
        "/v1/responses",
        "supervisor",
        "Create or replace a standard response (its category must exist).",
    ),
    op(
        "delete",
        "/v1/responses/{id}",
        "supervisor",
        "Delete a standard response.",
    ),
    op(
        "post",
        "/v1/responses/{id}/render",
        "agent",
        "A response's text with its field codes filled in for {\"interaction\": id} and the caller.",
    ),
    op(
        "get",
        "/v1/responses/export",
        "supervisor",
        "The whole library (categories and responses) as one `parley-responses` file.",
    ),
    op(
        "post",
        "/v1/responses/import",
        "supervisor",
        "Import a library file, `?mode=merge` (by id, the default) or `replace`; atomic, a bad file changes nothing.",
    ),
    op(
        "get",
        "/v1/response-categories",
        "agent",
        "The categories of standard responses (a tree: id, name, parent).",
    ),
    op(
        "post",
        "/v1/response-categories",
        "supervisor",
        "Create or replace a category (its parent must exist; no cycles).",
    ),
    op(
        "delete",
        "/v1/response-categories/{id}",
        "supervisor",
        "Delete an empty category.",
    ),
    op(
        "get",
        "/v1/contacts",
        "agent",
        "Contacts whose name or identity contains `q` (all without it), most recently changed first; `limit`, `offset`.",
    ),
    op(
        "post",
        "/v1/contacts",
        "supervisor",
        "Create a contact: names, attributes, e-mail addresses, phone numbers.",
    ),
    op(
        "get",
        "/v1/contacts/{contact}",
        "agent",
        "One contact, by id, `email:<address>` or `phone:<number>` (a merged contact answers with the one it was merged into).",
    ),
    op(
        "patch",
        "/v1/contacts/{contact}",
        "supervisor",
        "Change a contact's names, attributes (null removes) or identities (lists replaced).",
    ),
    op(
        "delete",
        "/v1/contacts/{contact}",
        "supervisor",
        "Delete a contact that has no interactions.",
    ),
    op(
        "post",
        "/v1/contacts/{contact}/merge",
        "supervisor",
        "Merge {\"contacts\": [...]} into this one: identities and interactions move, the others stay as tombstones.",
    ),
    op(
        "get",
        "/v1/contacts/{contact}/history",
        "agent",
        "A contact's interactions on every channel, newest first, with subjects, bodies, transcripts and attachments; `limit`, `offset`.",
    ),
    op(
        "get",
        "/v1/search",
        "agent",
        "Full-text search of subjects and messages: interactions with every word of `q` (of `contact`), newest first, with a snippet; `limit`, `offset`.",
    ),
    op(
        "post",
        "/v1/retention/run",
        "admin",
        "Run the retention sweep now; how many interactions were archived and deleted.",
    ),
];

fn parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect()
}

/// The document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for o in OPERATIONS {
        let security = match o.access {
            "public" => json!([]),
            "chat-key" => json!([{ "chatKey": [] }]),
            _ => json!([{ "bearer": [] }]),
        };
        let operation = json!({
            "summary": o.summary,
            "description": format!("Access: {}.", o.access),
            "parameters": parameters(o.path),
            "security": security,
            "responses": {
                "200": { "description": "Success (201 for creations, 204 for deletions)." },
                "default": { "description": "An error.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
            }
        });
        let entry = paths
            .entry(o.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[o.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Parley API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Interactions, agents, routing and the event stream of a Parley server. Authenticate with `Authorization: Bearer <session token | API key | admin token>`."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "chatKey": { "type": "apiKey", "in": "header", "name": "X-Chat-Key", "description": "The key a chat session was started with (`?key=` on the WebSocket)." }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": { "type": "string", "description": "Stable, machine-readable code, e.g. `invalid-transition`." },
                        "message": { "type": "string", "description": "What went wrong, for people." }
                    }
                }
            }
        }
    })
}
