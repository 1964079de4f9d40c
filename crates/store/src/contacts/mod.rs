//! Contacts: the customers behind interactions, known by their e-mail
//! addresses and phone numbers ([`identity`]), with a name and free
//! attributes. An interaction's `contact_id` names its contact. Merging
//! contacts leaves the merged ones as tombstones pointing at the survivor,
//! and every read of a tombstone answers with the survivor.
//!
//! Writes (identification, creation, changes, merges, deletion) go
//! through the writer: [`write`].

pub mod identity;
pub(super) mod write;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value as Json};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::error::StoreError;
use super::interactions::json_column;
use identity::{EMAIL, PHONE, Reference};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Contact {
    /// Time-ordered unique id (UUIDv7).
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Free attributes, e.g. `{"segment": "gold"}`.
    #[schema(value_type = Object)]
    pub attributes: Map<String, Json>,
    /// E-mail addresses, normalised.
    pub emails: Vec<String>,
    /// Phone numbers, normalised (`+` and digits).
    pub phones: Vec<String>,
    /// Created at, ms since the Unix epoch.
    pub created_at: i64,
    /// Last changed at.
    pub updated_at: i64,
}

impl Contact {
    /// The name to address the contact by: the display name, else first
    /// and last names.
    pub fn display_name(&self) -> Option<String> {
        if let Some(name) = &self.name {
            return Some(name.clone());
        }
        let parts: Vec<&str> = [&self.first_name, &self.last_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// Who an interaction's customer is, as a channel learns it: what
/// [`crate::Store::identify`] takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// E-mail addresses (normalised by the store).
    pub emails: Vec<String>,
    /// Phone numbers with their country code (normalised by the store).
    pub phones: Vec<String>,
    /// The name the customer gave, if any.
    pub name: Option<String>,
}

/// A contact to create.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NewContact {
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    /// Free attributes.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: Map<String, Json>,
    /// E-mail addresses (each may belong to one contact only).
    #[serde(default)]
    pub emails: Vec<String>,
    /// Phone numbers (each may belong to one contact only).
    #[serde(default)]
    pub phones: Vec<String>,
}

/// Changes to a contact: a field left out stays as it is; a name set to
/// `null` is cleared; each attribute given is set, or removed if `null`;
/// `emails` and `phones`, when given, replace the lists.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ContactPatch {
    /// New display name.
    #[serde(default, deserialize_with = "present")]
    pub name: Option<Option<String>>,
    /// New first name.
    #[serde(default, deserialize_with = "present")]
    pub first_name: Option<Option<String>>,
    /// New last name.
    #[serde(default, deserialize_with = "present")]
    pub last_name: Option<Option<String>>,
    /// Attributes to set (`null`: remove).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: Map<String, Json>,
    /// The e-mail addresses, all of them.
    #[serde(default)]
    pub emails: Option<Vec<String>>,
    /// The phone numbers, all of them.
    #[serde(default)]
    pub phones: Option<Vec<String>>,
}

/// A field that is present, perhaps `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Longest name.
const MAX_NAME: usize = 200;
/// Most attributes on a contact.
const MAX_ATTRIBUTES: usize = 100;
/// Longest attribute key.
const MAX_KEY: usize = 64;
/// Most bytes of a contact's attributes as JSON.
const MAX_ATTRIBUTE_BYTES: usize = 16 * 1024;

/// A name trimmed, `None` if empty; refused if too long.
pub(super) fn clean_name(name: Option<&str>) -> Result<Option<String>, StoreError> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "a name is at most {MAX_NAME} characters, without control characters"
        )));
    }
    Ok(Some(name.to_string()))
}

/// Refuses attributes that are too many, too large or badly keyed.
pub(super) fn check_attributes(attributes: &Map<String, Json>) -> Result<(), StoreError> {
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(StoreError::Invalid(format!(
            "at most {MAX_ATTRIBUTES} attributes"
        )));
    }
    if let Some(key) = attributes
        .keys()
        .find(|k| k.trim().is_empty() || k.chars().count() > MAX_KEY)
    {
        return Err(StoreError::Invalid(format!(
            "attribute key `{key}` must be 1 to {MAX_KEY} characters"
        )));
    }
    if Json::Object(attributes.clone()).to_string().len() > MAX_ATTRIBUTE_BYTES {
        return Err(StoreError::Invalid(format!(
            "a contact's attributes are at most {MAX_ATTRIBUTE_BYTES} bytes of JSON"
        )));
    }
    Ok(())
}

/// A stored contact and, for a tombstone, the contact it was merged into.
pub(super) struct Stored {
    pub contact: Contact,
    pub merged_into: Option<String>,
}

fn from_row(row: &AnyRow) -> Result<Stored, StoreError> {
    Ok(Stored {
        contact: Contact {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            attributes: json_column(row, "attributes")?,
            emails: Vec::new(),
            phones: Vec::new(),
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        },
        merged_into: row.try_get("merged_into")?,
    })
}

/// The contact `id` as stored (a tombstone too), with its identities.
pub(super) async fn load(conn: &mut AnyConnection, id: &str) -> Result<Option<Stored>, StoreError> {
    let row = sqlx::query(
        "SELECT id, name, first_name, last_name, attributes, merged_into, created_at, updated_at FROM contacts WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(mut stored) = row.as_ref().map(from_row).transpose()? else {
        return Ok(None);
    };
    let identities: Vec<(String, String)> = sqlx::query_as(
        "SELECT kind, value FROM contact_identities WHERE contact_id = $1 ORDER BY added_at, value",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    for (kind, value) in identities {
        match kind.as_str() {
            EMAIL => stored.contact.emails.push(value),
            PHONE => stored.contact.phones.push(value),
            _ => {}
        }
    }
    Ok(Some(stored))
}

/// The contact that owns identity `value` of `kind`.
pub(super) async fn owner(
    conn: &mut AnyConnection,
    kind: &str,
    value: &str,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT contact_id FROM contact_identities WHERE kind = $1 AND value = $2",
    )
    .bind(kind)
    .bind(value)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The live contact `id` names: itself, or the contact a tombstone was
/// merged into (merges keep tombstones pointing at a live contact).
pub(super) async fn live(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Contact>, StoreError> {
    match load(conn, id).await? {
        Some(Stored {
            merged_into: Some(survivor),
            ..
        }) => Ok(load(conn, &survivor).await?.map(|s| s.contact)),
        Some(stored) => Ok(Some(stored.contact)),
        None => Ok(None),
    }
}

/// The live contact a reference (`email:...`, `phone:...` or an id) names.
pub(super) async fn find(
    conn: &mut AnyConnection,
    reference: &Reference,
) -> Result<Option<Contact>, StoreError> {
    let id = match reference {
        Reference::Id(id) => id.clone(),
        Reference::Identity(kind, value) => match owner(conn, kind, value).await? {
            Some(id) => id,
            None => return Ok(None),
        },
    };
    live(conn, &id).await
}

/// `text` as a `LIKE` pattern matching it anywhere, `\` escaping.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// What identities a query looks for: a phone number's digits if it looks
/// like one, else the query lower-cased.
fn identity_query(query: &str) -> String {
    let phone_like = query
        .chars()
        .all(|c| c.is_ascii_digit() || " +-./()".contains(c));
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    if phone_like && digits.len() >= 3 {
        digits
    } else {
        query.to_lowercase()
    }
}

/// Live contacts whose names or identities contain `query` (every live
/// contact if it is empty), most recently changed first.
pub(super) async fn search(
    conn: &mut AnyConnection,
    query: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<Contact>, StoreError> {
    let query: String = query.trim().chars().filter(|c| !c.is_control()).collect();
    let query = query.as_str();
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM contacts WHERE merged_into IS NULL AND ($1 = '' OR LOWER(COALESCE(name, '')) LIKE $2 ESCAPE '\\' OR LOWER(COALESCE(first_name, '')) LIKE $2 ESCAPE '\\' OR LOWER(COALESCE(last_name, '')) LIKE $2 ESCAPE '\\' OR id IN (SELECT contact_id FROM contact_identities WHERE value LIKE $3 ESCAPE '\\')) ORDER BY updated_at DESC, id DESC LIMIT $4 OFFSET $5",
    )
    .bind(query)
    .bind(contains_pattern(&query.to_lowercase()))
    .bind(contains_pattern(&identity_query(query)))
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let mut contacts = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(stored) = load(conn, &id).await? {
            contacts.push(stored.contact);
        }
    }
    Ok(contacts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn phone_like_queries_look_for_digits() {
        assert_eq!(identity_query("+44 (20) 7946"), "44207946");
        assert_eq!(identity_query("Ada@Example"), "ada@example");
        assert_eq!(identity_query("12"), "12");
    }

    #[test]
    fn a_patch_tells_a_null_from_a_missing_field() {
        let patch: ContactPatch =
            serde_json::from_str(r#"{"name": null, "first-name": "Ada"}"#).unwrap();
        assert_eq!(patch.name, Some(None));
        assert_eq!(patch.first_name, Some(Some("Ada".into())));
        assert_eq!(patch.last_name, None);
    }
}
