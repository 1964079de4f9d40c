//! The single writer: applies writes in batches, one transaction per
//! batch (group commit), and acknowledges each write only after its batch
//! has committed. One writer also means events get sequence numbers in
//! commit order.
//!
//! A write the rules refuse (duplicate id, invalid transition) is answered
//! with that error and changes nothing; the rest of its batch commits. If
//! the database fails a batch, each of its writes is retried alone, so one
//! bad write cannot fail its neighbours.

use serde_json::json;
use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{mpsc, oneshot};

use super::error::StoreError;
use super::interactions::{self, Interaction, NewInteraction, State, Transition};
use super::{events, now_ms};

/// Most writes committed in one transaction.
const MAX_BATCH: usize = 512;
/// Writes waiting for the writer before callers wait to enqueue.
const QUEUE_DEPTH: usize = 8192;

/// A write.
enum Write {
    Submit(NewInteraction),
    Transition(Transition),
}

/// The outcome of one write: `Err` is a refusal by the rules.
type Outcome = Result<Interaction, StoreError>;

struct Request {
    write: Write,
    reply: oneshot::Sender<Outcome>,
}

/// A handle to the writer task.
#[derive(Clone)]
pub(super) struct Writer {
    requests: mpsc::Sender<Request>,
}

fn stopped() -> StoreError {
    StoreError::Database("the store's writer has stopped".into())
}

impl Writer {
    /// Starts the writer on `pool`.
    pub(super) fn spawn(pool: AnyPool) -> Writer {
        let (requests, receiver) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(run(pool, receiver));
        Writer { requests }
    }

    async fn write(&self, write: Write) -> Outcome {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request { write, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    pub(super) async fn submit(&self, new: NewInteraction) -> Outcome {
        self.write(Write::Submit(new)).await
    }

    pub(super) async fn transition(&self, transition: Transition) -> Outcome {
        self.write(Write::Transition(transition)).await
    }
}

async fn run(pool: AnyPool, mut receiver: mpsc::Receiver<Request>) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        match commit(&pool, batch.iter().map(|r| &r.write)).await {
            Ok(outcomes) => reply_all(batch, outcomes),
            Err(err) if batch.len() == 1 => reply_all(batch, vec![Err(err)]),
            Err(err) => {
                tracing::warn!(
                    "a batch of {} writes failed ({err}); retrying them one by one",
                    batch.len()
                );
                for request in batch {
                    let outcome = match commit(&pool, std::iter::once(&request.write)).await {
                        Ok(mut outcomes) => outcomes.pop().unwrap_or_else(|| Err(stopped())),
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
/// nothing was committed.
async fn commit<'a>(
    pool: &AnyPool,
    writes: impl Iterator<Item = &'a Write>,
) -> Result<Vec<Outcome>, StoreError> {
    let mut tx = pool.begin().await?;
    let mut outcomes = Vec::new();
    for write in writes {
        outcomes.push(match write {
            Write::Submit(new) => submit(&mut tx, new).await?,
            Write::Transition(t) => transition(&mut tx, t).await?,
        });
    }
    tx.commit().await?;
    Ok(outcomes)
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

async fn submit(conn: &mut AnyConnection, new: &NewInteraction) -> Result<Outcome, StoreError> {
    let id = new.id.clone().unwrap_or_else(new_id);
    if interactions::get(&mut *conn, &id).await?.is_some() {
        return Ok(Err(StoreError::Duplicate(id)));
    }
    let now = now_ms();
    let interaction = Interaction {
        id,
        tenant: new.tenant.clone(),
        media_type: new.media_type.clone(),
        state: if new.queue.is_some() {
            State::Queued
        } else {
            State::Submitted
        },
        queue: new.queue.clone(),
        priority: new.priority,
        attached: new.attached.clone(),
        contact_id: new.contact_id.clone(),
        parent_id: new.parent_id.clone(),
        owner: None,
        submitted_at: now,
        queued_at: new.queue.as_ref().map(|_| now),
        updated_at: now,
    };
    interactions::insert(conn, &interaction).await?;
    let snapshot = serde_json::to_value(&interaction).unwrap_or_default();
    events::append(conn, now, &interaction.id, "submitted", &snapshot).await?;
    if let Some(queue) = &interaction.queue {
        events::append(
            conn,
            now,
            &interaction.id,
            "queued",
            &json!({ "queue": queue }),
        )
        .await?;
    }
    Ok(Ok(interaction))
}

async fn transition(conn: &mut AnyConnection, t: &Transition) -> Result<Outcome, StoreError> {
    let Some(mut interaction) = interactions::get(&mut *conn, &t.id).await? else {
        return Ok(Err(StoreError::NotFound(t.id.clone())));
    };
    let refused = |from: State| {
        Ok(Err(StoreError::InvalidTransition {
            id: t.id.clone(),
            from: from.to_string(),
            to: t.to.to_string(),
        }))
    };
    let from = interaction.state;
    if t.expect.is_some_and(|expected| expected != from) || !from.may_become(t.to) {
        return refused(from);
    }
    let now = now_ms();
    match t.to {
        State::Queued => {
            let queue = t.queue.clone().or_else(|| interaction.queue.clone());
            let Some(queue) = queue else {
                return Ok(Err(StoreError::Invalid(format!(
                    "interaction `{}` needs a queue",
                    t.id
                ))));
            };
            if from != State::Queued || interaction.queue.as_deref() != Some(queue.as_str()) {
                interaction.queued_at = Some(now);
            }
            interaction.queue = Some(queue);
            interaction.owner = None;
        }
        State::Offered | State::Accepted => {
            let owner = t.owner.clone().or_else(|| interaction.owner.clone());
            if owner.is_none() {
                return Ok(Err(StoreError::Invalid(format!(
                    "interaction `{}` needs an owner",
                    t.id
                ))));
            }
            interaction.owner = owner;
        }
        State::Completed | State::Stopped => interaction.queue = None,
        State::Submitted | State::Routing => {}
    }
    if let Some(priority) = t.priority {
        interaction.priority = priority;
    }
    interaction.state = t.to;
    interaction.updated_at = now;
    interactions::update(conn, &interaction).await?;
    let data = json!({
        "from": from,
        "queue": interaction.queue,
        "owner": interaction.owner,
        "priority": interaction.priority,
        "reason": t.reason,
    });
    events::append(conn, now, &interaction.id, t.to.as_str(), &data).await?;
    Ok(Ok(interaction))
}
