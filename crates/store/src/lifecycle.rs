//! The lifecycle writes: submitting an interaction, applying a transition,
//! and putting interactions that were being routed or offered back into
//! their queues after a restart. Each checks everything before writing, so
//! a refusal changes nothing.

use serde_json::json;

use super::error::StoreError;
use super::events::EventKind;
use super::interactions::{self, Interaction, NewInteraction, State, Transition};
use super::search::Document;
use super::writer::{Outcome, Tx, Written};
use super::{attached, contacts};

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The interaction as events carry it.
fn snapshot(interaction: &Interaction) -> serde_json::Value {
    serde_json::to_value(interaction).unwrap_or_default()
}

pub(super) async fn submit(tx: &mut Tx<'_>, new: &NewInteraction) -> Result<Outcome, StoreError> {
    let contact_id = match &new.contact_id {
        None => None,
        Some(reference) => {
            // Identifying may create a contact: refuse a duplicate first.
            if let Err(refused) = check_new_id(tx, new).await? {
                return Ok(Err(refused));
            }
            match contacts::write::for_interaction(tx, reference).await? {
                Ok(contact) => Some(contact),
                Err(refused) => return Ok(Err(refused)),
            }
        }
    };
    let id = new.id.clone().unwrap_or_else(new_id);
    let now = tx.now;
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
        contact_id,
        parent_id: new.parent_id.clone(),
        owner: None,
        parties: Vec::new(),
        workbin: None,
        workbin_owner: None,
        disposition: None,
        submitted_at: now,
        queued_at: new.queue.as_ref().map(|_| now),
        updated_at: now,
    };
    if !interactions::insert(tx.conn, &interaction).await? {
        return Ok(Err(duplicate(interaction.id)));
    }
    let id = Some(interaction.id.as_str());
    tx.event(id, None, EventKind::Submitted, snapshot(&interaction));
    if let Some(queue) = &interaction.queue {
        tx.event(id, None, EventKind::Queued, json!({ "queue": queue }));
    }
    // Checked by `NewInteraction::validate`.
    let attached = attached::parse(&interaction.attached).unwrap_or_default();
    if let Some(subject) = attached::text(&attached, "subject") {
        tx.index(Document {
            interaction_id: interaction.id.clone(),
            channel: interaction.media(),
            at: now,
            text: subject.to_string(),
        });
    }
    Ok(Ok(Written::Interaction(interaction)))
}

/// Refuses a new interaction whose client-supplied id exists already (for
/// writes that change something before inserting it).
pub(super) async fn check_new_id(
    tx: &mut Tx<'_>,
    new: &NewInteraction,
) -> Result<Result<(), StoreError>, StoreError> {
    if let Some(id) = &new.id
        && interactions::get(&mut *tx.conn, id).await?.is_some()
    {
        return Ok(Err(duplicate(id.clone())));
    }
    Ok(Ok(()))
}

fn duplicate(id: String) -> StoreError {
    StoreError::Duplicate {
        what: "interaction",
        id,
    }
}

/// Why a transition is refused, if it is.
fn refusal(interaction: &Interaction, t: &Transition) -> Option<StoreError> {
    let from = interaction.state;
    if t.expect.is_some_and(|expected| expected != from) || !from.may_become(t.to) {
        return Some(StoreError::InvalidTransition {
            id: t.id.clone(),
            from: from.to_string(),
            to: t.to.to_string(),
        });
    }
    if let Some(agent) = &t.expect_owner
        && interaction.owner.as_ref() != Some(agent)
    {
        return Some(StoreError::Conflict(format!(
            "interaction `{}` is not {}'s",
            t.id,
            if from == State::Offered {
                format!("offered to {agent}")
            } else {
                format!("owned by {agent}")
            }
        )));
    }
    let missing = |what: &str| {
        Some(StoreError::Invalid(format!(
            "interaction `{}` needs {what} to become {}",
            t.id, t.to
        )))
    };
    match t.to {
        State::Queued if t.queue.is_none() && interaction.queue.is_none() => missing("a queue"),
        State::Offered | State::Accepted if t.owner.is_none() && interaction.owner.is_none() => {
            missing("an owner")
        }
        State::Parked if t.workbin.is_none() => missing("a workbin"),
        _ => None,
    }
}

/// Applies `t` to `interaction` (already checked by [`refusal`]).
fn apply(interaction: &mut Interaction, t: &Transition, now: i64) {
    let from = interaction.state;
    match t.to {
        State::Queued => {
            let queue = t.queue.clone().or_else(|| interaction.queue.clone());
            // Back from routing or an offer into the same queue, it keeps
            // its place (its age); a new queue starts the clock again.
            let returning = matches!(from, State::Queued | State::Routing | State::Offered);
            if !returning || interaction.queue != queue {
                interaction.queued_at = Some(now);
            }
            interaction.queue = queue;
            interaction.owner = None;
            interaction.parties.clear();
            interaction.workbin = None;
            interaction.workbin_owner = None;
        }
        State::Offered | State::Accepted => {
            if let Some(owner) = &t.owner {
                interaction.owner = Some(owner.clone());
            }
            interaction.workbin = None;
            interaction.workbin_owner = None;
        }
        State::Parked => {
            if let Some((workbin, owner)) = &t.workbin {
                interaction.workbin = Some(workbin.clone());
                interaction.workbin_owner = Some(owner.clone());
            }
            interaction.owner = None;
            interaction.parties.clear();
        }
        State::Completed | State::Stopped => {
            interaction.queue = None;
            interaction.workbin = None;
            interaction.workbin_owner = None;
            interaction.disposition = t.disposition.clone();
        }
        State::Submitted | State::Routing => {}
    }
    if let Some(priority) = t.priority {
        interaction.priority = priority;
    }
    if let Some(attached) = &t.attached {
        interaction.attached = attached.clone();
    }
    if let Some(parties) = &t.parties {
        interaction.parties = parties.clone();
    }
    interaction.state = t.to;
    interaction.updated_at = now;
}

pub(super) async fn transition(tx: &mut Tx<'_>, t: &Transition) -> Result<Outcome, StoreError> {
    let Some(mut interaction) = interactions::get(&mut *tx.conn, &t.id).await? else {
        return Ok(Err(StoreError::no_interaction(&t.id)));
    };
    if let Some(refused) = refusal(&interaction, t) {
        return Ok(Err(refused));
    }
    let from = interaction.state;
    let previous_owner = interaction.owner.clone();
    apply(&mut interaction, t, tx.now);
    interactions::update(tx.conn, &interaction).await?;
    let id = Some(interaction.id.as_str());
    for note in &t.notes {
        tx.event(id, None, EventKind::Notified, json!({ "text": note }));
    }
    // The event concerns the agent who has the interaction now, or the one
    // who just lost it.
    let agent = interaction.owner.as_deref().or(previous_owner.as_deref());
    let kind = t.event.unwrap_or(t.to.into());
    let data = json!({
        "from": from,
        "reason": t.reason,
        "previous-owner": previous_owner,
        "interaction": snapshot(&interaction),
    });
    tx.event(id, agent, kind, data);
    Ok(Ok(Written::Interaction(interaction)))
}

pub(super) async fn recover(tx: &mut Tx<'_>) -> Result<Outcome, StoreError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM interactions WHERE state = 'routing' OR state = 'offered' ORDER BY id",
    )
    .fetch_all(&mut *tx.conn)
    .await?;
    let mut recovered = Vec::with_capacity(ids.len());
    for id in ids {
        let back = Transition::to(&id, State::Queued).reason("recovered after a restart");
        match transition(tx, &back).await? {
            Ok(Written::Interaction(interaction)) => recovered.push(interaction),
            _ => {
                // Only an interaction without a queue gets here.
                let stop = Transition::to(&id, State::Stopped)
                    .reason("no queue to return to after a restart");
                transition(tx, &stop).await?.ok();
            }
        }
    }
    Ok(Ok(Written::Interactions(recovered)))
}
