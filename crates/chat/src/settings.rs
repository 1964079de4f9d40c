//! `[chat]` settings.

use serde::Deserialize;

use super::ChatError;
use super::widget::{DEFAULT_WIDGET, Widget};
use parley_core::masking::Rule;
use parley_core::quota::Rate;

/// `[chat]`: where chats go, how long a customer may resume, limits on
/// messages, files and sockets per session, and the privacy masking
/// rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ChatSettings {
    /// The queue new chats enter unless the customer names another.
    #[serde(default = "default_queue")]
    pub queue: String,
    /// The tenant chats belong to.
    #[serde(default = "default_tenant")]
    pub tenant: String,
    /// How long a customer who lost the connection may resume, in seconds;
    /// after that they have left.
    #[serde(default = "default_resume_window")]
    pub resume_window_s: u64,
    /// Longest message, in characters.
    #[serde(default = "default_max_message_chars")]
    pub max_message_chars: usize,
    /// Largest file, in bytes.
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: usize,
    /// Media types of files that may be sent.
    #[serde(default = "default_file_types")]
    pub file_types: Vec<String>,
    /// Privacy masking rules (default: card numbers masked).
    #[serde(default = "default_masking")]
    pub masking: Vec<Rule>,
    /// Messages and URLs a customer may send, per session.
    #[serde(default = "default_customer_messages")]
    pub customer_messages: Rate,
    /// Files a session may hold.
    #[serde(default = "default_max_files_per_session")]
    pub max_files_per_session: i64,
    /// Bytes a session's files may add up to.
    #[serde(default = "default_max_file_bytes_per_session")]
    pub max_file_bytes_per_session: i64,
    /// WebSockets open at once on one session (the customer's).
    #[serde(default = "default_max_sockets_per_session")]
    pub max_sockets_per_session: usize,
    /// What each site's customers may choose.
    #[serde(default)]
    pub widget: Vec<Widget>,
}

fn default_queue() -> String {
    "inbound".into()
}

fn default_tenant() -> String {
    "default".into()
}

fn default_resume_window() -> u64 {
    300
}

fn default_max_message_chars() -> usize {
    4000
}

fn default_max_file_bytes() -> usize {
    5 * 1024 * 1024
}

fn default_file_types() -> Vec<String> {
    [
        "image/png",
        "image/jpeg",
        "image/gif",
        "application/pdf",
        "text/plain",
    ]
    .map(String::from)
    .to_vec()
}

fn default_customer_messages() -> Rate {
    Rate::new(60, 20)
}

fn default_max_files_per_session() -> i64 {
    10
}

fn default_max_file_bytes_per_session() -> i64 {
    25 * 1024 * 1024
}

fn default_max_sockets_per_session() -> usize {
    3
}

fn default_masking() -> Vec<Rule> {
    vec![Rule::card_numbers()]
}

impl ChatSettings {
    /// Largest WebSocket message a customer may send: a message of the
    /// longest length in four-byte characters, with room for its frame.
    pub fn max_frame_bytes(&self) -> usize {
        self.max_message_chars * 4 + 1024
    }

    /// The widget `name` (`default` if none): as declared, or the
    /// built-in default.
    pub fn widget(&self, name: Option<&str>) -> Result<Widget, ChatError> {
        let name = name.unwrap_or(DEFAULT_WIDGET);
        match self.widget.iter().find(|w| w.name == name) {
            Some(widget) if widget.queues.is_empty() => Ok(Widget {
                queues: vec![self.queue.clone()],
                ..widget.clone()
            }),
            Some(widget) => Ok(widget.clone()),
            None if name == DEFAULT_WIDGET => Ok(Widget::default_for(&self.queue)),
            None => Err(ChatError::Invalid(format!(
                "there is no chat widget `{name}`"
            ))),
        }
    }
}

impl Default for ChatSettings {
    fn default() -> Self {
        ChatSettings {
            queue: default_queue(),
            tenant: default_tenant(),
            resume_window_s: default_resume_window(),
            max_message_chars: default_max_message_chars(),
            max_file_bytes: default_max_file_bytes(),
            file_types: default_file_types(),
            masking: default_masking(),
            customer_messages: default_customer_messages(),
            max_files_per_session: default_max_files_per_session(),
            max_file_bytes_per_session: default_max_file_bytes_per_session(),
            max_sockets_per_session: default_max_sockets_per_session(),
            widget: Vec::new(),
        }
    }
}
