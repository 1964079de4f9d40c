//! Taking a raw message in, from a mailbox or a web form: parse it, tell
//! a bounce from a customer's mail, thread it to its interaction and
//! contact, and store it with its interaction and the mailbox item it came
//! from in one transaction. A message that cannot be read is stored too,
//! as malformed, for inspection; nothing is dropped.

use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use super::error::EmailError;
use super::outbox::Outbox;
use super::parse::{self, Email, Limits};
use super::settings::EmailSettings;
use super::transform::{self, Inbound};
use super::{bounce, compose};
use parley_core::Media;
use parley_core::masking::Masking;
use parley_core::quota::RateLimit;
use parley_engine::{Engine, EngineError};
use parley_store::contacts::Identity;
use parley_store::email::{
    Direction, MailboxItem, MimeKind, NewAttachment, NewEmail, Status, Target,
};
use parley_store::{Interaction, NewInteraction, StoreError};

/// What became of a message offered to intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Stored now.
    Stored,
    /// Taken in before (the mailbox item is recorded).
    Known,
    /// Not stored; offer it again later (the store or a plugin failed).
    Later,
}

/// Where a message came from.
#[derive(Debug, Clone)]
pub struct Source {
    /// Mailbox or form name (`form:<name>`).
    pub name: String,
    /// The queue its interaction enters, instead of `[email] queue`.
    pub queue: Option<String>,
    /// Which of its messages are acknowledged.
    pub acknowledgements: Acknowledgements,
}

/// Which messages of a source are acknowledged (when `[email]
/// acknowledge-with` names a response).
#[derive(Debug, Clone)]
pub enum Acknowledgements {
    /// Every message that is not automatic (mailboxes).
    Each,
    /// So many a day per address (web forms, where anyone names any
    /// address).
    Limited(Arc<RateLimit<String>>),
    /// None.
    Off,
}

impl Acknowledgements {
    fn allow(&self, address: &str) -> bool {
        match self {
            Acknowledgements::Each => true,
            Acknowledgements::Limited(limit) => limit.check(&address.to_string()).is_ok(),
            Acknowledgements::Off => false,
        }
    }
}

/// Intake: what mailboxes and forms hand their messages to.
pub struct Intake {
    engine: Arc<Engine>,
    settings: Arc<EmailSettings>,
    outbox: Arc<Outbox>,
    masking: Masking,
}

impl Intake {
    /// Intake into `engine`'s store and queues.
    pub fn new(
        engine: Arc<Engine>,
        settings: Arc<EmailSettings>,
        outbox: Arc<Outbox>,
        masking: Masking,
    ) -> Intake {
        Intake {
            engine,
            settings,
            outbox,
            masking,
        }
    }

    /// Largest message taken in; readers keep at most this much.
    pub fn max_message_bytes(&self) -> usize {
        self.settings.max_message_bytes
    }

    fn limits(&self) -> Limits {
        Limits {
            max_bytes: self.settings.max_message_bytes,
            ..Limits::default()
        }
    }

    /// Which of `items` of `mailbox` were taken in already.
    pub async fn known(
        &self,
        mailbox: &str,
        items: &[String],
    ) -> Result<HashSet<String>, StoreError> {
        self.engine
            .store()
            .known_mailbox_items(mailbox, items)
            .await
    }

    /// Takes `raw` in. `cut` says the reader kept only the first bytes of
    /// a message larger than the limit. With `item`, the mailbox item is
    /// recorded with what the message became, so it is never taken twice.
    pub async fn take(
        &self,
        source: &Source,
        raw: Vec<u8>,
        cut: bool,
        item: Option<MailboxItem>,
    ) -> Taken {
        if cut {
            let reason = format!(
                "the message is larger than the limit of {} bytes (its first bytes are kept)",
                self.settings.max_message_bytes
            );
            let outcome = self.store_malformed(source, reason, raw, item).await;
            return self.taken(source, outcome);
        }
        let registry = self.engine.registry();
        let (raw, mut mime) = match transform::inbound(registry, &self.settings.mime, raw).await {
            Inbound::Use { bytes, kept } => (bytes, kept),
            Inbound::Later => return Taken::Later,
            Inbound::BadFormat { reason, raw } => {
                let outcome = self.store_malformed(source, reason, raw, item).await;
                return self.taken(source, outcome);
            }
        };
        let parsed = parse::parse(&raw, &self.limits());
        let outcome = match parsed {
            Ok(email) => {
                mime.insert(0, (MimeKind::Received, raw));
                self.store_email(source, email, mime, Vec::new(), item)
                    .await
                    .map(|_| ())
            }
            Err(malformed) => {
                let reason = malformed.to_string();
                self.store_malformed(source, reason, raw, item).await
            }
        };
        self.taken(source, outcome)
    }

    fn taken(&self, source: &Source, outcome: Result<(), StoreError>) -> Taken {
        match outcome {
            Ok(()) => Taken::Stored,
            Err(StoreError::Duplicate {
                what: "mailbox item",
                ..
            }) => Taken::Known,
            Err(err) => {
                tracing::warn!(source = %source.name, "a message was not taken in; it is tried again later: {err}");
                Taken::Later
            }
        }
    }

    /// An interaction for a message that is kept but not routed: it waits
    /// for a supervisor to look at it; attached data `key` says why.
    fn unrouted(&self, source: &Source, key: &str, why: &str) -> NewInteraction {
        NewInteraction {
            id: None,
            tenant: self.settings.tenant.clone(),
            media_type: Media::Email.into(),
            queue: None,
            priority: 0,
            attached: json!([
                { "key": key, "value": { "text": why } },
                { "key": "mailbox", "value": { "text": source.name } },
            ]),
            contact_id: None,
            parent_id: None,
        }
    }

    async fn store_malformed(
        &self,
        source: &Source,
        reason: String,
        raw: Vec<u8>,
        item: Option<MailboxItem>,
    ) -> Result<(), StoreError> {
        tracing::warn!(source = %source.name, "kept a malformed message for inspection: {reason}");
        let new = self.unrouted(source, "malformed", &reason);
        let message = NewEmail {
            status: Status::Malformed,
            error: Some(reason),
            mime: vec![(MimeKind::Received, raw)],
            ..inbound(source)
        };
        self.engine
            .store()
            .receive_email(Target::New(new), message, item, None, None)
            .await?;
        Ok(())
    }

    /// Takes in a web form post: `email` and `message` are required,
    /// `name` and `subject` optional, and every other field becomes
    /// attached data `form.<field>`. Returns the new interaction's id.
    pub async fn take_form(
        &self,
        source: &Source,
        fields: &BTreeMap<String, String>,
    ) -> Result<String, EmailError> {
        let field = |name: &str| fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let address = field("email")
            .ok_or_else(|| EmailError::Invalid("the form needs an `email` field".into()))?
            .to_ascii_lowercase();
        compose::check_address(&address)?;
        let text = field("message")
            .ok_or_else(|| EmailError::Invalid("the form needs a `message` field".into()))?;
        let mut extra = Vec::new();
        for (key, value) in fields {
            if ["email", "message", "name", "subject"].contains(&key.as_str()) {
                continue;
            }
            if key.is_empty() || key.len() > 64 || value.chars().count() > 10_000 {
                return Err(EmailError::Invalid(format!(
                    "form field `{key}` must have a name of 1 to 64 characters and at most 10000 characters"
                )));
            }
            extra.push(json!({ "key": format!("form.{key}"), "value": { "text": value } }));
        }
        let email = Email {
            message_id: None,
            in_reply_to: Vec::new(),
            references: Vec::new(),
            from: Some(parse::Mailbox {
                name: field("name").map(str::to_string),
                address,
            }),
            reply_to: Vec::new(),
            to: Vec::new(),
            cc: Vec::new(),
            subject: field("subject").map(str::to_string),
            date: None,
            text: Some(text.to_string()),
            html: None,
            attachments: Vec::new(),
            automatic: false,
            machine: None,
            report_type: None,
        };
        Ok(self
            .store_email(source, email, Vec::new(), extra, None)
            .await?)
    }

    async fn store_email(
        &self,
        source: &Source,
        mut email: Email,
        mut mime: Vec<(MimeKind, Vec<u8>)>,
        mut extra: Vec<serde_json::Value>,
        item: Option<MailboxItem>,
    ) -> Result<String, StoreError> {
        if masked(&self.masking, &mut email, &mut extra) {
            // The raw copies would keep what the rules took out.
            mime.clear();
            tracing::info!(source = %source.name, "privacy rules changed a message; its raw MIME is not kept");
        }
        let store = self.engine.store();
        if let Some((target, bounced)) = self.bounced(&email).await? {
            let message = NewEmail {
                status: Status::Bounce,
                error: bounce::of(&email).map(|b| b.reason),
                mime,
                ..message_of(source, &email)
            };
            let stored = store
                .receive_email(Target::Existing(target), message, item, Some(bounced), None)
                .await?;
            return Ok(stored.interaction.id);
        }
        let thread_ids: Vec<String> = email.thread_ids().into_iter().map(String::from).collect();
        let parent = match store.email_thread(&thread_ids).await? {
            Some((_, interaction)) => Some(store.get(&interaction).await?),
            None => None,
        };
        if let Some(why) = email.machine.clone() {
            return self
                .store_machine(source, email, mime, item, why, parent)
                .await;
        }
        let contact_id = match (&parent, &email.from) {
            (Some(parent), _) if parent.contact_id.is_some() => parent.contact_id.clone(),
            (_, Some(from)) => Some(
                store
                    .identify(Identity {
                        emails: vec![from.address.clone()],
                        phones: Vec::new(),
                        name: from.name.clone(),
                    })
                    .await?
                    .id,
            ),
            _ => None,
        };
        let queue = source
            .queue
            .clone()
            .unwrap_or_else(|| self.settings.queue.clone());
        let new = NewInteraction {
            id: None,
            tenant: self.settings.tenant.clone(),
            media_type: Media::Email.into(),
            queue: Some(queue),
            priority: 0,
            attached: attached(source, &email, extra),
            contact_id,
            parent_id: parent.map(|p| p.id),
        };
        let message = NewEmail {
            mime,
            ..message_of(source, &email)
        };
        let to = email.from.as_ref().map_or("", |from| from.address.as_str());
        let acknowledgement = if !email.automatic && source.acknowledgements.allow(to) {
            self.outbox.acknowledgement(&message).await
        } else {
            None
        };
        let acknowledged = acknowledgement.is_some();
        let stored = self
            .engine
            .admit(new, |store, new| async move {
                store
                    .receive_email(Target::New(new), message, item, None, acknowledgement)
                    .await
            })
            .await
            .map_err(|err| match err {
                EngineError::Store(err) => err,
                other => StoreError::Invalid(other.to_string()),
            })?;
        if acknowledged {
            self.outbox.wake();
        }
        Ok(stored.interaction.id)
    }

    /// Keeps mail a machine wrote in answer to something (a report, an
    /// auto-reply) out of agents' queues: with the interaction of the
    /// thread it answers, if it answers one of ours; else as an
    /// interaction of its own, not routed, for supervisors to look at
    /// (`automatic` in its attached data). Never acknowledged.
    async fn store_machine(
        &self,
        source: &Source,
        email: Email,
        mime: Vec<(MimeKind, Vec<u8>)>,
        item: Option<MailboxItem>,
        why: String,
        parent: Option<Interaction>,
    ) -> Result<String, StoreError> {
        tracing::info!(source = %source.name, "kept machine mail out of the queues: {why}");
        let target = match parent {
            Some(parent) => Target::Existing(parent.id),
            None => Target::New(self.unrouted(source, "automatic", &why)),
        };
        let message = NewEmail {
            status: Status::Automatic,
            error: Some(why),
            mime,
            ..message_of(source, &email)
        };
        let stored = self
            .engine
            .store()
            .receive_email(target, message, item, None, None)
            .await?;
        Ok(stored.interaction.id)
    }

    /// The interaction and outbound message a bounce is about, if `email`
    /// is one and the message is ours.
    async fn bounced(&self, email: &Email) -> Result<Option<(String, String)>, StoreError> {
        let Some(original) = bounce::of(email).and_then(|b| b.original_message_id) else {
            return Ok(None);
        };
        let store = self.engine.store();
        let Some((message, interaction)) = store.email_thread(&[original]).await? else {
            return Ok(None);
        };
        let ours = store.email(&message).await?.direction == Direction::Outbound;
        Ok(ours.then_some((interaction, message)))
    }
}

/// An inbound message from `source` with nothing in it yet.
fn inbound(source: &Source) -> NewEmail {
    NewEmail {
        source: Some(source.name.clone()),
        ..NewEmail::new(Direction::Inbound, Status::Received)
    }
}

/// The stored form of a parsed inbound message.
fn message_of(source: &Source, email: &Email) -> NewEmail {
    let addresses = |list: &[parse::Mailbox]| list.iter().map(|m| m.address.clone()).collect();
    NewEmail {
        message_id: email.message_id.clone(),
        in_reply_to: email.in_reply_to.first().cloned(),
        references: email.references.clone(),
        from: email.from.as_ref().map(|f| f.address.clone()),
        from_name: email.from.as_ref().and_then(|f| f.name.clone()),
        reply_to: email.reply_to.first().map(|r| r.address.clone()),
        to: addresses(&email.to),
        cc: addresses(&email.cc),
        subject: email.subject.clone(),
        text: email.text.clone().unwrap_or_default(),
        html: email.html.clone(),
        attachments: email
            .attachments
            .iter()
            .enumerate()
            .map(|(i, a)| NewAttachment {
                name: a
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("attachment-{}", i + 1)),
                content_type: a.content_type.clone(),
                content_id: a.content_id.clone(),
                inline: a.inline,
                data: a.data.clone(),
            })
            .collect(),
        ..inbound(source)
    }
}

/// The attached data of a new e-mail interaction: what routing
/// strategies and the desktop show first.
fn attached(source: &Source, email: &Email, extra: Vec<serde_json::Value>) -> serde_json::Value {
    let mut list = vec![json!({ "key": "mailbox", "value": { "text": source.name } })];
    if let Some(subject) = &email.subject {
        let subject: String = subject.chars().take(1000).collect();
        list.push(json!({ "key": "subject", "value": { "text": subject } }));
    }
    if let Some(from) = &email.from {
        list.push(json!({ "key": "from", "value": { "text": from.address } }));
        if let Some(name) = &from.name {
            list.push(json!({ "key": "from-name", "value": { "text": name } }));
        }
    }
    list.extend(extra);
    serde_json::Value::Array(list)
}

/// Applies the masking rules to what the customer wrote: subject, bodies,
/// attachment names and form fields. A `drop` rule withholds the whole
/// text and the attachments. Answers whether a rule changed something.
fn masked(masking: &Masking, email: &mut Email, extra: &mut [serde_json::Value]) -> bool {
    let mut changed = false;
    let mut withheld = None;
    let mut apply = |text: &mut String| match masking.apply(text) {
        Ok(masked) => {
            changed |= masked != *text;
            *text = masked;
        }
        Err(refused) => withheld = Some(refused.rule),
    };
    email
        .subject
        .iter_mut()
        .chain(email.text.iter_mut())
        .chain(email.html.iter_mut())
        .chain(email.attachments.iter_mut().filter_map(|a| a.name.as_mut()))
        .for_each(&mut apply);
    for field in form_texts(extra) {
        if let serde_json::Value::String(text) = field {
            apply(text);
        }
    }
    let Some(rule) = withheld else {
        return changed;
    };
    email.subject = None;
    email.text = Some(format!("(Withheld by the privacy rule `{rule}`.)"));
    email.html = None;
    email.attachments.clear();
    for field in form_texts(extra) {
        *field = serde_json::Value::String(String::new());
    }
    true
}

/// The texts of a form's extra fields (attached data `form.<field>`).
fn form_texts(extra: &mut [serde_json::Value]) -> impl Iterator<Item = &mut serde_json::Value> {
    extra
        .iter_mut()
        .filter_map(|f| f.pointer_mut("/value/text"))
}
