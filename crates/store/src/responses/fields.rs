//! Field codes in standard responses: `{contact.first-name}`,
//! `{agent.name}`, `{interaction.subject}`... filled in by the server for
//! one interaction, its contact and the agent replying.
//!
//! | Code | Value |
//! |---|---|
//! | `{customer}` | the name the customer gave in the interaction (a chat's nickname), else the contact's name |
//! | `{agent}`, `{agent.name}` | the agent's name |
//! | `{agent.id}` | the agent's account id |
//! | `{contact.name}` | the contact's display name (else first and last names, else `{customer}`) |
//! | `{contact.first-name}` | the contact's first name, else `{contact.name}` |
//! | `{contact.last-name}` | the contact's last name |
//! | `{contact.email}`, `{contact.phone}` | the contact's first e-mail address, phone number |
//! | `{contact.id}` | the contact's id |
//! | `{contact.attributes.KEY}` | the contact's attribute `KEY` (text as is, other values as JSON) |
//! | `{interaction.id}`, `{interaction.subject}`, `{interaction.queue}`, `{interaction.media-type}` | the interaction's |
//!
//! A known code without a value becomes empty text. An unknown code
//! (`{contact.nmae}`) stays as written and is reported, so a typo shows;
//! braces around anything else (`{ not a code }`) are plain text.

use serde::Serialize;
use serde_json::Value as Json;
use std::collections::BTreeMap;

use crate::history::Content;
use crate::{Contact, Interaction};

/// Codes whose value is the contact's attribute named by the rest.
const ATTRIBUTES: &str = "contact.attributes.";
/// Longest field code.
const MAX_CODE: usize = 100;

/// What field codes are filled in from; any part may be missing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// The interaction replied to.
    pub interaction: Option<&'a Interaction>,
    /// What its channel stored of it.
    pub content: Option<&'a Content>,
    pub contact: Option<&'a Contact>,
    /// The agent replying: account id and name.
    pub agent: Option<(&'a str, &'a str)>,
}

/// A text with its field codes filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Rendered {
    pub text: String,
    /// Unknown field codes, left as written.
    pub unknown: Vec<String>,
}

/// The values of the field codes for one context.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    values: BTreeMap<&'static str, String>,
    attributes: serde_json::Map<String, Json>,
}

impl Fields {
    /// The values `context` gives.
    pub fn new(context: Context<'_>) -> Fields {
        let Context {
            interaction,
            content,
            contact,
            agent,
        } = context;
        let given_name = content.and_then(|c| c.customer_name.clone());
        let contact_name = contact.and_then(Contact::display_name);
        let customer = given_name.clone().or_else(|| contact_name.clone());
        let name = contact_name.or(given_name);
        let of_contact = |field: fn(&Contact) -> Option<String>| contact.and_then(field);
        let first_name = of_contact(|c| c.first_name.clone()).or_else(|| name.clone());
        let values = [
            ("customer", customer),
            ("agent", agent.map(|(_, name)| name.to_string())),
            ("agent.name", agent.map(|(_, name)| name.to_string())),
            ("agent.id", agent.map(|(id, _)| id.to_string())),
            ("contact.name", name),
            ("contact.first-name", first_name),
            ("contact.last-name", of_contact(|c| c.last_name.clone())),
            ("contact.email", of_contact(|c| c.emails.first().cloned())),
            ("contact.phone", of_contact(|c| c.phones.first().cloned())),
            ("contact.id", of_contact(|c| Some(c.id.clone()))),
            ("interaction.id", interaction.map(|i| i.id.clone())),
            (
                "interaction.subject",
                content.and_then(|c| c.subject.clone()),
            ),
            (
                "interaction.queue",
                interaction.and_then(|i| i.queue.clone()),
            ),
            (
                "interaction.media-type",
                interaction.map(|i| i.media_type.clone()),
            ),
        ];
        Fields {
            values: values
                .into_iter()
                .map(|(code, value)| (code, value.unwrap_or_default()))
                .collect(),
            attributes: contact.map(|c| c.attributes.clone()).unwrap_or_default(),
        }
    }

    /// The value of `code`; `None` for an unknown code.
    fn value(&self, code: &str) -> Option<String> {
        if let Some(key) = code.strip_prefix(ATTRIBUTES) {
            return Some(match self.attributes.get(key) {
                None | Some(Json::Null) => String::new(),
                Some(Json::String(text)) => text.clone(),
                Some(other) => other.to_string(),
            });
        }
        self.values.get(code).cloned()
    }

    /// `text` with its field codes filled in.
    pub fn render(&self, text: &str) -> Rendered {
        let mut out = String::with_capacity(text.len());
        let mut unknown: Vec<String> = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let code = after.find('}').map(|close| &after[..close]);
            match code.filter(|code| is_code(code)) {
                Some(code) => {
                    match self.value(code) {
                        Some(value) => out.push_str(&value),
                        None => {
                            out.push_str(&rest[open..open + code.len() + 2]);
                            if !unknown.iter().any(|u| u == code) {
                                unknown.push(code.to_string());
                            }
                        }
                    }
                    rest = &after[code.len() + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        Rendered { text: out, unknown }
    }
}

/// Whether `text` has the shape of a field code.
fn is_code(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_CODE
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contact() -> Contact {
        Contact {
            id: "c1".into(),
            name: Some("Ada Lovelace".into()),
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            attributes: json!({"segment": "gold", "orders": 3})
                .as_object()
                .unwrap()
                .clone(),
            emails: vec!["ada@example.com".into()],
            phones: vec![],
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn codes_are_filled_in() {
        let contact = contact();
        let content = Content {
            subject: Some("Refund".into()),
            customer_name: Some("ada_l".into()),
            ..Content::default()
        };
        let fields = Fields::new(Context {
            contact: Some(&contact),
            content: Some(&content),
            agent: Some(("ann", "Ann Smith")),
            ..Context::default()
        });
        let rendered = fields.render(
            "Dear {contact.first-name} {contact.last-name} ({customer}), {agent} here about \
             \"{interaction.subject}\"; tier {contact.attributes.segment}/{contact.attributes.orders}, \
             phone {contact.phone}.",
        );
        assert_eq!(
            rendered.text,
            "Dear Ada Lovelace (ada_l), Ann Smith here about \"Refund\"; tier gold/3, phone ."
        );
        assert!(rendered.unknown.is_empty());
    }

    #[test]
    fn names_fall_back_to_what_the_customer_gave() {
        let content = Content {
            customer_name: Some("Bob".into()),
            ..Content::default()
        };
        let fields = Fields::new(Context {
            content: Some(&content),
            ..Context::default()
        });
        assert_eq!(
            fields
                .render("{contact.name}|{contact.first-name}|{customer}")
                .text,
            "Bob|Bob|Bob"
        );
    }

    #[test]
    fn unknown_codes_stay_and_other_braces_are_text() {
        let fields = Fields::new(Context::default());
        let rendered = fields.render("{contact.nmae} {{agent}} { x } {a b} {} {unclosed");
        assert_eq!(rendered.text, "{contact.nmae} {} { x } {a b} {} {unclosed");
        assert_eq!(rendered.unknown, ["contact.nmae"]);
        assert_eq!(fields.render("émoji {agent}🙂").text, "émoji 🙂");
    }
}
