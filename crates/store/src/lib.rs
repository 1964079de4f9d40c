//! Durable storage of interactions, agents, credentials, the event log,
//! chat transcripts, e-mail messages, contacts and their history (with
//! full-text search), and standard responses,
//! on SQLite (the embedded default: one file, WAL) or PostgreSQL, chosen
//! by URL, with the same behaviour and versioned migrations for each.
//!
//! All writes go through one writer task that commits them in batches
//! (group commit): a write is acknowledged only after its transaction has
//! committed, and events get their sequence numbers in commit order, so a
//! reader resuming from a cursor never skips one. Reads use the pool.

pub mod access;
mod agents;
pub mod attached;
pub mod audit;
pub mod channel;
pub mod chat;
pub mod contacts;
mod credentials;
pub mod email;
mod error;
pub mod events;
mod exclusive;
pub mod history;
pub mod interactions;
mod lifecycle;
pub mod responses;
pub mod retention;
pub mod search;
mod sql;
mod writer;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor, Row};
use tokio::sync::broadcast;

pub use parley_core::now_ms;

pub use access::Reader;
pub use contacts::{Contact, ContactPatch, Identity, NewContact};
pub use credentials::Credential;
pub use error::StoreError;
pub use events::{Event, EventKind};
pub use interactions::{Filter, Interaction, NewInteraction, QueueCount, State, Transition};
pub use responses::{Category, StandardResponse};

use agents::AgentWrite;
use chat::ChatWrite;
use contacts::identity::Reference;
use contacts::write::ContactWrite;
use credentials::CredentialWrite;
use email::EmailWrite;
use parley_core::agents::{Agent, Presence};
use responses::ResponseWrite;
use responses::library::{Library, Mode};
use retention::{Due, RetentionWrite};
use writer::{Write, Writer, Written};

/// The database behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, embedded.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// The backend a database URL names.
    pub fn of_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(format!(
                "unsupported database URL `{url}` (use sqlite://FILE or postgres://...)"
            )))
        }
    }
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    writer: Writer,
    _exclusive: std::sync::Arc<exclusive::Exclusive>,
}

fn unexpected() -> StoreError {
    StoreError::Database("the writer answered with an unexpected result".into())
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `url`:
    /// `sqlite://path/parley.db` or `postgres://user@host/db`. Refused
    /// while another server holds the same database.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend = Backend::of_url(url)?;
        let (url, connections) = match backend {
            Backend::Sqlite if !url.contains('?') => (format!("{url}?mode=rwc"), 4),
            Backend::Sqlite => (url.to_string(), 4),
            Backend::Postgres => (url.to_string(), 16),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(connections)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL for concurrent readers; FULL so a committed
                        // transaction survives power loss, not just a crash.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        let exclusive = exclusive::acquire(backend, &url, &pool).await?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&pool).await?,
        }
        let writer = Writer::spawn(pool.clone());
        let exclusive = std::sync::Arc::new(exclusive);
        Ok(Store {
            pool,
            backend,
            writer,
            _exclusive: exclusive,
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn write_interaction(&self, write: Write) -> Result<Interaction, StoreError> {
        match self.writer.write(write).await? {
            Written::Interaction(interaction) => Ok(interaction),
            _ => Err(unexpected()),
        }
    }

    async fn write_done(&self, write: Write) -> Result<(), StoreError> {
        self.writer.write(write).await.map(|_| ())
    }

    /// Submits a new interaction. It is stored, with its `submitted` event,
    /// before this returns. A client-supplied id that exists already is
    /// refused ([`StoreError::Duplicate`]).
    pub async fn submit(&self, new: NewInteraction) -> Result<Interaction, StoreError> {
        new.validate()?;
        self.write_interaction(Write::Submit(new)).await
    }

    /// Applies a lifecycle transition, durably, with its event.
    pub async fn transition(&self, transition: Transition) -> Result<Interaction, StoreError> {
        self.write_interaction(Write::Transition(transition)).await
    }

    /// Puts every interaction that was being routed or offered back into
    /// its queue (at startup, before routing resumes); returns them.
    pub async fn recover(&self) -> Result<Vec<Interaction>, StoreError> {
        match self.writer.write(Write::Recover).await? {
            Written::Interactions(recovered) => Ok(recovered),
            _ => Err(unexpected()),
        }
    }

    /// The interaction `id`.
    pub async fn get(&self, id: &str) -> Result<Interaction, StoreError> {
        interactions::get(&self.pool, id)
            .await?
            .ok_or_else(|| StoreError::no_interaction(id))
    }

    /// Interactions matching `filter`, at most `limit`.
    pub async fn list(&self, filter: &Filter, limit: i64) -> Result<Vec<Interaction>, StoreError> {
        interactions::list(&self.pool, filter, limit.clamp(1, 5000)).await
    }

    /// Waiting and offered interactions per queue.
    pub async fn queue_counts(
        &self,
    ) -> Result<std::collections::BTreeMap<String, QueueCount>, StoreError> {
        interactions::queue_counts(&self.pool).await
    }

    /// Every interaction in `state`, oldest in its queue first.
    pub async fn in_state(&self, state: State) -> Result<Vec<Interaction>, StoreError> {
        interactions::in_state(&self.pool, state).await
    }

    /// Events after cursor `after` (0: from the start), oldest first, at
    /// most `limit`; with `agent`, only those concerning that agent.
    pub async fn events_after(
        &self,
        after: i64,
        limit: i64,
        agent: Option<&str>,
    ) -> Result<Vec<Event>, StoreError> {
        events::after(&self.pool, after, limit, agent).await
    }

    /// The newest event's sequence number.
    pub async fn last_seq(&self) -> Result<i64, StoreError> {
        events::last_seq(&self.pool).await
    }

    /// Events as they are committed. A receiver that falls behind gets
    /// `Lagged` and should read the gap with [`Store::events_after`].
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.writer.subscribe()
    }

    /// Creates an account.
    pub async fn create_agent(
        &self,
        agent: Agent,
        password_hash: Option<String>,
    ) -> Result<Agent, StoreError> {
        self.write_agent(AgentWrite::Create {
            agent,
            password_hash,
        })
        .await
    }

    /// Replaces an account's settings (`None` keeps the password).
    pub async fn replace_agent(
        &self,
        agent: Agent,
        password_hash: Option<String>,
    ) -> Result<Agent, StoreError> {
        self.write_agent(AgentWrite::Replace {
            agent,
            password_hash,
        })
        .await
    }

    async fn write_agent(&self, write: AgentWrite) -> Result<Agent, StoreError> {
        match self.writer.write(Write::Agent(write)).await? {
            Written::Agent(agent) => Ok(agent),
            _ => Err(unexpected()),
        }
    }

    /// Deletes an account and its sessions.
    pub async fn delete_agent(&self, id: &str) -> Result<(), StoreError> {
        self.write_done(Write::Agent(AgentWrite::Delete(id.to_string())))
            .await
    }

    /// Stores an account's presence, with a `presence` event.
    pub async fn set_presence(&self, id: &str, presence: &Presence) -> Result<(), StoreError> {
        self.write_done(Write::Agent(AgentWrite::Presence {
            id: id.to_string(),
            presence: presence.clone(),
        }))
        .await
    }

    /// The account `id`.
    pub async fn agent(&self, id: &str) -> Result<Agent, StoreError> {
        agents::get(&self.pool, id)
            .await?
            .ok_or_else(|| StoreError::no_agent(id))
    }

    /// Every account.
    pub async fn agents(&self) -> Result<Vec<Agent>, StoreError> {
        agents::list(&self.pool).await
    }

    /// The password hash of account `id`, if it has a password.
    pub async fn password_hash(&self, id: &str) -> Result<Option<String>, StoreError> {
        agents::password_hash(&self.pool, id).await
    }

    /// Stores a credential.
    pub async fn add_credential(&self, credential: Credential) -> Result<(), StoreError> {
        self.write_done(Write::Credential(CredentialWrite::Add(credential)))
            .await
    }

    /// Removes the credential with this hash.
    pub async fn remove_credential(&self, hash: &str) -> Result<(), StoreError> {
        self.write_done(Write::Credential(CredentialWrite::Remove(hash.to_string())))
            .await
    }

    /// Removes the API key named `name`.
    pub async fn remove_api_key(&self, name: &str) -> Result<(), StoreError> {
        self.write_done(Write::Credential(CredentialWrite::RemoveApiKey(
            name.to_string(),
        )))
        .await
    }

    /// Ends every session of an account.
    pub async fn remove_sessions(&self, agent: &str) -> Result<(), StoreError> {
        self.write_done(Write::Credential(CredentialWrite::RemoveSessions(
            agent.to_string(),
        )))
        .await
    }

    /// The credential with this hash.
    pub async fn credential(&self, hash: &str) -> Result<Option<Credential>, StoreError> {
        credentials::find(&self.pool, hash).await
    }

    /// Every API key.
    pub async fn api_keys(&self) -> Result<Vec<Credential>, StoreError> {
        credentials::api_keys(&self.pool).await
    }

    /// Records an administrative action in the audit log.
    pub async fn audit(&self, entry: audit::NewAuditEntry) -> Result<(), StoreError> {
        self.write_done(Write::Audit(entry)).await
    }

    /// Audit entries, newest first: before entry `before`, of `action`,
    /// at most `limit`.
    pub async fn audit_log(
        &self,
        before: Option<&str>,
        action: Option<&str>,
        limit: i64,
    ) -> Result<Vec<audit::AuditEntry>, StoreError> {
        audit::list(&self.pool, before, action, limit).await
    }

    async fn write_message(&self, write: ChatWrite) -> Result<Option<chat::Message>, StoreError> {
        match self.writer.write(Write::Chat(write)).await? {
            Written::Message(message) => Ok(Some(message)),
            Written::Done => Ok(None),
            _ => Err(unexpected()),
        }
    }

    /// Submits a chat's interaction and creates its session, together.
    pub async fn start_chat(
        &self,
        interaction: NewInteraction,
        session: chat::NewSession,
    ) -> Result<Interaction, StoreError> {
        interaction.validate()?;
        self.write_interaction(Write::Chat(ChatWrite::Start {
            interaction,
            session,
        }))
        .await
    }

    /// Appends a message to an open session's transcript, durably.
    pub async fn post_message(
        &self,
        message: chat::NewMessage,
    ) -> Result<chat::Message, StoreError> {
        self.write_message(ChatWrite::Post(message))
            .await?
            .ok_or_else(unexpected)
    }

    /// Stores a file sent in an open session and the message announcing it.
    pub async fn post_file(
        &self,
        file: chat::NewFile,
        message: chat::NewMessage,
    ) -> Result<chat::Message, StoreError> {
        self.write_message(ChatWrite::File { file, message })
            .await?
            .ok_or_else(unexpected)
    }

    /// Ends a session with a last notice; `None` if it had ended already.
    pub async fn end_chat(
        &self,
        session: &str,
        reason: &str,
        notice: Option<chat::NewMessage>,
    ) -> Result<Option<chat::Message>, StoreError> {
        self.write_message(ChatWrite::End {
            session: session.to_string(),
            reason: reason.to_string(),
            notice,
        })
        .await
    }

    /// The chat session `id`.
    pub async fn chat_session(&self, id: &str) -> Result<chat::Session, StoreError> {
        chat::session(&self.pool, id)
            .await?
            .ok_or_else(|| StoreError::no_chat(id))
    }

    /// A session's messages after `after`, oldest first, at most `limit`,
    /// with the coaching `reader` may see.
    pub async fn chat_messages(
        &self,
        session: &str,
        after: i64,
        limit: i64,
        reader: &Reader,
    ) -> Result<Vec<chat::Message>, StoreError> {
        chat::messages(&self.pool, self.backend, session, after, limit, reader).await
    }

    /// Messages of every session after `after`, oldest first.
    pub async fn chat_messages_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<chat::Message>, StoreError> {
        chat::all_after(&self.pool, after, limit).await
    }

    /// The newest chat message's number.
    pub async fn last_message_seq(&self) -> Result<i64, StoreError> {
        chat::last_seq(&self.pool).await
    }

    /// Open chat sessions with their activity.
    pub async fn open_chats(&self) -> Result<Vec<chat::Activity>, StoreError> {
        chat::open_sessions(&self.pool).await
    }

    /// A file sent in session `session`.
    pub async fn chat_file(
        &self,
        session: &str,
        id: &str,
    ) -> Result<(chat::FileInfo, Vec<u8>), StoreError> {
        chat::file(&self.pool, session, id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "file",
                id: id.to_string(),
            })
    }

    /// Chat messages as they are committed. A receiver that falls behind
    /// gets `Lagged` and should read the gap with
    /// [`Store::chat_messages_after`].
    pub fn subscribe_messages(&self) -> broadcast::Receiver<chat::Message> {
        self.writer.subscribe_messages()
    }

    /// Every standard response, by name.
    pub async fn responses(&self) -> Result<Vec<StandardResponse>, StoreError> {
        responses::list(&mut *self.pool.acquire().await?).await
    }

    /// Creates or replaces a standard response; refused unless its
    /// category exists.
    pub async fn put_response(&self, response: StandardResponse) -> Result<(), StoreError> {
        self.write_done(Write::Response(ResponseWrite::Put(response)))
            .await
    }

    /// Deletes a standard response.
    pub async fn delete_response(&self, id: &str) -> Result<(), StoreError> {
        self.write_done(Write::Response(ResponseWrite::Delete(id.to_string())))
            .await
    }

    /// Every category of standard responses, by id.
    pub async fn categories(&self) -> Result<Vec<Category>, StoreError> {
        responses::categories(&mut *self.pool.acquire().await?).await
    }

    /// Creates or replaces a category; refused if its parent does not
    /// exist or it would end up inside itself.
    pub async fn put_category(&self, category: Category) -> Result<(), StoreError> {
        self.write_done(Write::Response(ResponseWrite::PutCategory(category)))
            .await
    }

    /// Deletes an empty category.
    pub async fn delete_category(&self, id: &str) -> Result<(), StoreError> {
        self.write_done(Write::Response(ResponseWrite::DeleteCategory(
            id.to_string(),
        )))
        .await
    }

    /// The whole library of categories and responses, as a file.
    pub async fn export_library(&self) -> Result<Library, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let categories = responses::categories(&mut conn).await?;
        Ok(Library::new(categories, responses::list(&mut conn).await?))
    }

    /// Imports a library file: merged by id, or replacing the whole
    /// library; checked as a whole first, applied atomically.
    pub async fn import_library(&self, library: Library, mode: Mode) -> Result<(), StoreError> {
        self.write_done(Write::Response(ResponseWrite::Import { library, mode }))
            .await
    }

    async fn write_contact(&self, write: ContactWrite) -> Result<Contact, StoreError> {
        match self.writer.write(Write::Contact(write)).await? {
            Written::Contact(contact) => Ok(contact),
            _ => Err(unexpected()),
        }
    }

    /// The contact owning any of the identities (e-mail addresses, phone
    /// numbers), given the identities it did not have yet (those no other
    /// contact owns) and the name if it had none; a new contact when none
    /// owns any. When several contacts own some, the owner of the first
    /// (e-mail addresses before phone numbers) is taken; they are merged
    /// only on request ([`Store::merge_contacts`]). Refused if an identity
    /// is malformed or none is given.
    pub async fn identify(&self, identity: Identity) -> Result<Contact, StoreError> {
        self.write_contact(ContactWrite::Identify(identity)).await
    }

    /// Creates a contact; refused if another owns one of its identities.
    pub async fn create_contact(&self, new: NewContact) -> Result<Contact, StoreError> {
        self.write_contact(ContactWrite::Create(new)).await
    }

    /// Changes contact `id` (or the contact it was merged into).
    pub async fn update_contact(
        &self,
        id: &str,
        patch: ContactPatch,
    ) -> Result<Contact, StoreError> {
        self.write_contact(ContactWrite::Update {
            id: id.to_string(),
            patch,
        })
        .await
    }

    /// Deletes a contact without interactions, with its identities and
    /// the tombstones of contacts merged into it.
    pub async fn delete_contact(&self, id: &str) -> Result<(), StoreError> {
        self.write_done(Write::Contact(ContactWrite::Delete(id.to_string())))
            .await
    }

    /// Merges contacts `from` into `into`, atomically: their identities
    /// and interactions move to `into`, which keeps its attributes and
    /// names and takes those it lacks; they stay as tombstones pointing at
    /// it. Returns the merged contact.
    pub async fn merge_contacts(
        &self,
        into: &str,
        from: Vec<String>,
    ) -> Result<Contact, StoreError> {
        self.write_contact(ContactWrite::Merge {
            into: into.to_string(),
            from,
        })
        .await
    }

    /// The contact `reference` names: a contact id (a merged contact
    /// answers with the contact it was merged into), `email:<address>` or
    /// `phone:<number>`.
    pub async fn contact(&self, reference: &str) -> Result<Contact, StoreError> {
        let parsed = Reference::parse(reference)?;
        contacts::find(&mut *self.pool.acquire().await?, &parsed)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "contact",
                id: reference.to_string(),
            })
    }

    /// Contacts whose names or identities contain `query` (all when it is
    /// empty), most recently changed first: at most `limit` (up to 500)
    /// after skipping `offset`.
    pub async fn contacts(
        &self,
        query: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Contact>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        contacts::search(&mut conn, query, limit.clamp(1, 500), offset.max(0)).await
    }

    /// The interactions of contact `contact` (an id) that `reader` sees,
    /// with their content as it sees it, newest first: at most `limit`
    /// (up to 1000) after skipping `offset`.
    pub async fn history(
        &self,
        contact: &str,
        reader: &Reader,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<history::Entry>, StoreError> {
        let (limit, offset) = (limit.clamp(1, 1000), offset.max(0));
        history::of_contact(self, contact, reader, limit, offset).await
    }

    /// Whether `reader` sees interaction `id`, on any ground: the ones of
    /// [`Reader::sees`] and the channels' own (an agent wrote in a chat).
    pub async fn may_read(&self, id: &str, reader: &Reader) -> Result<bool, StoreError> {
        let text = format!(
            "SELECT COUNT(*) FROM interactions WHERE id = $1 AND {}",
            reader.condition(self.backend, 2)
        );
        let query = reader.bound(sqlx::query(sqlx::AssertSqlSafe(text)).bind(id));
        let count: i64 = query.fetch_one(&self.pool).await?.try_get(0)?;
        Ok(count > 0)
    }

    /// What the channel of `interaction` stored of it, as `reader` sees it.
    pub async fn content(
        &self,
        interaction: &Interaction,
        reader: &Reader,
    ) -> Result<history::Content, StoreError> {
        history::content(self, interaction, reader).await
    }

    /// Interactions `reader` sees whose subjects or texts contain every
    /// word of `query` (of contact `contact`, an id, if given), newest
    /// first, each with an extract of its newest match: at most `limit`
    /// (up to 1000) after skipping `offset`. Any text is a valid query; one
    /// without words finds nothing.
    pub async fn search(
        &self,
        query: &str,
        contact: Option<&str>,
        reader: &Reader,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<search::Hit>, StoreError> {
        let Some(query) = search::fts_query(query) else {
            return Ok(Vec::new());
        };
        let (limit, offset) = (limit.clamp(1, 1000), offset.max(0));
        let found = search::Found {
            query: &query,
            contact,
            reader,
        };
        search::search(&self.pool, self.backend, found, limit, offset).await
    }

    /// Finished interactions due for `due` that finished at or before
    /// `finished_before` (ms), oldest first, at most `limit`.
    pub async fn due_for_retention(
        &self,
        due: Due,
        finished_before: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        retention::due(&self.pool, due, finished_before, limit).await
    }

    /// Interaction `id` with all its content, as the archive keeps it.
    pub async fn archive_record(&self, id: &str) -> Result<Option<serde_json::Value>, StoreError> {
        retention::record(&self.pool, id).await
    }

    async fn write_count(&self, write: RetentionWrite) -> Result<u64, StoreError> {
        match self.writer.write(Write::Retention(write)).await? {
            Written::Count(count) => Ok(count),
            _ => Err(unexpected()),
        }
    }

    /// Notes that interactions were written to archive `file`; how many
    /// were not noted before.
    pub async fn mark_archived(&self, ids: Vec<String>, file: String) -> Result<u64, StoreError> {
        self.write_count(RetentionWrite::Archived { ids, file })
            .await
    }

    /// Deletes finished interactions with all their content (only archived
    /// ones if `archived_only`; others are skipped); how many were deleted.
    pub async fn delete_finished(
        &self,
        ids: Vec<String>,
        archived_only: bool,
    ) -> Result<u64, StoreError> {
        self.write_count(RetentionWrite::Delete { ids, archived_only })
            .await
    }

    async fn write_email(&self, write: EmailWrite) -> Result<email::Stored, StoreError> {
        match self.writer.write(Write::Email(write)).await? {
            Written::Email(stored) => Ok(*stored),
            _ => Err(unexpected()),
        }
    }

    /// Stores an inbound message with its interaction (`target`) and the
    /// mailbox item it came from, together: an item already taken in is
    /// refused ([`StoreError::Duplicate`]). `bounces` names the outbound
    /// message a delivery report is about; it becomes `bounced`. An
    /// `acknowledgement` is queued in the same transaction.
    pub async fn receive_email(
        &self,
        target: email::Target,
        message: email::NewEmail,
        item: Option<email::MailboxItem>,
        bounces: Option<String>,
        acknowledgement: Option<email::NewEmail>,
    ) -> Result<email::Stored, StoreError> {
        if let email::Target::New(new) = &target {
            new.validate()?;
        }
        self.write_email(EmailWrite::Receive {
            target,
            email: Box::new(message),
            item,
            bounces,
            acknowledgement: acknowledgement.map(Box::new),
        })
        .await
    }

    /// Records a mailbox item that is taken in as nothing.
    pub async fn skip_mailbox_item(&self, item: email::MailboxItem) -> Result<(), StoreError> {
        self.write_done(Write::Email(EmailWrite::Skip(item))).await
    }

    /// Stores an outbound message of interaction `interaction_id`.
    pub async fn compose_email(
        &self,
        interaction_id: &str,
        message: email::NewEmail,
    ) -> Result<email::Stored, StoreError> {
        self.write_email(EmailWrite::Compose {
            interaction_id: interaction_id.to_string(),
            email: Box::new(message),
        })
        .await
    }

    /// Changes an outbound message's status if it is in an expected one
    /// ([`StoreError::Conflict`] otherwise).
    pub async fn change_email(&self, change: email::StatusChange) -> Result<(), StoreError> {
        self.write_done(Write::Email(EmailWrite::Change(change)))
            .await
    }

    /// The e-mail messages of an interaction, oldest first.
    pub async fn emails_of(
        &self,
        interaction: &str,
    ) -> Result<Vec<email::EmailMessage>, StoreError> {
        email::of_interaction(&self.pool, interaction).await
    }

    /// The e-mail message `id`.
    pub async fn email(&self, id: &str) -> Result<email::EmailMessage, StoreError> {
        email::get(&self.pool, id)
            .await?
            .ok_or_else(|| email::no_message(id))
    }

    /// E-mail messages in `status`, oldest first; with `due_by`, only
    /// those whose next attempt is due by then.
    pub async fn emails_in_status(
        &self,
        status: email::Status,
        due_by: Option<i64>,
        limit: i64,
    ) -> Result<Vec<email::EmailMessage>, StoreError> {
        email::in_status(&self.pool, status, due_by, limit.clamp(1, 1000)).await
    }

    /// The (message, interaction) holding the first of these RFC 5322
    /// message ids that is stored.
    pub async fn email_thread(
        &self,
        message_ids: &[String],
    ) -> Result<Option<(String, String)>, StoreError> {
        email::thread(&self.pool, message_ids).await
    }

    /// Which of these items of `mailbox` were taken in already.
    pub async fn known_mailbox_items(
        &self,
        mailbox: &str,
        items: &[String],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        email::known_items(&self.pool, mailbox, items).await
    }

    /// An e-mail attachment: its interaction, description and bytes.
    pub async fn email_attachment(
        &self,
        id: &str,
    ) -> Result<(String, email::AttachmentInfo, Vec<u8>), StoreError> {
        email::attachment(&self.pool, id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "attachment",
                id: id.to_string(),
            })
    }

    /// The attachments of message `id` with their bytes, in order.
    pub async fn email_attachment_data(
        &self,
        id: &str,
    ) -> Result<Vec<email::NewAttachment>, StoreError> {
        email::attachment_data(&self.pool, id).await
    }

    /// A raw MIME copy of message `id`.
    pub async fn email_mime(
        &self,
        id: &str,
        kind: email::MimeKind,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        email::mime(&self.pool, id, kind).await
    }
}
