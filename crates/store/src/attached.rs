//! Typed attached data: `[{"key": "order", "value": {"text": "AB12"}}]`,
//! the same shape as the WIT `attribute` list plugins see.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// A typed value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Value {
    /// UTF-8 text.
    Text(String),
    /// A signed 64-bit integer.
    Integer(i64),
    /// A floating-point number.
    Decimal(f64),
    /// A flag.
    Boolean(bool),
    /// Milliseconds since the Unix epoch.
    Timestamp(u64),
    /// A list of texts.
    Texts(Vec<String>),
}

/// One key of attached data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    /// The key, unique in its list.
    pub key: String,
    pub value: Value,
}

/// Most attributes on one interaction.
const MAX_ATTRIBUTES: usize = 256;

/// Parses and checks attached data: a list of attributes with unique,
/// non-empty keys.
pub fn parse(json: &Json) -> Result<Vec<Attribute>, String> {
    let list: Vec<Attribute> = serde_json::from_value(json.clone()).map_err(|e| {
        format!("attached must be a list of {{\"key\": ..., \"value\": {{\"text\": ...}}}}: {e}")
    })?;
    if list.len() > MAX_ATTRIBUTES {
        return Err(format!("at most {MAX_ATTRIBUTES} attributes"));
    }
    let mut keys = std::collections::BTreeSet::new();
    for attribute in &list {
        if attribute.key.trim().is_empty() {
            return Err("an attribute has an empty key".into());
        }
        if !keys.insert(attribute.key.as_str()) {
            return Err(format!("attribute `{}` is given twice", attribute.key));
        }
    }
    Ok(list)
}

/// The attribute `key` as text, if it is text.
pub fn text<'a>(list: &'a [Attribute], key: &str) -> Option<&'a str> {
    list.iter()
        .find(|a| a.key == key)
        .and_then(|a| match &a.value {
            Value::Text(text) => Some(text.as_str()),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attributes_parse_with_their_types() {
        let list = parse(&json!([
            {"key": "order", "value": {"text": "AB12"}},
            {"key": "amount", "value": {"decimal": 12.5}},
            {"key": "tags", "value": {"texts": ["a", "b"]}},
        ]))
        .unwrap();
        assert_eq!(text(&list, "order"), Some("AB12"));
        assert_eq!(list[1].value, Value::Decimal(12.5));
    }

    #[test]
    fn malformed_attributes_are_refused() {
        assert!(parse(&json!({"order": "x"})).is_err());
        assert!(parse(&json!([{"key": "x", "value": {"colour": "red"}}])).is_err());
        let twice = parse(&json!([
            {"key": "x", "value": {"text": "1"}},
            {"key": "x", "value": {"text": "2"}},
        ]));
        assert_eq!(twice.unwrap_err(), "attribute `x` is given twice");
    }
}
