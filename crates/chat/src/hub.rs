//! Live delivery: the open chats, who is in each (agents, supervisors and
//! how they supervise, the customer's connections), and the channels
//! frames reach them through. Nothing here is durable: messages are in the
//! store before they get here, and the hub is rebuilt from the store at
//! startup.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

use super::ChatError;
use parley_core::quota::Limited;
use parley_store::chat::{Party, Role};

/// Frames a customer's connection may fall behind by before it reads the
/// gap from the store (kept small: there is a channel per session).
const CUSTOMER_BUFFER: usize = 64;

/// Frames an account's connection may fall behind by before it is told to
/// re-read its transcripts.
const ACCOUNT_BUFFER: usize = 1024;

/// How long a typing indicator lasts without being repeated.
const TYPING_FOR: Duration = Duration::from_secs(6);

/// What a frame tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// A stored message.
    Message,
    /// Someone started or stopped typing.
    Typing,
    /// The chat ended.
    Ended,
    /// The account receiving it is no longer in the chat.
    Left,
}

/// One frame for the clients of a chat, serialized once.
#[derive(Debug, Clone)]
pub struct Frame {
    /// What it tells.
    pub kind: FrameKind,
    pub session: Arc<str>,
    /// The message's number, for message frames.
    pub seq: Option<i64>,
    /// Whether the customer gets it (everything but coaching).
    pub everyone: bool,
    /// For a coaching message, the agents it was written for: the other
    /// agents in the chat (who joined since) do not get it.
    pub coached: Option<Arc<[String]>>,
    /// The JSON text sent.
    pub text: Arc<str>,
}

/// How a supervisor takes part in a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
#[schema(as = SupervisionMode)]
pub enum Mode {
    /// Reads silently; nobody is told; cannot write.
    Monitor,
    /// Writes to the agents only.
    Coach,
    /// Writes to everyone.
    Barge,
}

struct LiveSession {
    customer: broadcast::Sender<Frame>,
    key_hash: String,
    nickname: String,
    members: BTreeSet<String>,
    supervisors: BTreeMap<String, Mode>,
    connections: usize,
    seen: Instant,
    ended: bool,
    /// Who is typing: role, whether the customer may see it (not a
    /// coach's), since when.
    typing: BTreeMap<String, (Role, bool, Instant)>,
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<String, LiveSession>,
    agents: HashMap<String, broadcast::Sender<Frame>>,
}

/// What the hub knows of an open session.
#[derive(Debug, Clone)]
pub struct SessionView {
    /// SHA-256 of the customer's key.
    pub key_hash: String,
    /// The customer's name.
    pub nickname: String,
    /// Agents in it (owner and conference parties).
    pub members: BTreeSet<String>,
    /// Supervisors and how they take part.
    pub supervisors: BTreeMap<String, Mode>,
    /// Whether it has ended.
    pub ended: bool,
}

/// The hub (cheap to clone).
#[derive(Clone, Default)]
pub struct Hub(Arc<Mutex<Inner>>);

/// A customer connection, counted while it lives (a customer with none
/// for longer than the resume window has left).
pub struct Connection {
    hub: Hub,
    session: String,
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(s) = self.hub.inner().sessions.get_mut(&self.session) {
            s.connections = s.connections.saturating_sub(1);
            s.seen = Instant::now();
        }
    }
}

impl Hub {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds an open session (nothing if it is there).
    pub fn open(&self, id: &str, key_hash: &str, nickname: &str, members: BTreeSet<String>) {
        self.inner()
            .sessions
            .entry(id.to_string())
            .or_insert_with(|| LiveSession {
                customer: broadcast::channel(CUSTOMER_BUFFER).0,
                key_hash: key_hash.to_string(),
                nickname: nickname.to_string(),
                members,
                supervisors: BTreeMap::new(),
                connections: 0,
                seen: Instant::now(),
                ended: false,
                typing: BTreeMap::new(),
            });
    }

    /// The session `id`, if it is open or recently ended.
    pub fn view(&self, id: &str) -> Option<SessionView> {
        self.inner().sessions.get(id).map(|s| SessionView {
            key_hash: s.key_hash.clone(),
            nickname: s.nickname.clone(),
            members: s.members.clone(),
            supervisors: s.supervisors.clone(),
            ended: s.ended,
        })
    }

    /// Whether the hub holds session `id`.
    pub fn contains(&self, id: &str) -> bool {
        self.inner().sessions.contains_key(id)
    }

    /// The ids of every session the hub holds.
    pub fn ids(&self) -> Vec<String> {
        self.inner().sessions.keys().cloned().collect()
    }

    /// Sends `frame` to the customer (unless coaching) and to the agents
    /// (those coached, for coaching) and supervisors of its session.
    pub fn deliver(&self, frame: Frame) {
        let inner = self.inner();
        let Some(session) = inner.sessions.get(&*frame.session) else {
            return;
        };
        let agents = session
            .members
            .iter()
            .filter(|agent| frame.coached.as_ref().is_none_or(|c| c.contains(agent)));
        for agent in agents.chain(session.supervisors.keys()) {
            if let Some(sender) = inner.agents.get(agent) {
                let _ = sender.send(frame.clone());
            }
        }
        if frame.everyone {
            let _ = session.customer.send(frame);
        }
    }

    /// Sends `frame` to one account's connections only.
    pub fn tell(&self, agent: &str, frame: Frame) {
        if let Some(sender) = self.inner().agents.get(agent) {
            let _ = sender.send(frame);
        }
    }

    /// Replaces the agents in a session; returns who joined and who left.
    pub fn set_members(&self, id: &str, members: BTreeSet<String>) -> (Vec<String>, Vec<String>) {
        let mut inner = self.inner();
        let Some(session) = inner.sessions.get_mut(id) else {
            return (Vec::new(), Vec::new());
        };
        let joined = members.difference(&session.members).cloned().collect();
        let left = session.members.difference(&members).cloned().collect();
        session.members = members;
        (joined, left)
    }

    /// Sets (or with `None` ends) how `agent` supervises session `id`;
    /// returns how it did before.
    pub fn supervise(&self, id: &str, agent: &str, mode: Option<Mode>) -> Option<Mode> {
        let mut inner = self.inner();
        let session = inner.sessions.get_mut(id)?;
        match mode {
            Some(mode) => session.supervisors.insert(agent.to_string(), mode),
            None => session.supervisors.remove(agent),
        }
    }

    /// Frames of session `id` for its customer, and the connection's
    /// count; refused when the session is not open or has `max`
    /// connections already.
    pub fn follow_customer(
        &self,
        id: &str,
        max: usize,
    ) -> Result<(broadcast::Receiver<Frame>, Connection), ChatError> {
        let mut inner = self.inner();
        let session = inner
            .sessions
            .get_mut(id)
            .ok_or_else(|| ChatError::Ended(id.to_string()))?;
        if session.connections >= max {
            return Err(Limited {
                what: "connections to this chat",
                retry_after: Duration::from_secs(1),
            }
            .into());
        }
        session.connections += 1;
        session.seen = Instant::now();
        let receiver = session.customer.subscribe();
        Ok((
            receiver,
            Connection {
                hub: self.clone(),
                session: id.to_string(),
            },
        ))
    }

    /// Notes that the customer of `id` was heard from.
    pub fn seen(&self, id: &str) {
        if let Some(s) = self.inner().sessions.get_mut(id) {
            s.seen = Instant::now();
        }
    }

    /// Frames of every session `agent` is in or supervises.
    pub fn follow_agent(&self, agent: &str) -> broadcast::Receiver<Frame> {
        self.inner()
            .agents
            .entry(agent.to_string())
            .or_insert_with(|| broadcast::channel(ACCOUNT_BUFFER).0)
            .subscribe()
    }

    /// Records and delivers a typing indicator. A stop is delivered only
    /// if `from` was typing.
    pub fn typing(&self, id: &str, from: &Party, typing: bool, everyone: bool) {
        {
            let mut inner = self.inner();
            let Some(session) = inner.sessions.get_mut(id) else {
                return;
            };
            if typing {
                session
                    .typing
                    .insert(from.name.clone(), (from.role, everyone, Instant::now()));
            } else if session.typing.remove(&from.name).is_none() {
                return;
            }
        }
        let text = serde_json::json!({
            "type": "typing",
            "session": id,
            "from": from,
            "typing": typing,
            "everyone": everyone,
        });
        self.deliver(Frame {
            kind: FrameKind::Typing,
            session: id.into(),
            seq: None,
            everyone,
            coached: None,
            text: text.to_string().into(),
        });
    }

    /// Who is typing in session `id` now: agents and supervisors the
    /// customer sees (not a coach) for the customer, the customer for
    /// agents.
    pub fn typing_now(&self, id: &str, for_customer: bool) -> Vec<String> {
        let inner = self.inner();
        let Some(session) = inner.sessions.get(id) else {
            return Vec::new();
        };
        session
            .typing
            .iter()
            .filter(|(_, (role, everyone, at))| {
                let side = if for_customer {
                    *role != Role::Customer && *everyone
                } else {
                    *role == Role::Customer
                };
                at.elapsed() < TYPING_FOR && side
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Marks session `id` ended and tells everyone in it.
    pub fn end(&self, id: &str, reason: &str) {
        match self.inner().sessions.get_mut(id) {
            Some(session) if !session.ended => {
                session.ended = true;
                session.seen = Instant::now();
            }
            _ => return,
        }
        let text = serde_json::json!({ "type": "ended", "session": id, "reason": reason });
        self.deliver(Frame {
            kind: FrameKind::Ended,
            session: id.into(),
            seq: None,
            everyone: true,
            coached: None,
            text: text.to_string().into(),
        });
    }

    /// Open sessions whose customer has had no connection for `window`.
    pub fn abandoned(&self, window: Duration) -> Vec<String> {
        self.inner()
            .sessions
            .iter()
            .filter(|(_, s)| !s.ended && s.connections == 0 && s.seen.elapsed() > window)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Forgets sessions that ended more than `after` ago.
    pub fn forget_ended(&self, after: Duration) {
        self.inner()
            .sessions
            .retain(|_, s| !(s.ended && s.seen.elapsed() > after));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(role: Role, name: &str) -> Party {
        Party {
            role,
            id: None,
            name: name.into(),
        }
    }

    fn frame(everyone: bool) -> Frame {
        Frame {
            kind: FrameKind::Message,
            session: "s".into(),
            seq: Some(1),
            everyone,
            coached: (!everyone).then(|| Arc::from(["alice".to_string()])),
            text: "{}".into(),
        }
    }

    #[test]
    fn coaching_reaches_agents_and_supervisors_but_not_the_customer() {
        let hub = Hub::default();
        hub.open("s", "h", "Ada", BTreeSet::from(["alice".to_string()]));
        let mut alice = hub.follow_agent("alice");
        let mut boss = hub.follow_agent("boss");
        let mut outsider = hub.follow_agent("mallory");
        let mut newcomer = hub.follow_agent("nick");
        let (mut customer, _connection) = hub.follow_customer("s", 1).unwrap();
        hub.supervise("s", "boss", Some(Mode::Coach));
        // Nick joins after the coaching message was written for Alice.
        hub.set_members(
            "s",
            BTreeSet::from(["alice".to_string(), "nick".to_string()]),
        );
        hub.deliver(frame(false));
        assert!(alice.try_recv().is_ok());
        assert!(boss.try_recv().is_ok());
        assert!(customer.try_recv().is_err());
        assert!(outsider.try_recv().is_err());
        assert!(
            newcomer.try_recv().is_err(),
            "coaching is for those coached"
        );
        hub.deliver(frame(true));
        assert!(customer.try_recv().is_ok());
    }

    #[test]
    fn members_changes_report_who_joined_and_left() {
        let hub = Hub::default();
        hub.open("s", "h", "Ada", BTreeSet::from(["alice".to_string()]));
        let (joined, left) = hub.set_members("s", BTreeSet::from(["bob".to_string()]));
        assert_eq!(
            (joined, left),
            (vec!["bob".to_string()], vec!["alice".to_string()])
        );
    }

    #[test]
    fn a_customer_without_connections_is_abandoned_after_the_window() {
        let hub = Hub::default();
        hub.open("s", "h", "Ada", BTreeSet::new());
        let connection = hub.follow_customer("s", 1).unwrap();
        assert!(matches!(
            hub.follow_customer("s", 1),
            Err(ChatError::Limited(_))
        ));
        assert!(hub.abandoned(Duration::ZERO).is_empty());
        drop(connection);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(
            hub.abandoned(Duration::from_millis(1)),
            vec!["s".to_string()]
        );
        assert!(hub.abandoned(Duration::from_secs(60)).is_empty());
        hub.end("s", "left");
        assert!(hub.abandoned(Duration::ZERO).is_empty());
    }

    #[test]
    fn typing_is_shown_to_the_other_side_only() {
        let hub = Hub::default();
        hub.open("s", "h", "Ada", BTreeSet::new());
        hub.typing("s", &party(Role::Customer, "Ada"), true, true);
        hub.typing("s", &party(Role::Agent, "Alice"), true, true);
        assert_eq!(hub.typing_now("s", true), vec!["Alice".to_string()]);
        assert_eq!(hub.typing_now("s", false), vec!["Ada".to_string()]);
        hub.typing("s", &party(Role::Agent, "Alice"), false, true);
        assert!(hub.typing_now("s", true).is_empty());
    }

    #[test]
    fn a_coach_typing_is_not_shown_to_the_customer() {
        let hub = Hub::default();
        hub.open("s", "h", "Ada", BTreeSet::new());
        hub.typing("s", &party(Role::Supervisor, "Sam"), true, false);
        assert!(hub.typing_now("s", true).is_empty());
        hub.typing("s", &party(Role::Supervisor, "Sam"), true, true);
        assert_eq!(hub.typing_now("s", true), vec!["Sam".to_string()]);
    }
}
