//! E-mail messages in and out, their attachments and raw MIME, and the
//! intake progress of each mailbox.
//!
//! A message taken in from a mailbox is stored with its interaction (new,
//! or an existing one for a bounce) and the mailbox item it came from in
//! one transaction, so intake is exactly-once: an item recorded here is
//! never taken in again, and one not recorded was not stored. Outbound
//! messages (replies, acknowledgements) move through their statuses by
//! compare-and-set: review → queued → sent | failed | bounced.

use super::events::EventKind;
use parley_core::Media;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use std::collections::HashSet;

use super::error::StoreError;
use super::history;
use super::interactions::{self, Interaction, NewInteraction, json_column};
use super::lifecycle;
use super::search::Document;
use super::sql::{name_of, parse_name};
use super::writer::{Outcome, Tx, Written};

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// From a customer (mailbox or web form).
    Inbound,
    /// To a customer (reply, acknowledgement).
    Outbound,
}

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
#[schema(as = EmailStatus)]
pub enum Status {
    /// Inbound, parsed and stored.
    Received,
    /// Inbound, but not readable as e-mail: kept for inspection.
    Malformed,
    /// Inbound delivery report saying an outbound message bounced.
    Bounce,
    /// Inbound from a machine answering something (an auto-reply, a
    /// report about no message of ours): kept, not queued to agents.
    Automatic,
    /// Outbound, waiting for a supervisor's approval.
    Review,
    /// Outbound, sent back to its author by the reviewer.
    Rejected,
    /// Outbound, waiting to be sent (or retried).
    Queued,
    /// Outbound, being handed to the SMTP server: the attempt is recorded
    /// before the message goes, so it is never sent twice.
    Sending,
    /// Outbound, accepted by the SMTP server.
    Sent,
    /// Outbound, given up after the last retry.
    Failed,
    /// Outbound, refused for good by the SMTP server or bounced later.
    Bounced,
}

/// What a stored copy of raw MIME is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MimeKind {
    /// As received (after the inbound transform, if any).
    Received,
    /// As it arrived, before the inbound transform changed it.
    Original,
    /// As handed to the SMTP server.
    Sent,
}

/// An attachment as messages list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct AttachmentInfo {
    /// Attachment id.
    pub id: String,
    /// File name.
    pub name: String,
    /// Media type.
    pub content_type: String,
    /// `Content-ID`, for inline images the HTML body refers to.
    pub content_id: Option<String>,
    /// Shown inline rather than as a file.
    pub inline: bool,
    /// Size in bytes, decoded.
    pub size: i64,
}

/// A stored e-mail message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct EmailMessage {
    /// Message id in the store.
    pub id: String,
    /// The interaction it belongs to.
    pub interaction_id: String,
    /// In or out.
    pub direction: Direction,
    /// Where it is in its life.
    pub status: Status,
    /// Inbound: the mailbox or web form it came from.
    pub source: Option<String>,
    /// The `Message-ID` header, without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    /// `References`, oldest first.
    pub references: Vec<String>,
    /// Sender address.
    pub from: Option<String>,
    /// Sender display name.
    pub from_name: Option<String>,
    /// `Reply-To` address.
    pub reply_to: Option<String>,
    /// Recipients.
    pub to: Vec<String>,
    /// Copy recipients.
    pub cc: Vec<String>,
    pub subject: Option<String>,
    /// Plain-text body.
    pub text: String,
    /// HTML body, when the message has one.
    pub html: Option<String>,
    /// Why it is malformed, failed or bounced; the reviewer's comment.
    pub error: Option<String>,
    /// Outbound: the agent who wrote it (`system` for automatic ones).
    pub author: Option<String>,
    /// Outbound: the supervisor who approved or rejected it.
    pub reviewer: Option<String>,
    /// Send attempts so far.
    pub attempts: i64,
    /// When the next send attempt is due, ms since the Unix epoch.
    pub next_attempt_at: Option<i64>,
    /// When it was stored.
    pub at: i64,
    /// When it last changed.
    pub updated_at: i64,
    pub attachments: Vec<AttachmentInfo>,
}

/// An attachment to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    /// File name.
    pub name: String,
    /// Media type.
    pub content_type: String,
    pub content_id: Option<String>,
    /// Shown inline.
    pub inline: bool,
    /// Decoded bytes.
    pub data: Vec<u8>,
}

/// A message to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEmail {
    /// In or out.
    pub direction: Direction,
    /// Its first status.
    pub status: Status,
    /// Mailbox or web form.
    pub source: Option<String>,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// Sender address.
    pub from: Option<String>,
    /// Sender name.
    pub from_name: Option<String>,
    pub reply_to: Option<String>,
    /// Recipients.
    pub to: Vec<String>,
    /// Copy recipients.
    pub cc: Vec<String>,
    pub subject: Option<String>,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: Option<String>,
    /// Why it is malformed (inbound).
    pub error: Option<String>,
    /// Author (outbound).
    pub author: Option<String>,
    pub attachments: Vec<NewAttachment>,
    /// Raw MIME copies to keep.
    pub mime: Vec<(MimeKind, Vec<u8>)>,
}

impl NewEmail {
    /// A message going `direction` in `status`, with nothing in it yet.
    pub fn new(direction: Direction, status: Status) -> NewEmail {
        NewEmail {
            direction,
            status,
            source: None,
            message_id: None,
            in_reply_to: None,
            references: Vec::new(),
            from: None,
            from_name: None,
            reply_to: None,
            to: Vec::new(),
            cc: Vec::new(),
            subject: None,
            text: String::new(),
            html: None,
            error: None,
            author: None,
            attachments: Vec::new(),
            mime: Vec::new(),
        }
    }
}

/// A mailbox item taken in: IMAP `uidvalidity:uid` or a POP3 UIDL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxItem {
    /// Mailbox name (from the settings).
    pub mailbox: String,
    /// The item's durable name in that mailbox.
    pub item: String,
}

/// Where an inbound message goes.
#[derive(Debug, Clone)]
pub enum Target {
    /// A new interaction.
    New(NewInteraction),
    /// An existing interaction (a bounce of one of its messages).
    Existing(String),
}

/// A change of an outbound message's status, made only if it is in one of
/// the expected statuses.
#[derive(Debug, Clone, Default)]
pub struct StatusChange {
    /// The message.
    pub id: String,
    /// Statuses it must be in.
    pub expect: Vec<Status>,
    /// Its new status.
    pub status: Option<Status>,
    /// New error text (`Some(None)` clears it).
    pub error: Option<Option<String>>,
    /// Who reviewed it.
    pub reviewer: Option<String>,
    /// Counts one more send attempt.
    pub attempted: bool,
    /// When to try again (`Some(None)`: never).
    pub next_attempt_at: Option<Option<i64>>,
    /// A new subject and text (an edit before sending).
    pub edit: Option<(Option<String>, String)>,
    /// Raw MIME copies to keep.
    pub mime: Vec<(MimeKind, Vec<u8>)>,
}

/// A write to the e-mail tables.
pub(super) enum EmailWrite {
    /// Stores an inbound message (and the mailbox item it came from);
    /// `bounces` names the outbound message a delivery report is about.
    Receive {
        target: Target,
        email: Box<NewEmail>,
        item: Option<MailboxItem>,
        bounces: Option<String>,
        /// Its acknowledgement, queued in the same transaction.
        acknowledgement: Option<Box<NewEmail>>,
    },
    /// Records a mailbox item that becomes nothing (e.g. our own copy).
    Skip(MailboxItem),
    /// Stores an outbound message of an interaction.
    Compose {
        interaction_id: String,
        email: Box<NewEmail>,
    },
    /// Changes an outbound message's status.
    Change(StatusChange),
}

/// What storing an inbound or outbound message produced.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The message's id.
    pub id: String,
    /// The interaction it belongs to, as stored.
    pub interaction: Interaction,
}

pub(super) async fn apply(tx: &mut Tx<'_>, write: &EmailWrite) -> Result<Outcome, StoreError> {
    match write {
        EmailWrite::Receive {
            target,
            email,
            item,
            bounces,
            acknowledgement,
        } => {
            let received = receive(tx, target, email, item.as_ref(), bounces.as_deref()).await?;
            if let (Ok(Written::Email(stored)), Some(ack)) = (&received, acknowledgement) {
                compose(tx, &stored.interaction.id, ack).await?;
            }
            Ok(received)
        }
        EmailWrite::Skip(item) => {
            if !record_item(tx, item, None).await? {
                return Ok(Err(duplicate_item(item)));
            }
            Ok(Ok(Written::Done))
        }
        EmailWrite::Compose {
            interaction_id,
            email,
        } => {
            let Some(interaction) = interactions::get(&mut *tx.conn, interaction_id).await? else {
                return Ok(Err(StoreError::no_interaction(interaction_id)));
            };
            let id = compose(tx, interaction_id, email).await?;
            Ok(Ok(Written::Email(Box::new(Stored { id, interaction }))))
        }
        EmailWrite::Change(change) => change_status(tx, change).await,
    }
}

/// Stores an outbound message of interaction `interaction_id`; its id.
async fn compose(
    tx: &mut Tx<'_>,
    interaction_id: &str,
    email: &NewEmail,
) -> Result<String, StoreError> {
    let id = insert_email(tx, interaction_id, email).await?;
    tx.event(
        Some(interaction_id),
        email.author.as_deref().filter(|a| *a != "system"),
        EventKind::EmailComposed,
        serde_json::json!({ "message": id, "status": email.status }),
    );
    Ok(id)
}

fn duplicate_item(item: &MailboxItem) -> StoreError {
    StoreError::Duplicate {
        what: "mailbox item",
        id: format!("{}/{}", item.mailbox, item.item),
    }
}

async fn receive(
    tx: &mut Tx<'_>,
    target: &Target,
    email: &NewEmail,
    item: Option<&MailboxItem>,
    bounces: Option<&str>,
) -> Result<Outcome, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    if let Some(item) = item
        && !record_item(tx, item, Some(&id)).await?
    {
        return Ok(Err(duplicate_item(item)));
    }
    let interaction = match target {
        Target::New(new) => match lifecycle::submit(tx, new).await? {
            Ok(Written::Interaction(stored)) => stored,
            refused => return Ok(refused),
        },
        Target::Existing(existing) => match interactions::get(&mut *tx.conn, existing).await? {
            Some(found) => found,
            None => return Ok(Err(StoreError::no_interaction(existing))),
        },
    };
    insert_row(tx, &id, &interaction.id, email).await?;
    tx.event(
        Some(&interaction.id),
        None,
        EventKind::EmailReceived,
        serde_json::json!({ "message": id, "status": email.status, "source": email.source }),
    );
    if let Some(original) = bounces {
        let reason = email.error.clone();
        sqlx::query(
            "UPDATE email_messages SET status = $1, error = $2, next_attempt_at = NULL, updated_at = $3 WHERE id = $4 AND direction = 'outbound'",
        )
        .bind(name_of(&Status::Bounced))
        .bind(&reason)
        .bind(tx.now)
        .bind(original)
        .execute(&mut *tx.conn)
        .await?;
        let author: Option<String> =
            sqlx::query_scalar("SELECT author FROM email_messages WHERE id = $1")
                .bind(original)
                .fetch_optional(&mut *tx.conn)
                .await?
                .flatten();
        status_event(
            tx,
            &interaction.id,
            author.as_deref(),
            original,
            Status::Bounced,
            reason,
        );
    }
    Ok(Ok(Written::Email(Box::new(Stored { id, interaction }))))
}

/// Records a mailbox item; `false` if it was recorded already.
async fn record_item(
    tx: &mut Tx<'_>,
    item: &MailboxItem,
    message: Option<&str>,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO mailbox_items (mailbox, item, message_id, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(&item.mailbox)
    .bind(&item.item)
    .bind(message)
    .bind(tx.now)
    .execute(&mut *tx.conn)
    .await?
    .rows_affected();
    Ok(inserted > 0)
}

async fn insert_email(
    tx: &mut Tx<'_>,
    interaction_id: &str,
    email: &NewEmail,
) -> Result<String, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    insert_row(tx, &id, interaction_id, email).await?;
    Ok(id)
}

async fn insert_row(
    tx: &mut Tx<'_>,
    id: &str,
    interaction_id: &str,
    email: &NewEmail,
) -> Result<(), StoreError> {
    let next_attempt = (email.status == Status::Queued).then_some(tx.now);
    sqlx::query(concat!(
        "INSERT INTO email_messages (id, interaction_id, direction, status, source, message_id, in_reply_to, refs, ",
        "from_addr, from_name, reply_to, to_addrs, cc_addrs, subject, text, html, error, author, reviewer, attempts, ",
        "next_attempt_at, at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, ",
        "$16, $17, $18, NULL, 0, $19, $20, $20)"
    ))
    .bind(id)
    .bind(interaction_id)
    .bind(name_of(&email.direction))
    .bind(name_of(&email.status))
    .bind(&email.source)
    .bind(&email.message_id)
    .bind(&email.in_reply_to)
    .bind(serde_json::to_string(&email.references).unwrap_or_default())
    .bind(&email.from)
    .bind(&email.from_name)
    .bind(&email.reply_to)
    .bind(serde_json::to_string(&email.to).unwrap_or_default())
    .bind(serde_json::to_string(&email.cc).unwrap_or_default())
    .bind(&email.subject)
    .bind(&email.text)
    .bind(&email.html)
    .bind(&email.error)
    .bind(&email.author)
    .bind(next_attempt)
    .bind(tx.now)
    .execute(&mut *tx.conn)
    .await?;
    for (position, attachment) in email.attachments.iter().enumerate() {
        sqlx::query(concat!(
            "INSERT INTO email_attachments (id, message_id, interaction_id, position, name, content_type, ",
            "content_id, inline, size, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(id)
        .bind(interaction_id)
        .bind(position as i64)
        .bind(&attachment.name)
        .bind(&attachment.content_type)
        .bind(&attachment.content_id)
        .bind(i64::from(attachment.inline))
        .bind(attachment.data.len() as i64)
        .bind(attachment.data.clone())
        .execute(&mut *tx.conn)
        .await?;
    }
    for (kind, raw) in &email.mime {
        insert_mime(tx, id, interaction_id, *kind, raw).await?;
    }
    let subject = email.subject.as_deref().unwrap_or_default();
    tx.index(Document {
        interaction_id: interaction_id.to_string(),
        channel: Media::Email,
        at: tx.now,
        text: format!("{subject}\n{}", email.text),
    });
    Ok(())
}

async fn insert_mime(
    tx: &mut Tx<'_>,
    id: &str,
    interaction_id: &str,
    kind: MimeKind,
    raw: &[u8],
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO email_mime (message_id, interaction_id, kind, raw) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(interaction_id)
    .bind(name_of(&kind))
    .bind(raw.to_vec())
    .execute(&mut *tx.conn)
    .await?;
    Ok(())
}

async fn change_status(tx: &mut Tx<'_>, change: &StatusChange) -> Result<Outcome, StoreError> {
    let row =
        sqlx::query("SELECT interaction_id, status, author FROM email_messages WHERE id = $1")
            .bind(&change.id)
            .fetch_optional(&mut *tx.conn)
            .await?;
    let Some(row) = row else {
        return Ok(Err(no_message(&change.id)));
    };
    let interaction_id: String = row.try_get("interaction_id")?;
    let status: Status = parse_name(&row, "status")?;
    let author: Option<String> = row.try_get("author")?;
    if !change.expect.contains(&status) {
        return Ok(Err(StoreError::Conflict(format!(
            "e-mail message `{}` is {}",
            change.id,
            name_of(&status)
        ))));
    }
    let new_status = change.status.unwrap_or(status);
    sqlx::query(concat!(
        "UPDATE email_messages SET status = $1, error = CASE WHEN $2 = 1 THEN $3 ELSE error END, ",
        "reviewer = COALESCE($4, reviewer), attempts = attempts + $5, ",
        "next_attempt_at = CASE WHEN $6 = 1 THEN $7 ELSE next_attempt_at END, ",
        "subject = CASE WHEN $8 = 1 THEN $9 ELSE subject END, text = CASE WHEN $8 = 1 THEN $10 ELSE text END, ",
        "updated_at = $11 WHERE id = $12"
    ))
    .bind(name_of(&new_status))
    .bind(i64::from(change.error.is_some()))
    .bind(change.error.clone().flatten())
    .bind(&change.reviewer)
    .bind(i64::from(change.attempted))
    .bind(i64::from(change.next_attempt_at.is_some()))
    .bind(change.next_attempt_at.flatten())
    .bind(i64::from(change.edit.is_some()))
    .bind(change.edit.as_ref().and_then(|(subject, _)| subject.clone()))
    .bind(change.edit.as_ref().map(|(_, text)| text.clone()))
    .bind(tx.now)
    .bind(&change.id)
    .execute(&mut *tx.conn)
    .await?;
    for (kind, raw) in &change.mime {
        insert_mime(tx, &change.id, &interaction_id, *kind, raw).await?;
    }
    if new_status != status {
        status_event(
            tx,
            &interaction_id,
            author.as_deref(),
            &change.id,
            new_status,
            change.error.clone().flatten(),
        );
    }
    Ok(Ok(Written::Done))
}

/// The `email-status` event of message `id`, addressed to its author (so
/// the agent's desktop follows its reply; automatic messages have none).
fn status_event(
    tx: &mut Tx<'_>,
    interaction: &str,
    author: Option<&str>,
    id: &str,
    status: Status,
    error: Option<String>,
) {
    tx.event(
        Some(interaction),
        author.filter(|a| *a != "system"),
        EventKind::EmailStatus,
        serde_json::json!({ "message": id, "status": status, "error": error }),
    );
}

/// No e-mail message `id`.
pub(super) fn no_message(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "e-mail message",
        id: id.to_string(),
    }
}

macro_rules! message_columns {
    () => {
        concat!(
            "SELECT id, interaction_id, direction, status, source, message_id, in_reply_to, refs, from_addr, ",
            "from_name, reply_to, to_addrs, cc_addrs, subject, text, html, error, author, reviewer, attempts, ",
            "next_attempt_at, at, updated_at FROM email_messages"
        )
    };
}

fn message_from_row(row: &AnyRow) -> Result<EmailMessage, StoreError> {
    Ok(EmailMessage {
        id: row.try_get("id")?,
        interaction_id: row.try_get("interaction_id")?,
        direction: parse_name(row, "direction")?,
        status: parse_name(row, "status")?,
        source: row.try_get("source")?,
        message_id: row.try_get("message_id")?,
        in_reply_to: row.try_get("in_reply_to")?,
        references: json_column(row, "refs")?,
        from: row.try_get("from_addr")?,
        from_name: row.try_get("from_name")?,
        reply_to: row.try_get("reply_to")?,
        to: json_column(row, "to_addrs")?,
        cc: json_column(row, "cc_addrs")?,
        subject: row.try_get("subject")?,
        text: row.try_get("text")?,
        html: row.try_get("html")?,
        error: row.try_get("error")?,
        author: row.try_get("author")?,
        reviewer: row.try_get("reviewer")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        at: row.try_get("at")?,
        updated_at: row.try_get("updated_at")?,
        attachments: Vec::new(),
    })
}

fn attachment_from_row(row: &AnyRow) -> Result<AttachmentInfo, StoreError> {
    Ok(AttachmentInfo {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        content_type: row.try_get("content_type")?,
        content_id: row.try_get("content_id")?,
        inline: row.try_get::<i64, _>("inline")? != 0,
        size: row.try_get("size")?,
    })
}

/// Fills in the attachments of `messages`.
async fn with_attachments(
    pool: &AnyPool,
    mut messages: Vec<EmailMessage>,
) -> Result<Vec<EmailMessage>, StoreError> {
    for message in &mut messages {
        let rows = sqlx::query(
            "SELECT id, name, content_type, content_id, inline, size FROM email_attachments WHERE message_id = $1 ORDER BY position",
        )
        .bind(&message.id)
        .fetch_all(pool)
        .await?;
        message.attachments = rows
            .iter()
            .map(attachment_from_row)
            .collect::<Result<_, _>>()?;
    }
    Ok(messages)
}

/// The messages of an interaction, oldest first.
pub(super) async fn of_interaction(
    pool: &AnyPool,
    interaction: &str,
) -> Result<Vec<EmailMessage>, StoreError> {
    let rows = sqlx::query(concat!(
        message_columns!(),
        " WHERE interaction_id = $1 ORDER BY at, id"
    ))
    .bind(interaction)
    .fetch_all(pool)
    .await?;
    let messages = rows
        .iter()
        .map(message_from_row)
        .collect::<Result<_, _>>()?;
    with_attachments(pool, messages).await
}

/// The message `id`.
pub(super) async fn get(pool: &AnyPool, id: &str) -> Result<Option<EmailMessage>, StoreError> {
    let row = sqlx::query(concat!(message_columns!(), " WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    match row {
        None => Ok(None),
        Some(row) => Ok(with_attachments(pool, vec![message_from_row(&row)?])
            .await?
            .pop()),
    }
}

/// Messages in `status`, oldest first; for queued ones only those due by
/// `due_by`.
pub(super) async fn in_status(
    pool: &AnyPool,
    status: Status,
    due_by: Option<i64>,
    limit: i64,
) -> Result<Vec<EmailMessage>, StoreError> {
    let rows = sqlx::query(concat!(
        message_columns!(),
        " WHERE status = $1 AND ($2 = 0 OR next_attempt_at <= $3) ORDER BY at, id LIMIT $4"
    ))
    .bind(name_of(&status))
    .bind(i64::from(due_by.is_some()))
    .bind(due_by.unwrap_or(0))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let messages = rows
        .iter()
        .map(message_from_row)
        .collect::<Result<_, _>>()?;
    with_attachments(pool, messages).await
}

/// The interaction holding the first of `message_ids` (RFC 5322 ids) that
/// is stored, in the order given.
pub(super) async fn thread(
    pool: &AnyPool,
    message_ids: &[String],
) -> Result<Option<(String, String)>, StoreError> {
    for message_id in message_ids {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT id, interaction_id FROM email_messages WHERE message_id = $1 ORDER BY at LIMIT 1",
        )
        .bind(message_id)
        .fetch_optional(pool)
        .await?;
        if row.is_some() {
            return Ok(row);
        }
    }
    Ok(None)
}

/// Which of `items` of `mailbox` were taken in already.
pub(super) async fn known_items(
    pool: &AnyPool,
    mailbox: &str,
    items: &[String],
) -> Result<HashSet<String>, StoreError> {
    let mut known = HashSet::new();
    for item in items {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT item FROM mailbox_items WHERE mailbox = $1 AND item = $2")
                .bind(mailbox)
                .bind(item)
                .fetch_optional(pool)
                .await?;
        known.extend(row.map(|(item,)| item));
    }
    Ok(known)
}

/// An attachment's description and bytes.
pub(super) async fn attachment(
    pool: &AnyPool,
    id: &str,
) -> Result<Option<(String, AttachmentInfo, Vec<u8>)>, StoreError> {
    let row = sqlx::query(
        "SELECT id, interaction_id, name, content_type, content_id, inline, size, data FROM email_attachments WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some((
        row.try_get("interaction_id")?,
        attachment_from_row(&row)?,
        row.try_get("data")?,
    )))
}

/// The attachments' bytes of message `id`, in order.
pub(super) async fn attachment_data(
    pool: &AnyPool,
    id: &str,
) -> Result<Vec<NewAttachment>, StoreError> {
    let rows = sqlx::query(
        "SELECT name, content_type, content_id, inline, data FROM email_attachments WHERE message_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(NewAttachment {
                name: row.try_get("name")?,
                content_type: row.try_get("content_type")?,
                content_id: row.try_get("content_id")?,
                inline: row.try_get::<i64, _>("inline")? != 0,
                data: row.try_get("data")?,
            })
        })
        .collect()
}

/// A stored raw MIME copy of message `id`.
pub(super) async fn mime(
    pool: &AnyPool,
    id: &str,
    kind: MimeKind,
) -> Result<Option<Vec<u8>>, StoreError> {
    let row: Option<(Vec<u8>,)> =
        sqlx::query_as("SELECT raw FROM email_mime WHERE message_id = $1 AND kind = $2")
            .bind(id)
            .bind(name_of(&kind))
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(raw,)| raw))
}

/// What an e-mail interaction shows in its contact's history: the
/// subject, the sender's name, the text and the attachments of the message
/// that opened it (its first message from the customer that is not a
/// delivery report); nothing for an interaction without one.
pub(super) async fn history_content(
    pool: &AnyPool,
    interaction: &str,
) -> Result<history::Content, StoreError> {
    let opening = of_interaction(pool, interaction)
        .await?
        .into_iter()
        .find(|m| m.direction == Direction::Inbound && m.status != Status::Bounce);
    let Some(opening) = opening else {
        return Ok(history::Content::default());
    };
    let attachments = opening
        .attachments
        .into_iter()
        .map(|a| history::Attachment {
            url: format!("/v1/email/attachments/{}", a.id),
            id: a.id,
            name: a.name,
            content_type: a.content_type,
            size: a.size,
        })
        .collect();
    Ok(history::Content {
        subject: opening.subject,
        customer_name: opening.from_name,
        body: Some(opening.text),
        transcript: None,
        attachments,
    })
}
