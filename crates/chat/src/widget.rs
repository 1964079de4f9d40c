//! What an anonymous customer may choose when starting a chat, declared
//! per site's widget (`[[chat.widget]]`): the queues it may pick and the
//! attached-data keys it may set. Anything else a customer sends cannot
//! steer routing: another queue is refused, other keys are dropped (and
//! logged), and what is kept has a size limit.

use serde::Deserialize;
use serde_json::Value as Json;

use super::ChatError;
use parley_store::attached::{self, Attribute};

/// `[[chat.widget]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Widget {
    /// The name the widget sends (`data-widget` on its script tag).
    pub name: String,
    /// Queues its customers may pick; the first is where chats go when
    /// they pick none (none: `[chat] queue` only).
    #[serde(default)]
    pub queues: Vec<String>,
    /// Attached-data keys its customers may set (none: no attached data).
    #[serde(default)]
    pub attached_keys: Vec<String>,
    /// Largest attached data kept, in bytes of JSON.
    #[serde(default = "default_max_attached_bytes")]
    pub max_attached_bytes: usize,
}

fn default_max_attached_bytes() -> usize {
    4096
}

/// The widget of a chat start that names none, when the settings declare
/// no widget of that name: `[chat] queue`, no attached data.
pub const DEFAULT_WIDGET: &str = "default";

impl Widget {
    /// The built-in widget: `queue` only, no attached data.
    pub fn default_for(queue: &str) -> Widget {
        Widget {
            name: DEFAULT_WIDGET.into(),
            queues: vec![queue.to_string()],
            attached_keys: Vec::new(),
            max_attached_bytes: default_max_attached_bytes(),
        }
    }

    /// The queue a chat enters: the one asked for if this widget offers
    /// it, else its first.
    pub fn queue(&self, asked: Option<&str>) -> Result<String, ChatError> {
        match asked {
            None => self
                .queues
                .first()
                .cloned()
                .ok_or_else(|| ChatError::Invalid("the widget offers no queue".into())),
            Some(queue) if self.queues.iter().any(|q| q == queue) => Ok(queue.to_string()),
            Some(queue) => Err(ChatError::Invalid(format!(
                "queue `{queue}` is not open to customers of widget `{}`",
                self.name
            ))),
        }
    }

    /// The attached data kept from what the customer sent: the keys this
    /// widget allows (the others are dropped and logged), within its size.
    pub fn attached(&self, sent: Option<&Json>) -> Result<Vec<Attribute>, ChatError> {
        let Some(sent) = sent else {
            return Ok(Vec::new());
        };
        let list = attached::parse(sent).map_err(ChatError::Invalid)?;
        let (kept, dropped): (Vec<Attribute>, Vec<Attribute>) = list
            .into_iter()
            .partition(|a| self.attached_keys.contains(&a.key));
        if !dropped.is_empty() {
            let keys: Vec<&str> = dropped.iter().map(|a| a.key.as_str()).collect();
            tracing::warn!(
                widget = %self.name,
                ?keys,
                "attached data a customer may not set was dropped"
            );
        }
        let size = serde_json::to_string(&kept).map_or(usize::MAX, |json| json.len());
        if size > self.max_attached_bytes {
            return Err(ChatError::Invalid(format!(
                "the attached data has {size} bytes; widget `{}` takes at most {}",
                self.name, self.max_attached_bytes
            )));
        }
        Ok(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn widget() -> Widget {
        Widget {
            name: "shop".into(),
            queues: vec!["sales".into(), "returns".into()],
            attached_keys: vec!["order-id".into()],
            max_attached_bytes: 100,
        }
    }

    #[test]
    fn a_customer_picks_only_the_widgets_queues() {
        let w = widget();
        assert_eq!(w.queue(None).unwrap(), "sales");
        assert_eq!(w.queue(Some("returns")).unwrap(), "returns");
        assert!(matches!(w.queue(Some("vip")), Err(ChatError::Invalid(_))));
    }

    #[test]
    fn only_allowed_keys_are_kept_within_the_size() {
        let w = widget();
        let sent = json!([
            {"key": "order-id", "value": {"text": "A-1"}},
            {"key": "vip", "value": {"boolean": true}},
            {"key": "skills", "value": {"texts": ["billing"]}},
        ]);
        assert_eq!(
            serde_json::to_value(w.attached(Some(&sent)).unwrap()).unwrap(),
            json!([{"key": "order-id", "value": {"text": "A-1"}}])
        );
        let big = json!([{"key": "order-id", "value": {"text": "x".repeat(200)}}]);
        assert!(matches!(w.attached(Some(&big)), Err(ChatError::Invalid(_))));
        assert!(matches!(
            w.attached(Some(&json!({"not": "a list"}))),
            Err(ChatError::Invalid(_))
        ));
    }
}
