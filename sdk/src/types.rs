//! The shared types of `parley:plugin/types`, with constructors and
//! look-ups that make plugin code read naturally.

pub use crate::bindings::parley::plugin::types::{
    AgentCandidate, Attribute, CategoryMatch, ContactSummary, Content, Error, ErrorKind,
    ExtractedField, Interaction, MediaLoad, ScreenRequest, ScreenResult, SkillLevel, Value,
};

impl Error {
    /// An error of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// The input was not acceptable.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// Anything else went wrong.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
}

impl ErrorKind {
    /// The kind's name as the WIT spells it, e.g. `invalid-input`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid-input",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Denied => "denied",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Internal => "internal",
        }
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Text(text)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Integer(n)
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Decimal(x)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Boolean(b)
    }
}

impl Value {
    /// The text, if this value is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The texts of a `texts` value, or the one text of a `text` value.
    pub fn texts(&self) -> Vec<&str> {
        match self {
            Value::Text(text) => vec![text.as_str()],
            Value::Texts(texts) => texts.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

impl Attribute {
    /// An attribute `key` = `value`.
    pub fn new(key: impl Into<String>, value: impl Into<Value>) -> Self {
        Attribute {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// Looks `key` up in a list of attributes.
pub fn find_attribute<'a>(attributes: &'a [Attribute], key: &str) -> Option<&'a Value> {
    attributes.iter().find(|a| a.key == key).map(|a| &a.value)
}

impl Interaction {
    /// The attached-data value under `key`.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        find_attribute(&self.attached, key)
    }
}

impl Content {
    /// Plain-text content.
    pub fn plain(text: impl Into<String>) -> Self {
        Content {
            content_type: "text/plain".into(),
            text: text.into(),
        }
    }
}
