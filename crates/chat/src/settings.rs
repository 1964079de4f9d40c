//! `[chat]` settings.

use serde::Deserialize;

use super::masking::Rule;

/// `[chat]`: where chats go, how long a customer may resume, limits on
/// messages and files, and the privacy masking rules.
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

fn default_masking() -> Vec<Rule> {
    vec![Rule::card_numbers()]
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
        }
    }
}
