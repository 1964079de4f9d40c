//! Chat sessions, their transcripts and the files sent in them. A session
//! is created with its interaction in one transaction; messages are
//! numbered by the writer (global `seq`, commit order) and published to
//! live subscribers after the commit, like events.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use super::access::{self, Reader};
use super::contacts;
use super::error::StoreError;
use super::history;
use super::interactions::{self, NewInteraction, json_column};
use super::search::Document;
use super::sql::{name_of, parse_name};
use super::writer::{Outcome, Tx, Written};
use super::{Backend, lifecycle, sql};
use parley_core::Media;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
#[schema(as = ChatRole)]
pub enum Role {
    Customer,
    /// An agent in the chat.
    Agent,
    /// A supervisor coaching or barging in.
    Supervisor,
    /// The server (notices, messages from routing strategies).
    System,
}

/// Who a message is shown to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Visibility {
    /// Everyone in the chat, the customer too.
    All,
    /// Agents and supervisors only (coaching).
    Agents,
}

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
#[schema(as = MessageKind)]
pub enum Kind {
    Text,
    /// A pushed URL.
    Url,
    File,
    /// A notice from the server.
    System,
}

/// A participant as shown in the transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Party {
    /// Their role in the chat.
    pub role: Role,
    /// Account id, for agents and supervisors.
    pub id: Option<String>,
    /// Display name.
    pub name: String,
}

/// A file sent in a chat, as messages refer to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FileInfo {
    /// File id.
    pub id: String,
    /// File name as sent.
    pub name: String,
    /// Media type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
}

/// What a message carries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Content {
    /// Text (text and system messages; an optional caption otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The URL pushed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The file sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileInfo>,
    /// What a system message reports: `joined`, `left`, `transferred`,
    /// `coaching`, `notice` (from a routing strategy) or `ended`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Message {
    /// Position in the transcript log (increasing, not contiguous within
    /// one session); the cursor to resume after this message.
    pub seq: i64,
    /// The session (interaction id).
    pub session: String,
    /// When, ms since the Unix epoch.
    pub at: i64,
    /// What it is.
    pub kind: Kind,
    /// Who wrote it.
    pub from: Party,
    /// Who sees it.
    pub visibility: Visibility,
    /// The agents a coaching message was for: those in the chat when it
    /// was written (none for messages everyone sees).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    /// What it says.
    #[serde(flatten)]
    pub content: Content,
}

/// A message to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub session: String,
    /// What it is.
    pub kind: Kind,
    /// Who writes it.
    pub from: Party,
    /// Who sees it.
    pub visibility: Visibility,
    /// What it says.
    pub content: Content,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
#[schema(as = ChatSession)]
pub struct Session {
    /// The interaction id.
    pub id: String,
    /// SHA-256 of the customer's key.
    #[serde(skip)]
    pub key_hash: String,
    /// The customer's name.
    pub nickname: String,
    /// The customer's e-mail address.
    pub email: Option<String>,
    /// What the customer asked about.
    pub subject: Option<String>,
    /// Started at, ms since the Unix epoch.
    pub created_at: i64,
    /// Ended at, once ended.
    pub ended_at: Option<i64>,
    /// Why it ended.
    pub end_reason: Option<String>,
}

/// A new session, stored with its interaction.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 of the customer's key.
    pub key_hash: String,
    /// The customer's name.
    pub nickname: String,
    /// The customer's e-mail address.
    pub email: Option<String>,
    /// What the customer asked about.
    pub subject: Option<String>,
}

/// A file to store with the message announcing it.
#[derive(Debug, Clone)]
pub struct NewFile {
    /// What the message shows of it (its id is generated here).
    pub name: String,
    /// Media type.
    pub content_type: String,
    /// The bytes.
    pub data: Vec<u8>,
    /// What the session's files may add up to, with this one.
    pub quota: Option<FileQuota>,
}

/// Files a session may hold at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileQuota {
    pub files: i64,
    pub bytes: i64,
}

/// An open session with its activity, for supervisors.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Activity {
    /// The session.
    pub id: String,
    /// Messages in its transcript.
    pub messages: i64,
    /// When the newest was written.
    pub last_at: Option<i64>,
}

pub(super) enum ChatWrite {
    /// Creates the interaction and its session.
    Start {
        interaction: NewInteraction,
        session: NewSession,
    },
    /// Appends a message.
    Post(NewMessage),
    /// Stores a file and appends the message announcing it (whose
    /// content gets the file's details).
    File { file: NewFile, message: NewMessage },
    /// Ends a session, with a last notice; nothing if it has ended.
    End {
        session: String,
        reason: String,
        notice: Option<NewMessage>,
    },
}

pub(super) async fn apply(tx: &mut Tx<'_>, write: &ChatWrite) -> Result<Outcome, StoreError> {
    match write {
        ChatWrite::Start {
            interaction,
            session,
        } => start(tx, interaction, session).await,
        ChatWrite::Post(message) => {
            if let Err(refused) = check_open(tx, &message.session).await? {
                return Ok(Err(refused));
            }
            Ok(Ok(Written::Message(append(tx, message.clone()).await?)))
        }
        ChatWrite::File { file, message } => {
            if let Err(refused) = check_open(tx, &message.session).await? {
                return Ok(Err(refused));
            }
            if let Some(quota) = file.quota {
                let (files, bytes): (i64, i64) = sqlx::query_as(
                    "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM chat_files WHERE session_id = $1",
                )
                .bind(&message.session)
                .fetch_one(&mut *tx.conn)
                .await?;
                if files >= quota.files || bytes + file.data.len() as i64 > quota.bytes {
                    return Ok(Err(StoreError::QuotaExceeded(format!(
                        "this chat holds {files} file(s) of {bytes} bytes; a chat may hold {} file(s) of {} bytes in all",
                        quota.files, quota.bytes
                    ))));
                }
            }
            let info = insert_file(tx, &message.session, file).await?;
            let mut message = message.clone();
            message.content.file = Some(info);
            Ok(Ok(Written::Message(append(tx, message).await?)))
        }
        ChatWrite::End {
            session,
            reason,
            notice,
        } => {
            let ended = sqlx::query(
                "UPDATE chat_sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL",
            )
            .bind(tx.now)
            .bind(reason)
            .bind(session)
            .execute(&mut *tx.conn)
            .await?
            .rows_affected();
            tx.open_chats.remove(session);
            Ok(Ok(match notice {
                Some(notice) if ended > 0 => Written::Message(append(tx, notice.clone()).await?),
                _ => Written::Done,
            }))
        }
    }
}

/// Creates a chat's interaction and session. A customer who gave an
/// e-mail address gets a contact (named after the nickname): the one
/// created owning the address if none did, else a new one claiming it
/// unverified (typing an address proves nothing).
async fn start(
    tx: &mut Tx<'_>,
    interaction: &NewInteraction,
    session: &NewSession,
) -> Result<Outcome, StoreError> {
    let mut interaction = interaction.clone();
    if let Err(refused) = lifecycle::check_new_id(tx, &interaction).await? {
        return Ok(Err(refused));
    }
    if let Some(email) = &session.email {
        match contacts::write::claimed(tx, email, Some(&session.nickname)).await? {
            Ok(contact) => interaction.contact_id = Some(contact.id),
            Err(refused) => return Ok(Err(refused)),
        }
    }
    let outcome = lifecycle::submit(tx, &interaction).await?;
    let Ok(Written::Interaction(stored)) = &outcome else {
        return Ok(outcome);
    };
    sqlx::query(
        "INSERT INTO chat_sessions (id, key_hash, nickname, email, subject, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&stored.id)
    .bind(&session.key_hash)
    .bind(&session.nickname)
    .bind(&session.email)
    .bind(&session.subject)
    .bind(tx.now)
    .execute(&mut *tx.conn)
    .await?;
    tx.open_chats.insert(stored.id.clone());
    if let Some(subject) = &session.subject {
        tx.index(Document {
            interaction_id: stored.id.clone(),
            channel: Media::Chat,
            at: tx.now,
            text: subject.clone(),
        });
    }
    Ok(outcome)
}

/// Appends a message to the batch; one everyone sees is indexed for
/// search (its text, URL or file name; never coaching or notices), one for
/// agents only is addressed to the agents in the chat now.
async fn append(tx: &mut Tx<'_>, new: NewMessage) -> Result<Message, StoreError> {
    let audience = match new.visibility {
        Visibility::All => Vec::new(),
        Visibility::Agents => interactions::get(&mut *tx.conn, &new.session)
            .await?
            .map(|interaction| interaction.members().into_iter().collect())
            .unwrap_or_default(),
    };
    let message = tx.message(new, audience);
    let searchable = match message.kind {
        _ if message.visibility != Visibility::All => None,
        Kind::Text => message.content.text.clone(),
        Kind::Url => message.content.url.clone(),
        Kind::File => message.content.file.as_ref().map(|f| f.name.clone()),
        Kind::System => None,
    };
    if let Some(text) = searchable {
        tx.index(Document {
            interaction_id: message.session.clone(),
            channel: Media::Chat,
            at: message.at,
            text,
        });
    }
    Ok(message)
}

/// Refuses writes to an unknown or ended session; reads only the first
/// time a session is written to (the writer remembers it open until it
/// ends it).
async fn check_open(tx: &mut Tx<'_>, session: &str) -> Result<Result<(), StoreError>, StoreError> {
    if tx.open_chats.contains(session) {
        return Ok(Ok(()));
    }
    let row: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT ended_at FROM chat_sessions WHERE id = $1")
            .bind(session)
            .fetch_optional(&mut *tx.conn)
            .await?;
    Ok(match row {
        None => Err(StoreError::no_chat(session)),
        Some((Some(_),)) => Err(StoreError::Ended(session.to_string())),
        Some((None,)) => {
            tx.open_chats.insert(session.to_string());
            Ok(())
        }
    })
}

async fn insert_file(
    tx: &mut Tx<'_>,
    session: &str,
    file: &NewFile,
) -> Result<FileInfo, StoreError> {
    use sha2::Digest;
    let info = FileInfo {
        id: uuid::Uuid::now_v7().to_string(),
        name: file.name.clone(),
        content_type: file.content_type.clone(),
        size: file.data.len() as i64,
    };
    sqlx::query(
        "INSERT INTO chat_files (id, session_id, name, content_type, size, sha256, data, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&info.id)
    .bind(session)
    .bind(&info.name)
    .bind(&info.content_type)
    .bind(info.size)
    .bind(hex::encode(sha2::Sha256::digest(&file.data)))
    .bind(file.data.clone())
    .bind(tx.now)
    .execute(&mut *tx.conn)
    .await?;
    Ok(info)
}

/// Inserts numbered messages inside the writer's transaction, many rows
/// per statement.
pub(super) async fn insert_all(
    conn: &mut AnyConnection,
    messages: &[Message],
) -> Result<(), StoreError> {
    const COLUMNS: usize = 10;
    for chunk in messages.chunks(sql::ROWS_PER_INSERT) {
        let text = format!(
            "INSERT INTO chat_messages (seq, session_id, at, kind, from_role, from_id, from_name, visibility, audience, body) VALUES {}",
            sql::values(chunk.len(), COLUMNS)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(text));
        for m in chunk {
            query = query
                .bind(m.seq)
                .bind(m.session.clone())
                .bind(m.at)
                .bind(name_of(&m.kind))
                .bind(name_of(&m.from.role))
                .bind(m.from.id.clone())
                .bind(m.from.name.clone())
                .bind(name_of(&m.visibility))
                .bind(serde_json::to_string(&m.audience).unwrap_or_default())
                .bind(serde_json::to_string(&m.content).unwrap_or_default());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

fn message_from_row(row: &AnyRow) -> Result<Message, StoreError> {
    Ok(Message {
        seq: row.try_get("seq")?,
        session: row.try_get("session_id")?,
        at: row.try_get("at")?,
        kind: parse_name(row, "kind")?,
        from: Party {
            role: parse_name(row, "from_role")?,
            id: row.try_get("from_id")?,
            name: row.try_get("from_name")?,
        },
        visibility: parse_name(row, "visibility")?,
        audience: json_column(row, "audience")?,
        content: json_column(row, "body")?,
    })
}

macro_rules! message_columns {
    () => {
        "SELECT seq, session_id, at, kind, from_role, from_id, from_name, visibility, audience, body FROM chat_messages"
    };
}

/// Most messages one read returns.
pub const MAX_PAGE: i64 = 1000;

/// A session's messages after `after`, oldest first, at most `limit`, as
/// `reader` sees them: supervisors every one, an agent the coaching
/// addressed to it too, others those everyone sees.
pub(super) async fn messages(
    pool: &AnyPool,
    backend: Backend,
    session: &str,
    after: i64,
    limit: i64,
    reader: &Reader,
) -> Result<Vec<Message>, StoreError> {
    let coaching = match reader {
        Reader::Supervisor => "TRUE".to_string(),
        Reader::Agent(_) => access::json_list_contains(backend, "audience", "$4"),
        Reader::Outsider => "FALSE".to_string(),
    };
    let text = format!(
        "{} WHERE session_id = $1 AND seq > $2 AND (visibility = 'all' OR {coaching}) ORDER BY seq LIMIT $3",
        message_columns!(),
    );
    let query = sqlx::query(sqlx::AssertSqlSafe(text))
        .bind(session)
        .bind(after)
        .bind(limit.clamp(1, MAX_PAGE));
    let rows = reader.bound(query).fetch_all(pool).await?;
    rows.iter().map(message_from_row).collect()
}

/// Messages of every session after `after`, oldest first, at most `limit`.
pub(super) async fn all_after(
    pool: &AnyPool,
    after: i64,
    limit: i64,
) -> Result<Vec<Message>, StoreError> {
    let rows = sqlx::query(concat!(
        message_columns!(),
        " WHERE seq > $1 ORDER BY seq LIMIT $2"
    ))
    .bind(after)
    .bind(limit.clamp(1, MAX_PAGE))
    .fetch_all(pool)
    .await?;
    rows.iter().map(message_from_row).collect()
}

/// The newest message number (0 when there is none), or the highest one
/// retention deleted if that is higher: numbers never go back.
pub(super) async fn last_seq(pool: &AnyPool) -> Result<i64, StoreError> {
    let seq: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(n) FROM (SELECT MAX(seq) AS n FROM chat_messages UNION ALL SELECT last AS n FROM retired_numbers WHERE name = 'chat_messages') numbers",
    )
        .fetch_one(pool)
        .await?;
    Ok(seq.unwrap_or(0))
}

/// The session `id`.
pub(super) async fn session(pool: &AnyPool, id: &str) -> Result<Option<Session>, StoreError> {
    let row = sqlx::query(
        "SELECT id, key_hash, nickname, email, subject, created_at, ended_at, end_reason FROM chat_sessions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        Ok(Session {
            id: row.try_get("id")?,
            key_hash: row.try_get("key_hash")?,
            nickname: row.try_get("nickname")?,
            email: row.try_get("email")?,
            subject: row.try_get("subject")?,
            created_at: row.try_get("created_at")?,
            ended_at: row.try_get("ended_at")?,
            end_reason: row.try_get("end_reason")?,
        })
    })
    .transpose()
}

/// Open sessions with their activity.
pub(super) async fn open_sessions(pool: &AnyPool) -> Result<Vec<Activity>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.id AS id, COUNT(m.seq) AS messages, MAX(m.at) AS last_at FROM chat_sessions s LEFT JOIN chat_messages m ON m.session_id = s.id WHERE s.ended_at IS NULL GROUP BY s.id ORDER BY s.id",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Activity {
                id: row.try_get("id")?,
                messages: row.try_get("messages")?,
                last_at: row.try_get("last_at")?,
            })
        })
        .collect()
}

/// What a chat stored, for its history as `reader` sees it: its subject,
/// the customer's nickname, the transcript (with the coaching the reader
/// may see) and the files sent.
pub(super) async fn content(
    pool: &AnyPool,
    backend: Backend,
    id: &str,
    reader: &Reader,
) -> Result<history::Content, StoreError> {
    let session = session(pool, id).await?;
    let files = sqlx::query(
        "SELECT id, name, content_type, size FROM chat_files WHERE session_id = $1 ORDER BY at, id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let attachments = files
        .iter()
        .map(|row| {
            let file: String = row.try_get("id")?;
            Ok(history::Attachment {
                url: format!("/v1/chats/{id}/files/{file}"),
                id: file,
                name: row.try_get("name")?,
                content_type: row.try_get("content_type")?,
                size: row.try_get("size")?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(history::Content {
        subject: session.as_ref().and_then(|s| s.subject.clone()),
        customer_name: session.map(|s| s.nickname),
        body: None,
        transcript: Some(messages(pool, backend, id, 0, MAX_PAGE, reader).await?),
        attachments,
    })
}

/// A file of a session, with its bytes.
pub(super) async fn file(
    pool: &AnyPool,
    session: &str,
    id: &str,
) -> Result<Option<(FileInfo, Vec<u8>)>, StoreError> {
    let row = sqlx::query(
        "SELECT id, name, content_type, size, data FROM chat_files WHERE session_id = $1 AND id = $2",
    )
    .bind(session)
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        Ok((
            FileInfo {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                content_type: row.try_get("content_type")?,
                size: row.try_get("size")?,
            },
            row.try_get("data")?,
        ))
    })
    .transpose()
}
