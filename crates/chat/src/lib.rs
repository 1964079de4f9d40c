//! The web chat channel: a chat is an interaction of media type `chat`
//! with a conversation. The customer holds the session with a secret key;
//! every message is stored (masked by the privacy rules) before it is
//! acknowledged, then delivered live to the customer and to the agents
//! and supervisors in the chat.
//!
//! - [`hub`]: who is in each open chat and live delivery.
//! - [`follow`]: the tasks that deliver committed messages, follow the
//!   engine's events (joins, transfers, endings, strategies' messages) and
//!   let go of customers who stay away.
//! - [`files`]: checks on files sent; privacy masking is
//!   [`parley_core::masking`], shared with the e-mail channel.

mod error;
pub mod files;
mod follow;
pub mod hub;
mod settings;
pub mod widget;

pub use error::ChatError;
pub use hub::Mode;
pub use settings::ChatSettings;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hub::{Hub, SessionView};
use parley_core::Media;
use parley_core::agents::{Role as AccountRole, password};
use parley_core::masking::Masking;
use parley_core::quota::RateLimit;
use parley_engine::{Engine, EngineError};
use parley_store::attached::{Attribute, Value};
use parley_store::chat::{
    self, Content, FileInfo, FileQuota, Kind, Message, NewFile, NewMessage, NewSession, Party,
    Role, Visibility,
};
use parley_store::contacts::identity::normalise_email;
use parley_store::{NewInteraction, Reader, State, Store, StoreError};

/// A customer's request to start a chat.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StartChat {
    /// The customer's name.
    pub nickname: String,
    /// The customer's e-mail address: the chat's contact is the one
    /// owning it (created if none does).
    #[serde(default)]
    pub email: Option<String>,
    /// What it is about.
    #[serde(default)]
    pub subject: Option<String>,
    /// Typed attached data, as for any interaction: only the keys the
    /// widget allows are kept.
    #[serde(default)]
    pub attached: Option<Json>,
    /// The queue, one the widget offers (default: the widget's first).
    #[serde(default)]
    pub queue: Option<String>,
    /// The site's widget, as declared under `[[chat.widget]]` (default:
    /// `default`, which offers `[chat] queue` and takes no attached data).
    #[serde(default)]
    pub widget: Option<String>,
}

/// A started chat.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Started {
    /// The session id (the interaction id).
    pub id: String,
    /// The customer's secret key; shown once.
    pub key: String,
    /// The queue it waits in.
    pub queue: String,
    /// How long a disconnected customer may resume, in seconds.
    pub resume_window_s: u64,
}

/// Someone taking part in a chat, as the checks of the chat found them.
#[derive(Debug, Clone)]
pub struct Participant {
    pub session: String,
    /// Who they are.
    pub party: Party,
    /// Who sees what they write.
    pub visibility: Visibility,
}

/// A live chat, for supervisors.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct LiveChat {
    /// The session.
    pub id: String,
    /// The customer's name.
    pub nickname: String,
    /// What it is about.
    pub subject: Option<String>,
    /// Its interaction's state.
    pub state: State,
    /// Its queue, while waiting.
    pub queue: Option<String>,
    /// The agent who has it.
    pub owner: Option<String>,
    /// Agents conferenced in.
    pub parties: Vec<String>,
    /// Messages so far.
    pub messages: i64,
    /// When the last was written.
    pub last_at: Option<i64>,
    /// Supervisors and how they take part.
    pub supervisors: std::collections::BTreeMap<String, Mode>,
}

/// The chat channel.
pub struct Chat {
    engine: Arc<Engine>,
    settings: ChatSettings,
    masking: Masking,
    hub: Hub,
    /// Customers' messages per session.
    customer_messages: RateLimit<String>,
    /// Files refused by the per-session quota.
    file_quota_refusals: AtomicU64,
}

fn system(session: &str, event: &str, text: String, visibility: Visibility) -> NewMessage {
    NewMessage {
        session: session.to_string(),
        kind: Kind::System,
        from: Party {
            role: Role::System,
            id: None,
            name: "Parley".into(),
        },
        visibility,
        content: Content {
            text: Some(text),
            event: Some(event.to_string()),
            ..Content::default()
        },
    }
}

impl Chat {
    /// The chat channel over `engine`; refused if a masking rule does not
    /// compile. Call [`Chat::start_tasks`] to serve.
    pub fn new(engine: Arc<Engine>, settings: ChatSettings) -> Result<Arc<Chat>, String> {
        let masking = Masking::new(&settings.masking)?;
        Ok(Arc::new(Chat {
            engine,
            customer_messages: RateLimit::new(
                "chat-message",
                "messages in this chat",
                settings.customer_messages,
            ),
            file_quota_refusals: AtomicU64::new(0),
            settings,
            masking,
            hub: Hub::default(),
        }))
    }

    fn store(&self) -> &Store {
        self.engine.store()
    }

    pub fn settings(&self) -> &ChatSettings {
        &self.settings
    }

    /// Refusals so far: by the customers' message rate, and by the
    /// per-session file quota.
    pub fn refusals(&self) -> [(&'static str, u64); 2] {
        [
            (
                self.customer_messages.name,
                self.customer_messages.refused(),
            ),
            (
                "chat-files",
                self.file_quota_refusals.load(Ordering::Relaxed),
            ),
        ]
    }

    /// Takes one from a customer's message allowance.
    fn count_message(&self, from: &Participant) -> Result<(), ChatError> {
        if from.party.role == Role::Customer {
            self.customer_messages.check(&from.session)?;
        }
        Ok(())
    }

    /// The live hub.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Loads the open sessions into the hub and starts delivering,
    /// following the engine and sweeping abandoned sessions.
    pub async fn start_tasks(self: &Arc<Self>) -> Result<(), StoreError> {
        for open in self.store().open_chats().await? {
            self.load(&open.id).await?;
        }
        follow::spawn(self.clone());
        Ok(())
    }

    /// Puts session `id` into the hub from the store, if it is open.
    async fn load(&self, id: &str) -> Result<Option<SessionView>, StoreError> {
        if let Some(view) = self.hub.view(id) {
            return Ok(Some(view));
        }
        let session = self.store().chat_session(id).await?;
        if session.ended_at.is_some() {
            return Ok(None);
        }
        let interaction = self.store().get(id).await?;
        self.hub.open(
            id,
            &session.key_hash,
            &session.nickname,
            interaction.members(),
        );
        Ok(self.hub.view(id))
    }

    /// Starts a chat: its interaction enters the queue and is routed.
    pub async fn start(&self, request: StartChat) -> Result<Started, ChatError> {
        let nickname = request.nickname.trim();
        if nickname.is_empty() || nickname.chars().count() > 100 {
            return Err(ChatError::Invalid(
                "`nickname` must be 1 to 100 characters".into(),
            ));
        }
        let email = match request.email.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(email) => {
                Some(normalise_email(email).map_err(|err| ChatError::Invalid(err.to_string()))?)
            }
        };
        let subject = request
            .subject
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().take(200).collect::<String>());
        // What the customer typed is masked like its messages.
        let nickname = self.mask(nickname)?;
        let subject = subject.as_deref().map(|s| self.mask(s)).transpose()?;
        let widget = self.settings.widget(request.widget.as_deref())?;
        let queue = widget.queue(request.queue.as_deref())?;
        let attached = self.mask_attached(widget.attached(request.attached.as_ref())?)?;
        let new = NewInteraction {
            id: None,
            tenant: self.settings.tenant.clone(),
            media_type: Media::Chat.into(),
            queue: Some(queue.clone()),
            priority: 0,
            attached,
            // The store identifies the contact by the e-mail address.
            contact_id: None,
            parent_id: None,
        };
        let key = password::new_secret("ck_");
        let session = NewSession {
            key_hash: password::digest(&key),
            nickname,
            email,
            subject,
        };
        let stored = self
            .engine
            .admit(new, |store, new| async move {
                let stored = store.start_chat(new, session.clone()).await?;
                // Open in the hub before routing can offer it.
                self.hub.open(
                    &stored.id,
                    &session.key_hash,
                    &session.nickname,
                    BTreeSet::new(),
                );
                Ok(stored)
            })
            .await?;
        Ok(Started {
            id: stored.id,
            key,
            queue,
            resume_window_s: self.settings.resume_window_s,
        })
    }

    /// The customer of session `id`, if `key` opens it and it is open.
    pub async fn customer(&self, id: &str, key: &str) -> Result<Participant, ChatError> {
        let view = match self.load(id).await {
            Ok(Some(view)) => view,
            Ok(None) => {
                // Ended: the key still has to match to be told so.
                let session = self.store().chat_session(id).await?;
                return Err(if password::digest(key) == session.key_hash {
                    ChatError::Ended(id.to_string())
                } else {
                    ChatError::WrongKey(id.to_string())
                });
            }
            Err(err) => return Err(err.into()),
        };
        if password::digest(key) != view.key_hash {
            return Err(ChatError::WrongKey(id.to_string()));
        }
        if view.ended {
            return Err(ChatError::Ended(id.to_string()));
        }
        self.hub.seen(id);
        Ok(Participant {
            session: id.to_string(),
            party: Party {
                role: Role::Customer,
                id: None,
                name: view.nickname,
            },
            visibility: Visibility::All,
        })
    }

    /// Account `agent` (with `role`) as a writer in session `id`: an agent
    /// in it, or a supervisor coaching or barging in.
    pub async fn writer(
        &self,
        id: &str,
        agent: &str,
        role: AccountRole,
    ) -> Result<Participant, ChatError> {
        let view = self.open_view(id).await?;
        let name = self
            .engine
            .live_agent(agent)
            .map_or_else(|| agent.to_string(), |a| a.name);
        let party = |role| Party {
            role,
            id: Some(agent.to_string()),
            name: name.clone(),
        };
        let (party, visibility) = if view.members.contains(agent) {
            (party(Role::Agent), Visibility::All)
        } else {
            match view.supervisors.get(agent) {
                Some(Mode::Barge) => (party(Role::Supervisor), Visibility::All),
                Some(Mode::Coach) => (party(Role::Supervisor), Visibility::Agents),
                Some(Mode::Monitor) => return Err(ChatError::Silent),
                None if role.allows(AccountRole::Supervisor) => {
                    return Err(ChatError::NotAParty(format!(
                        "supervise chat `{id}` (coach or barge) to write in it"
                    )));
                }
                None => {
                    return Err(ChatError::NotAParty(format!("you are not in chat `{id}`")));
                }
            }
        };
        Ok(Participant {
            session: id.to_string(),
            party,
            visibility,
        })
    }

    async fn open_view(&self, id: &str) -> Result<SessionView, ChatError> {
        match self.load(id).await? {
            Some(view) if !view.ended => Ok(view),
            _ => Err(ChatError::Ended(id.to_string())),
        }
    }

    fn check_text(&self, text: &str) -> Result<String, ChatError> {
        let chars = text.chars().count();
        if chars > self.settings.max_message_chars {
            return Err(ChatError::TooLong {
                chars,
                limit: self.settings.max_message_chars,
            });
        }
        if text.trim().is_empty() {
            return Err(ChatError::Invalid("the message is empty".into()));
        }
        self.mask(text)
    }

    /// `text` with the privacy rules applied, or refused by a drop rule.
    fn mask(&self, text: &str) -> Result<String, ChatError> {
        self.masking
            .apply(text)
            .map_err(|withheld| ChatError::Withheld(withheld.rule))
    }

    /// Attached data with the privacy rules applied to its texts, as it
    /// is stored.
    fn mask_attached(&self, attached: Vec<Attribute>) -> Result<Json, ChatError> {
        let masked = attached
            .into_iter()
            .map(|Attribute { key, value }| {
                let value = match value {
                    Value::Text(text) => Value::Text(self.mask(&text)?),
                    Value::Texts(texts) => Value::Texts(
                        texts
                            .iter()
                            .map(|text| self.mask(text))
                            .collect::<Result<_, _>>()?,
                    ),
                    other => other,
                };
                Ok(Attribute { key, value })
            })
            .collect::<Result<Vec<_>, ChatError>>()?;
        Ok(serde_json::to_value(masked).unwrap_or(Json::Array(Vec::new())))
    }

    fn message(&self, from: &Participant, kind: Kind, content: Content) -> NewMessage {
        NewMessage {
            session: from.session.clone(),
            kind,
            from: from.party.clone(),
            visibility: from.visibility,
            content,
        }
    }

    /// Stores a text message (masked) and returns it once durable.
    pub async fn say(&self, from: &Participant, text: &str) -> Result<Message, ChatError> {
        let text = self.check_text(text)?;
        self.count_message(from)?;
        let message = self.message(
            from,
            Kind::Text,
            Content {
                text: Some(text),
                ..Content::default()
            },
        );
        let stored = self.store().post_message(message).await?;
        // A message ends its writer's typing.
        self.hub.typing(
            &from.session,
            &from.party,
            false,
            from.visibility == Visibility::All,
        );
        Ok(stored)
    }

    /// Stores a pushed URL (http or https) and returns it once durable.
    pub async fn push_url(&self, from: &Participant, url: &str) -> Result<Message, ChatError> {
        let url = self.check_text(url.trim())?;
        self.count_message(from)?;
        let parsed = reqwest::Url::parse(&url)
            .map_err(|e| ChatError::Invalid(format!("`{url}` is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ChatError::Invalid(
                "only http and https URLs can be pushed".into(),
            ));
        }
        let message = self.message(
            from,
            Kind::Url,
            Content {
                url: Some(parsed.to_string()),
                ..Content::default()
            },
        );
        Ok(self.store().post_message(message).await?)
    }

    /// Tells the others that `from` started or stopped typing.
    pub fn typing(&self, from: &Participant, typing: bool) {
        self.hub.typing(
            &from.session,
            &from.party,
            typing,
            from.visibility == Visibility::All,
        );
    }

    /// Stores a file sent by `from` (checked against the size limit, the
    /// allowed types, its content and the session's file quota) and the
    /// message announcing it.
    pub async fn send_file(
        &self,
        from: &Participant,
        name: &str,
        content_type: &str,
        data: Vec<u8>,
    ) -> Result<Message, ChatError> {
        if data.len() > self.settings.max_file_bytes {
            return Err(files::Refused::TooLarge {
                limit: self.settings.max_file_bytes,
            }
            .into());
        }
        let name = self.mask(&files::clean_name(name)?)?;
        files::check(&self.settings.file_types, content_type, &data)?;
        let file = NewFile {
            name,
            content_type: content_type
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase(),
            data,
            quota: Some(FileQuota {
                files: self.settings.max_files_per_session,
                bytes: self.settings.max_file_bytes_per_session,
            }),
        };
        let message = self.message(from, Kind::File, Content::default());
        let stored = self.store().post_file(file, message).await;
        if let Err(StoreError::QuotaExceeded(_)) = &stored {
            self.file_quota_refusals.fetch_add(1, Ordering::Relaxed);
        }
        Ok(stored?)
    }

    /// A file of session `id`.
    pub async fn file(&self, id: &str, file: &str) -> Result<(FileInfo, Vec<u8>), ChatError> {
        Ok(self.store().chat_file(id, file).await?)
    }

    /// The session `id` as stored.
    pub async fn session(&self, id: &str) -> Result<chat::Session, ChatError> {
        Ok(self.store().chat_session(id).await?)
    }

    /// Session `id`'s messages after `after`, with the coaching `reader`
    /// may see.
    pub async fn transcript(
        &self,
        id: &str,
        after: i64,
        limit: i64,
        reader: &Reader,
    ) -> Result<Vec<Message>, ChatError> {
        Ok(self.store().chat_messages(id, after, limit, reader).await?)
    }

    /// The customer leaves: the session ends; an interaction not yet with
    /// an agent is stopped.
    pub async fn leave(&self, customer: &Participant, reason: &str) -> Result<(), ChatError> {
        let notice = format!("{} left the chat", customer.party.name);
        self.end(&customer.session, reason, notice).await?;
        self.stop_unanswered(&customer.session, reason).await
    }

    /// Ends session `id` with a notice everyone sees.
    async fn end(&self, id: &str, reason: &str, notice: String) -> Result<(), StoreError> {
        let notice = system(id, "ended", notice, Visibility::All);
        self.store().end_chat(id, reason, Some(notice)).await?;
        Ok(())
    }

    /// Stops the interaction of an ended session unless an agent has it,
    /// waiting out a strategy that is deciding on it.
    async fn stop_unanswered(&self, id: &str, reason: &str) -> Result<(), ChatError> {
        for _ in 0..50 {
            let interaction = self.store().get(id).await?;
            if interaction.state.is_final() || interaction.state == State::Accepted {
                return Ok(());
            }
            match self.engine.stop(id, reason).await {
                Ok(_) => return Ok(()),
                Err(EngineError::Locked(_))
                | Err(EngineError::Store(StoreError::InvalidTransition { .. })) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(err) => return Err(err.into()),
            }
        }
        Err(ChatError::Invalid(format!(
            "interaction `{id}` stayed busy; it was not stopped"
        )))
    }

    /// Sets how supervisor `agent` takes part in session `id` (`None`:
    /// not at all), telling those who should know.
    pub async fn supervise(
        &self,
        id: &str,
        agent: &str,
        mode: Option<Mode>,
    ) -> Result<(), ChatError> {
        self.open_view(id).await?;
        let name = self
            .engine
            .live_agent(agent)
            .map_or_else(|| agent.to_string(), |a| a.name);
        let before = self.hub.supervise(id, agent, mode);
        let notice = match (before, mode) {
            (before, after) if before == after => None,
            (_, Some(Mode::Barge)) => {
                Some(("joined", format!("{name} joined the chat"), Visibility::All))
            }
            (Some(Mode::Barge), _) => {
                Some(("left", format!("{name} left the chat"), Visibility::All))
            }
            (_, Some(Mode::Coach)) => Some((
                "coaching",
                format!("{name} is coaching"),
                Visibility::Agents,
            )),
            (Some(Mode::Coach), _) => Some((
                "coaching",
                format!("{name} stopped coaching"),
                Visibility::Agents,
            )),
            // Monitoring is silent.
            _ => None,
        };
        if let Some((event, text, visibility)) = notice {
            self.store()
                .post_message(system(id, event, text, visibility))
                .await?;
        }
        Ok(())
    }

    /// The open chats, newest first (at most `limit`).
    pub async fn live(&self, limit: usize) -> Result<Vec<LiveChat>, ChatError> {
        let mut activity = self.store().open_chats().await?;
        activity.reverse();
        let mut live = Vec::new();
        for open in activity.into_iter().take(limit) {
            let Some(view) = self.hub.view(&open.id) else {
                continue;
            };
            let interaction = self.store().get(&open.id).await?;
            let session = self.store().chat_session(&open.id).await?;
            live.push(LiveChat {
                id: open.id,
                nickname: view.nickname,
                subject: session.subject,
                state: interaction.state,
                queue: interaction.queue,
                owner: interaction.owner,
                parties: interaction.parties,
                messages: open.messages,
                last_at: open.last_at,
                supervisors: view.supervisors,
            });
        }
        Ok(live)
    }
}
