//! The single writer: applies writes in batches, one transaction per
//! batch (group commit), and acknowledges each write only after its batch
//! has committed. One writer also means events get sequence numbers in
//! commit order, and so do chat messages; both are published to live
//! subscribers after the commit.
//!
//! A write the rules refuse (duplicate id, invalid transition) is answered
//! with that error and changes nothing; the rest of its batch commits. If
//! the database fails a batch, each of its writes is retried alone, so one
//! bad write cannot fail its neighbours.

use serde_json::Value as Json;
use sqlx::{AnyConnection, AnyPool};
use std::collections::HashSet;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::agents::{self, AgentWrite};
use super::audit::{self, NewAuditEntry};
use super::chat::{self, ChatWrite, Message, NewMessage};
use super::contacts::{self, Contact, write::ContactWrite};
use super::credentials::{self, CredentialWrite};
use super::email::{self, EmailWrite, Stored};
use super::error::StoreError;
use super::events::EventKind;
use super::events::{self, Event};
use super::interactions::{Interaction, NewInteraction, Transition};
use super::responses::{self, ResponseWrite};
use super::retention::{self, RetentionWrite};
use super::search::{self, Document};
use super::{lifecycle, now_ms};
use parley_core::agents::Agent;

/// Most writes committed in one transaction.
const MAX_BATCH: usize = 512;
/// Writes waiting for the writer before callers wait to enqueue.
const QUEUE_DEPTH: usize = 8192;
/// Events kept for live subscribers that fall behind; a subscriber that
/// falls further behind reads the rest from the database. The same for
/// chat messages.
pub(super) const LIVE_EVENTS: usize = 16384;

pub(super) enum Write {
    Submit(NewInteraction),
    Transition(Transition),
    Recover,
    Agent(AgentWrite),
    Credential(CredentialWrite),
    Chat(ChatWrite),
    Response(ResponseWrite),
    Email(EmailWrite),
    Contact(ContactWrite),
    Retention(RetentionWrite),
    Audit(NewAuditEntry),
}

/// What a write produced.
pub(super) enum Written {
    Interaction(Interaction),
    Interactions(Vec<Interaction>),
    Agent(Agent),
    Message(Message),
    Email(Box<Stored>),
    Contact(Contact),
    Count(u64),
    Done,
}

/// The outcome of one write: `Err` is a refusal by the rules.
pub(super) type Outcome = Result<Written, StoreError>;

/// The next event and chat message numbers.
#[derive(Clone, Copy)]
struct Numbers {
    event: i64,
    message: i64,
}

impl Numbers {
    async fn read(pool: &AnyPool) -> Result<Numbers, StoreError> {
        Ok(Numbers {
            event: events::last_seq(pool).await? + 1,
            message: chat::last_seq(pool).await? + 1,
        })
    }
}

/// One transaction of the writer, collecting the events and chat messages
/// it appends and the search documents it indexes. The writer numbers
/// events and messages itself (it is the only writer) and inserts a
/// batch's rows together before the commit.
pub(super) struct Tx<'c> {
    /// The connection, inside the transaction.
    pub conn: &'c mut AnyConnection,
    /// The time of the batch, ms since the Unix epoch.
    pub now: i64,
    events: Vec<Event>,
    messages: Vec<Message>,
    /// Documents to index ([`Tx::index`]).
    pub(super) documents: Vec<Document>,
    next: Numbers,
    /// Chat sessions known to be open.
    pub open_chats: &'c mut HashSet<String>,
}

impl Tx<'_> {
    /// Appends an event (written with the batch).
    pub fn event(
        &mut self,
        interaction: Option<&str>,
        agent: Option<&str>,
        kind: EventKind,
        data: Json,
    ) {
        self.events.push(Event {
            seq: self.next.event,
            at: self.now,
            interaction_id: interaction.map(str::to_string),
            agent_id: agent.map(str::to_string),
            kind,
            data,
        });
        self.next.event += 1;
    }

    /// Appends a chat message (written with the batch) addressed to
    /// `audience` if it is coaching; returns it numbered.
    pub fn message(&mut self, new: NewMessage, audience: Vec<String>) -> Message {
        let message = Message {
            seq: self.next.message,
            session: new.session,
            at: self.now,
            kind: new.kind,
            from: new.from,
            visibility: new.visibility,
            audience,
            content: new.content,
        };
        self.next.message += 1;
        self.messages.push(message.clone());
        message
    }
}

struct Request {
    write: Write,
    reply: oneshot::Sender<Outcome>,
}

/// A handle to the writer task.
#[derive(Clone)]
pub(super) struct Writer {
    requests: mpsc::Sender<Request>,
    live: Live,
}

/// Where committed events and messages are published.
#[derive(Clone)]
struct Live {
    events: broadcast::Sender<Event>,
    messages: broadcast::Sender<Message>,
}

impl Live {
    fn publish(&self, committed: Committed) {
        // No subscriber is fine: the logs are in the database.
        for event in committed.events {
            let _ = self.events.send(event);
        }
        for message in committed.messages {
            let _ = self.messages.send(message);
        }
    }
}

/// What a committed batch appended.
struct Committed {
    events: Vec<Event>,
    messages: Vec<Message>,
}

fn stopped() -> StoreError {
    StoreError::Database("the store's writer has stopped".into())
}

impl Writer {
    /// Starts the writer on `pool`.
    pub(super) fn spawn(pool: AnyPool) -> Writer {
        let (requests, receiver) = mpsc::channel(QUEUE_DEPTH);
        let live = Live {
            events: broadcast::channel(LIVE_EVENTS).0,
            messages: broadcast::channel(LIVE_EVENTS).0,
        };
        tokio::spawn(run(pool, receiver, live.clone()));
        Writer { requests, live }
    }

    /// Applies one write, durably.
    pub(super) async fn write(&self, write: Write) -> Outcome {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request { write, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Events as they are committed.
    pub(super) fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.live.events.subscribe()
    }

    /// Chat messages as they are committed.
    pub(super) fn subscribe_messages(&self) -> broadcast::Receiver<Message> {
        self.live.messages.subscribe()
    }
}

/// What the writer remembers between batches. Only the writer writes, so
/// what it remembers stays true; after a failed commit it is forgotten.
#[derive(Default)]
struct Memory {
    /// The next numbers: read at the first write.
    next: Option<Numbers>,
    /// Chat sessions known to be open (only the writer ends them), so
    /// messages to them need no read.
    open_chats: HashSet<String>,
}

async fn run(pool: AnyPool, mut receiver: mpsc::Receiver<Request>, live: Live) {
    let mut memory = Memory::default();
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        match commit(&pool, batch.iter().map(|r| &r.write), &mut memory).await {
            Ok((outcomes, committed)) => {
                live.publish(committed);
                reply_all(batch, outcomes);
            }
            Err(err) if batch.len() == 1 => reply_all(batch, vec![Err(err)]),
            Err(err) => {
                tracing::warn!(
                    "a batch of {} writes failed ({err}); retrying them one by one",
                    batch.len()
                );
                for request in batch {
                    let outcome =
                        match commit(&pool, std::iter::once(&request.write), &mut memory).await {
                            Ok((mut outcomes, committed)) => {
                                live.publish(committed);
                                outcomes.pop().unwrap_or_else(|| Err(stopped()))
                            }
                            Err(err) => Err(err),
                        };
                    let _ = request.reply.send(outcome);
                }
            }
        }
    }
}

fn reply_all(batch: Vec<Request>, outcomes: Vec<Outcome>) {
    for (request, outcome) in batch.into_iter().zip(outcomes) {
        // A caller that went away still had its write committed.
        let _ = request.reply.send(outcome);
    }
}

/// Applies writes in one transaction. `Err` means the database failed and
/// nothing was committed; the writer's memory is then forgotten.
async fn commit<'a>(
    pool: &AnyPool,
    writes: impl Iterator<Item = &'a Write>,
    memory: &mut Memory,
) -> Result<(Vec<Outcome>, Committed), StoreError> {
    let result = try_commit(pool, writes, memory).await;
    if result.is_err() {
        *memory = Memory::default();
    }
    result
}

async fn try_commit<'a>(
    pool: &AnyPool,
    writes: impl Iterator<Item = &'a Write>,
    memory: &mut Memory,
) -> Result<(Vec<Outcome>, Committed), StoreError> {
    let first = match memory.next.take() {
        Some(numbers) => numbers,
        None => Numbers::read(pool).await?,
    };
    let mut conn = pool.begin().await?;
    let mut tx = Tx {
        conn: &mut conn,
        now: now_ms(),
        events: Vec::new(),
        messages: Vec::new(),
        documents: Vec::new(),
        next: first,
        open_chats: &mut memory.open_chats,
    };
    let mut outcomes = Vec::new();
    for write in writes {
        outcomes.push(match write {
            Write::Submit(new) => lifecycle::submit(&mut tx, new).await?,
            Write::Transition(t) => lifecycle::transition(&mut tx, t).await?,
            Write::Recover => lifecycle::recover(&mut tx).await?,
            Write::Agent(write) => agents::apply(&mut tx, write).await?,
            Write::Credential(write) => credentials::apply(&mut tx, write).await?,
            Write::Chat(write) => chat::apply(&mut tx, write).await?,
            Write::Response(write) => responses::apply(&mut tx, write).await?,
            Write::Email(write) => email::apply(&mut tx, write).await?,
            Write::Contact(write) => contacts::write::apply(&mut tx, write).await?,
            Write::Retention(write) => retention::apply(&mut tx, write).await?,
            Write::Audit(entry) => audit::apply(&mut tx, entry).await?,
        });
    }
    let (committed, documents, numbers) = (
        Committed {
            events: tx.events,
            messages: tx.messages,
        },
        tx.documents,
        tx.next,
    );
    events::insert_all(&mut conn, &committed.events).await?;
    chat::insert_all(&mut conn, &committed.messages).await?;
    search::insert_all(&mut conn, &documents).await?;
    conn.commit().await?;
    memory.next = Some(numbers);
    Ok((outcomes, committed))
}
