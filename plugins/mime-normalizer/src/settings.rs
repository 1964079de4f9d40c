//! The transformer's settings: `[config.inbound]` and `[config.outbound]`
//! of the manifest. Unknown keys and invalid header names are refused.

use serde::Deserialize;
use std::collections::BTreeMap;

/// Header changes of one direction.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(try_from = "HeaderRulesTable")]
pub struct HeaderRules {
    /// Names of fields to remove, ignoring case; a `*` at the end matches
    /// any rest (`X-Spam-*`).
    pub drop_headers: Vec<String>,
    /// Fields to set, by name (added in name order below the others). A
    /// field of that name already present is replaced, unless it is the
    /// only one and has that value already.
    pub add_headers: BTreeMap<String, String>,
}

/// `[config.inbound]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "InboundTable")]
pub struct Inbound {
    /// Whether to unwrap messages forwarded as attachments.
    pub unwrap_forwarded: bool,
    /// How many characters of text of their own (signature excluded) a
    /// forwarder may write for the message still to count as a bare
    /// forward.
    pub max_own_text: usize,
    /// Header changes, applied to the unwrapped message if there is one.
    pub headers: HeaderRules,
}

/// `[config.outbound]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Outbound {
    /// Header changes.
    pub headers: HeaderRules,
}

/// Default of `max-own-text`: about a short line ("FYI, see the attached
/// message from our customer").
pub const DEFAULT_MAX_OWN_TEXT: usize = 80;

impl Default for Inbound {
    fn default() -> Self {
        Inbound {
            unwrap_forwarded: true,
            max_own_text: DEFAULT_MAX_OWN_TEXT,
            headers: HeaderRules::default(),
        }
    }
}

impl HeaderRules {
    /// Whether these rules change nothing.
    pub fn is_empty(&self) -> bool {
        self.drop_headers.is_empty() && self.add_headers.is_empty()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct HeaderRulesTable {
    #[serde(default)]
    drop_headers: Vec<String>,
    #[serde(default)]
    add_headers: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct InboundTable {
    #[serde(default)]
    unwrap_forwarded: Option<bool>,
    #[serde(default)]
    max_own_text: Option<usize>,
    #[serde(default)]
    drop_headers: Vec<String>,
    #[serde(default)]
    add_headers: BTreeMap<String, String>,
}

/// Whether `name` is a field name: printable US-ASCII without `:`, here
/// also without `*` (reserved for patterns).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| (33..=126).contains(&b) && b != b':' && b != b'*')
}

impl TryFrom<HeaderRulesTable> for HeaderRules {
    type Error = String;

    fn try_from(table: HeaderRulesTable) -> Result<Self, String> {
        for pattern in &table.drop_headers {
            let name = pattern.strip_suffix('*').unwrap_or(pattern);
            if !(valid_name(name) || name.is_empty() && pattern == "*") {
                return Err(format!(
                    "drop-headers: `{pattern}` is not a header name or `Prefix-*`"
                ));
            }
        }
        if let Some(bad) = table.add_headers.keys().find(|name| !valid_name(name)) {
            return Err(format!("add-headers: `{bad}` is not a header name"));
        }
        Ok(HeaderRules {
            drop_headers: table.drop_headers,
            add_headers: table.add_headers,
        })
    }
}

impl TryFrom<InboundTable> for Inbound {
    type Error = String;

    fn try_from(table: InboundTable) -> Result<Self, String> {
        let defaults = Inbound::default();
        Ok(Inbound {
            unwrap_forwarded: table.unwrap_forwarded.unwrap_or(defaults.unwrap_forwarded),
            max_own_text: table.max_own_text.unwrap_or(defaults.max_own_text),
            headers: HeaderRulesTable {
                drop_headers: table.drop_headers,
                add_headers: table.add_headers,
            }
            .try_into()?,
        })
    }
}
