//! Router calls' arguments and results as WIT-shaped JSON, the format of
//! fixture cases (`docs/fixtures.md`): records as objects with the WIT
//! field names, variants as `{"case": payload}`, options as the value or
//! `null`, results as `{"ok": ...}` or `{"err": ...}`.

use serde_json::{Value as Json, json};

use crate::bindings::routing::{Action, Change, Decision, Target, Timer};
use crate::bindings::types::{
    AgentCandidate, Attribute, ContactSummary, Error, ErrorKind, Interaction, ScreenRequest,
    ScreenResult, Value,
};

fn value(value: &Value) -> Json {
    match value {
        Value::Text(t) => json!({ "text": t }),
        Value::Integer(n) => json!({ "integer": n }),
        Value::Decimal(d) => json!({ "decimal": d }),
        Value::Boolean(b) => json!({ "boolean": b }),
        Value::Timestamp(t) => json!({ "timestamp": t }),
        Value::Texts(t) => json!({ "texts": t }),
    }
}

/// An attribute list.
pub fn attributes(list: &[Attribute]) -> Json {
    list.iter()
        .map(|a| json!({ "key": a.key, "value": value(&a.value) }))
        .collect()
}

fn contact(c: &ContactSummary) -> Json {
    json!({
        "id": c.id,
        "display-name": c.display_name,
        "segment": c.segment,
        "interaction-count": c.interaction_count,
        "attributes": attributes(&c.attributes),
    })
}

pub fn interaction(i: &Interaction) -> Json {
    json!({
        "id": i.id,
        "tenant": i.tenant,
        "media-type": i.media_type,
        "queue": i.queue,
        "priority": i.priority,
        "age-ms": i.age_ms,
        "queue-age-ms": i.queue_age_ms,
        "subject": i.subject,
        "attached": attributes(&i.attached),
        "contact": i.contact.as_ref().map(contact),
        "thread-id": i.thread_id,
    })
}

/// An agent candidate.
pub fn candidate(c: &AgentCandidate) -> Json {
    json!({
        "id": c.id,
        "skills": c.skills.iter().map(|s| json!({ "name": s.name, "level": s.level })).collect::<Vec<_>>(),
        "groups": c.groups,
        "load": c.load.iter().map(|l| json!({
            "media-type": l.media_type, "active": l.active, "capacity": l.capacity,
        })).collect::<Vec<_>>(),
        "idle-ms": c.idle_ms,
    })
}

fn timer(t: &Timer) -> Json {
    json!({ "after-ms": t.after_ms, "tag": t.tag })
}

fn target(t: &Target) -> Json {
    match t {
        Target::Agent(id) => json!({ "agent": id }),
        Target::Group(name) => json!({ "group": name }),
        Target::Skills(list) => json!({
            "skills": list.iter().map(|s| json!({ "skill": s.skill, "min-level": s.min_level })).collect::<Vec<_>>(),
        }),
    }
}

/// A routing decision.
pub fn decision(d: &Decision) -> Json {
    let action = match &d.action {
        Action::Route(r) => json!({ "route": {
            "target": target(&r.target),
            "timer": r.timer.as_ref().map(timer),
        } }),
        Action::MoveToQueue(queue) => json!({ "move-to-queue": queue }),
        Action::Wait(t) => json!({ "wait": timer(t) }),
        Action::Stop(reason) => json!({ "stop": reason }),
    };
    let changes: Vec<Json> = d
        .changes
        .iter()
        .map(|c| match c {
            Change::SetPriority(p) => json!({ "set-priority": p }),
            Change::SetAttribute(a) => {
                json!({ "set-attribute": { "key": a.key, "value": value(&a.value) } })
            }
            Change::RemoveAttribute(key) => json!({ "remove-attribute": key }),
            Change::Notify(text) => json!({ "notify": text }),
        })
        .collect();
    json!({ "action": action, "changes": changes })
}

pub fn screen_request(r: &ScreenRequest) -> Json {
    json!({
        "media-type": r.media_type,
        "subject": r.subject,
        "content": { "content-type": r.content.content_type, "text": r.content.text },
        "attached": attributes(&r.attached),
        "language": r.language,
    })
}

pub fn screen_result(r: &ScreenResult) -> Json {
    json!({
        "categories": r.categories.iter().map(|c| json!({ "name": c.name, "score": c.score })).collect::<Vec<_>>(),
        "fields": r.fields.iter().map(|f| json!({ "name": f.name, "value": f.value })).collect::<Vec<_>>(),
        "matched-rules": r.matched_rules,
    })
}

/// An error value.
pub fn error(e: &Error) -> Json {
    let kind = match e.kind {
        ErrorKind::InvalidInput => "invalid-input",
        ErrorKind::NotFound => "not-found",
        ErrorKind::Denied => "denied",
        ErrorKind::Unavailable => "unavailable",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Internal => "internal",
    };
    json!({ "kind": kind, "message": e.message })
}

/// A WIT `result`.
pub fn result<T>(r: &Result<T, Error>, ok: impl FnOnce(&T) -> Json) -> Json {
    match r {
        Ok(v) => json!({ "ok": ok(v) }),
        Err(e) => json!({ "err": error(e) }),
    }
}
