//! The chat's background tasks:
//! - delivery: committed messages, in commit order, to the hub (reading
//!   from the store what a lagging subscription missed);
//! - the engine's events for chats: whoever accepts joins, whoever leaves
//!   or transfers away leaves, a completed or stopped interaction ends its
//!   chat, and a strategy's `notify` becomes a message to the customer;
//! - the sweeper: a customer away longer than the resume window has left.

use serde_json::Value as Json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

use super::hub::{Frame, FrameKind};
use super::{Chat, system};
use parley_core::Media;
use parley_store::chat::{Message, Visibility};
use parley_store::{Event, EventKind, Interaction, State};

/// How often the sweeper looks for customers who left.
const SWEEP_EVERY: Duration = Duration::from_secs(2);

pub(super) fn spawn(chat: Arc<Chat>) {
    tokio::spawn(deliver(chat.clone()));
    tokio::spawn(follow_engine(chat.clone()));
    tokio::spawn(sweep(chat));
}

/// The frame of a committed message.
fn frame(message: &Message) -> Frame {
    let text = serde_json::json!({ "type": "message", "message": message });
    Frame {
        kind: FrameKind::Message,
        session: message.session.as_str().into(),
        seq: Some(message.seq),
        everyone: message.visibility == Visibility::All,
        coached: (message.visibility == Visibility::Agents)
            .then(|| message.audience.iter().cloned().collect()),
        text: text.to_string().into(),
    }
}

fn hand_over(chat: &Chat, message: &Message) {
    chat.hub.deliver(frame(message));
    if message.content.event.as_deref() == Some("ended") {
        let reason = message.content.text.as_deref().unwrap_or("ended");
        chat.hub.end(&message.session, reason);
    }
}

async fn deliver(chat: Arc<Chat>) {
    let store = chat.store().clone();
    let mut live = store.subscribe_messages();
    let mut seen = match store.last_message_seq().await {
        Ok(seq) => seq,
        Err(err) => {
            tracing::error!("chat delivery cannot start: {err}");
            return;
        }
    };
    loop {
        match live.recv().await {
            Ok(message) if message.seq <= seen => {}
            Ok(message) => {
                seen = message.seq;
                hand_over(&chat, &message);
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "chat delivery fell behind; reading from the store");
                loop {
                    match store.chat_messages_after(seen, 1000).await {
                        Ok(page) if page.is_empty() => break,
                        Ok(page) => {
                            for message in page {
                                seen = message.seq;
                                hand_over(&chat, &message);
                            }
                        }
                        Err(err) => {
                            tracing::error!("chat delivery: {err}");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                }
            }
            Err(RecvError::Closed) => return,
        }
    }
}

async fn follow_engine(chat: Arc<Chat>) {
    let mut events = chat.store().subscribe();
    loop {
        match events.recv().await {
            Ok(event) => on_event(&chat, event),
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "chat lost engine events; reloading who is in each chat"
                );
                resync(&chat).await;
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// Re-reads the agents in every open chat from the store.
async fn resync(chat: &Chat) {
    for id in chat.hub.ids() {
        if let Ok(interaction) = chat.store().get(&id).await {
            chat.hub.set_members(&id, interaction.members());
        }
    }
}

fn on_event(chat: &Arc<Chat>, event: Event) {
    let Some(id) = event.interaction_id.clone() else {
        return;
    };
    if event.kind == EventKind::Notified {
        if chat.hub.contains(&id) {
            let text = event.data["text"].as_str().unwrap_or_default().to_string();
            tokio::spawn(notify(chat.clone(), id, text));
        }
        return;
    }
    // Every interaction's events come by: only chats the hub holds are
    // read in full.
    let media = &event.data["interaction"]["media-type"];
    if media.as_str() != Some(Media::Chat.as_str()) || !chat.hub.contains(&id) {
        return;
    }
    let Some(interaction) = snapshot(&event.data) else {
        return;
    };
    let name = |agent: &str| {
        chat.engine
            .live_agent(agent)
            .map_or_else(|| agent.to_string(), |a| a.name)
    };
    let (joined, left) = chat.hub.set_members(&id, interaction.members());
    let mut notices = Vec::new();
    if interaction.state.is_final() {
        let (reason, text) = match (interaction.state, &interaction.owner) {
            (State::Completed, Some(owner)) => {
                ("completed", format!("{} ended the chat", name(owner)))
            }
            (State::Completed, None) => ("completed", "The chat has ended".to_string()),
            _ => ("stopped", "The chat was closed".to_string()),
        };
        let chat = chat.clone();
        tokio::spawn(async move {
            if let Err(err) = chat.end(&id, reason, text).await {
                tracing::warn!(session = %id, "ending the chat: {err}");
            }
        });
        return;
    }
    for agent in &left {
        // Whoever moved it (maybe a supervisor), the desktop it left learns.
        let text = serde_json::json!({ "type": "left", "session": id, "interaction": interaction });
        chat.hub.tell(
            agent,
            Frame {
                kind: FrameKind::Left,
                session: id.as_str().into(),
                seq: None,
                everyone: false,
                coached: None,
                text: text.to_string().into(),
            },
        );
        notices.push(if event.kind == EventKind::Transferred {
            system(
                &id,
                "transferred",
                format!("{} transferred the chat", name(agent)),
                Visibility::All,
            )
        } else {
            system(
                &id,
                "left",
                format!("{} left the chat", name(agent)),
                Visibility::All,
            )
        });
    }
    for agent in &joined {
        notices.push(system(
            &id,
            "joined",
            format!("{} joined the chat", name(agent)),
            Visibility::All,
        ));
    }
    if notices.is_empty() {
        return;
    }
    let store = chat.store().clone();
    tokio::spawn(async move {
        for notice in notices {
            if let Err(err) = store.post_message(notice).await {
                tracing::debug!("chat notice not written: {err}");
            }
        }
    });
}

/// The interaction an event carries, if it carries one.
fn snapshot(data: &Json) -> Option<Interaction> {
    serde_json::from_value(data.get("interaction")?.clone()).ok()
}

/// Posts a strategy's message to the customer, filling in `{position}`
/// and `{estimated-wait}`.
async fn notify(chat: Arc<Chat>, id: String, text: String) {
    let text = if text.contains('{') {
        match chat.store().get(&id).await {
            Ok(interaction) => {
                let standing = chat.engine.standing(&interaction);
                text.replace("{position}", &standing.position.to_string())
                    .replace(
                        "{estimated-wait}",
                        &describe_wait(standing.estimated_wait_ms),
                    )
            }
            Err(_) => text,
        }
    } else {
        text
    };
    if let Err(err) = chat
        .store()
        .post_message(system(&id, "notice", text, Visibility::All))
        .await
    {
        tracing::debug!(session = %id, "strategy message not written: {err}");
    }
}

/// A wait as a customer reads it.
fn describe_wait(ms: Option<u64>) -> String {
    match ms {
        None => "not known yet".into(),
        Some(ms) if ms < 60_000 => "less than a minute".into(),
        Some(ms) => {
            let minutes = ms.div_ceil(60_000);
            format!(
                "about {minutes} minute{}",
                if minutes == 1 { "" } else { "s" }
            )
        }
    }
}

async fn sweep(chat: Arc<Chat>) {
    let window = Duration::from_secs(chat.settings.resume_window_s);
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    loop {
        tick.tick().await;
        for id in chat.hub.abandoned(window) {
            let Some(view) = chat.hub.view(&id) else {
                continue;
            };
            let notice = format!("{} lost the connection", view.nickname);
            if let Err(err) = chat.end(&id, "connection lost", notice).await {
                tracing::warn!(session = %id, "ending an abandoned chat: {err}");
                continue;
            }
            if let Err(err) = chat
                .stop_unanswered(&id, "customer lost the connection")
                .await
            {
                tracing::warn!(session = %id, "{err}");
            }
        }
        chat.hub.forget_ended(window);
        chat.customer_messages.forget_idle();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn waits_read_naturally() {
        assert_eq!(super::describe_wait(None), "not known yet");
        assert_eq!(super::describe_wait(Some(20_000)), "less than a minute");
        assert_eq!(super::describe_wait(Some(60_000)), "about 1 minute");
        assert_eq!(super::describe_wait(Some(150_000)), "about 3 minutes");
    }
}
