//! The writes to contacts, applied by the writer: identification (find or
//! create by identities), creation, changes, merges and deletion. Each
//! checks everything before it writes, so a refusal changes nothing.

use serde_json::{Map, Value as Json};

use super::identity::{EMAIL, PHONE, Reference, normalise_all};
use super::{
    Contact, ContactPatch, Identity, NewContact, Stored, check_attributes, clean_name, live, load,
    owner,
};
use crate::StoreError;
use crate::writer::{Outcome, Tx, Written};

pub(crate) enum ContactWrite {
    /// Finds the contact owning any of the identities, or creates it.
    Identify(Identity),
    /// Creates a contact.
    Create(NewContact),
    /// Changes a contact.
    Update { id: String, patch: ContactPatch },
    /// Deletes a contact that has no interactions.
    Delete(String),
    /// Merges contacts `from` into `into`.
    Merge { into: String, from: Vec<String> },
}

/// Answers the caller with a check's refusal; database failures go on.
macro_rules! checked {
    ($check:expr) => {
        match $check {
            Ok(value) => value,
            Err(refusal) => return Ok(Err(refusal)),
        }
    };
}

pub(crate) async fn apply(tx: &mut Tx<'_>, write: &ContactWrite) -> Result<Outcome, StoreError> {
    let contact = match write {
        ContactWrite::Identify(identity) => identify(tx, identity).await?,
        ContactWrite::Create(new) => create(tx, new).await?,
        ContactWrite::Update { id, patch } => update(tx, id, patch).await?,
        ContactWrite::Delete(id) => return delete(tx, id).await,
        ContactWrite::Merge { into, from } => merge(tx, into, from).await?,
    };
    Ok(contact.map(Written::Contact))
}

/// An identity of a kind, normalised.
type Tagged = (&'static str, String);

fn tagged(emails: Vec<String>, phones: Vec<String>) -> Vec<Tagged> {
    let emails = emails.into_iter().map(|e| (EMAIL, e));
    emails
        .chain(phones.into_iter().map(|p| (PHONE, p)))
        .collect()
}

/// The contact owning the first of the identities that has an owner, given
/// the identities it lacks (those no other contact owns) and a name if it
/// had none; a new contact if no identity has an owner. Used by the
/// channels inside their own writes (a chat's start).
pub(crate) async fn identify(
    tx: &mut Tx<'_>,
    identity: &Identity,
) -> Result<Result<Contact, StoreError>, StoreError> {
    let given = tagged(
        checked!(normalise_all(EMAIL, &identity.emails)),
        checked!(normalise_all(PHONE, &identity.phones)),
    );
    let name = checked!(clean_name(identity.name.as_deref()));
    if given.is_empty() {
        return Ok(Err(StoreError::Invalid(
            "identifying a contact needs an e-mail address or a phone number".into(),
        )));
    }
    let mut found = None;
    let mut unowned = Vec::new();
    for (kind, value) in &given {
        match owner(tx.conn, kind, value).await? {
            Some(id) => {
                found.get_or_insert(id);
            }
            None => unowned.push((*kind, value.clone())),
        }
    }
    let id = match found {
        None => insert(tx, name, None, None, &Map::new()).await?,
        Some(id) => {
            let Some(Stored { mut contact, .. }) = load(tx.conn, &id).await? else {
                return Err(StoreError::Database(format!(
                    "an identity belongs to contact `{id}`, which does not exist"
                )));
            };
            if (contact.name.is_none() && name.is_some()) || !unowned.is_empty() {
                contact.name = contact.name.or(name);
                save(tx, &contact).await?;
            }
            id
        }
    };
    add_identities(tx, &id, &unowned).await?;
    reload(tx, &id).await.map(Ok)
}

/// The attribute a contact made for an unproven claim of an address
/// carries: the address claimed.
pub const UNVERIFIED_EMAIL: &str = "unverified-email";

/// The contact of a customer who typed an address nobody proved theirs (a
/// pre-chat form). If no contact owns the address, one is created owning
/// it, as [`identify`] does. If a contact owns it already, the customer is
/// not let into that contact (its history, its details): a new contact is
/// made that claims the address unverified (attribute `unverified-email`),
/// for staff to merge into the owner once they know it is the same person.
pub(crate) async fn claimed(
    tx: &mut Tx<'_>,
    email: &str,
    name: Option<&str>,
) -> Result<Result<Contact, StoreError>, StoreError> {
    let address = checked!(normalise_all(EMAIL, &[email.to_string()]))
        .pop()
        .unwrap_or_default();
    if owner(tx.conn, EMAIL, &address).await?.is_none() {
        let identity = Identity {
            emails: vec![address],
            phones: Vec::new(),
            name: name.map(str::to_string),
        };
        return identify(tx, &identity).await;
    }
    let name = checked!(clean_name(name));
    let attributes = Map::from_iter([(UNVERIFIED_EMAIL.to_string(), Json::String(address))]);
    let id = insert(tx, name, None, None, &attributes).await?;
    reload(tx, &id).await.map(Ok)
}

/// The contact an interaction's `contact_id` names: an identity
/// (`email:...`, `phone:...`) is identified, creating its contact if new;
/// an id is followed past a merge. An unknown id is refused.
pub(crate) async fn for_interaction(
    tx: &mut Tx<'_>,
    reference: &str,
) -> Result<Result<String, StoreError>, StoreError> {
    let identity = match checked!(Reference::parse(reference)) {
        Reference::Id(id) => {
            return Ok(match live(tx.conn, &id).await? {
                Some(contact) => Ok(contact.id),
                None => Err(StoreError::Invalid(format!(
                    "contact `{id}` does not exist"
                ))),
            });
        }
        Reference::Identity(EMAIL, value) => Identity {
            emails: vec![value],
            ..Identity::default()
        },
        Reference::Identity(_, value) => Identity {
            phones: vec![value],
            ..Identity::default()
        },
    };
    Ok(identify(tx, &identity).await?.map(|contact| contact.id))
}

async fn reload(tx: &mut Tx<'_>, id: &str) -> Result<Contact, StoreError> {
    load(tx.conn, id)
        .await?
        .map(|stored| stored.contact)
        .ok_or_else(|| StoreError::Database(format!("contact `{id}` vanished while written")))
}

fn no_contact(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "contact",
        id: id.to_string(),
    }
}

/// Inserts a contact without identities; its new id.
async fn insert(
    tx: &mut Tx<'_>,
    name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    attributes: &Map<String, Json>,
) -> Result<String, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO contacts (id, name, first_name, last_name, attributes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&id)
    .bind(name)
    .bind(first_name)
    .bind(last_name)
    .bind(Json::Object(attributes.clone()).to_string())
    .bind(tx.now)
    .execute(&mut *tx.conn)
    .await?;
    Ok(id)
}

/// Writes a contact's names and attributes, and the time of the change.
async fn save(tx: &mut Tx<'_>, contact: &Contact) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE contacts SET name = $2, first_name = $3, last_name = $4, attributes = $5, updated_at = $6 WHERE id = $1",
    )
    .bind(&contact.id)
    .bind(&contact.name)
    .bind(&contact.first_name)
    .bind(&contact.last_name)
    .bind(Json::Object(contact.attributes.clone()).to_string())
    .bind(tx.now)
    .execute(&mut *tx.conn)
    .await?;
    Ok(())
}

async fn add_identities(
    tx: &mut Tx<'_>,
    id: &str,
    identities: &[Tagged],
) -> Result<(), StoreError> {
    for (kind, value) in identities {
        sqlx::query(
            "INSERT INTO contact_identities (kind, value, contact_id, added_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(*kind)
        .bind(value)
        .bind(id)
        .bind(tx.now)
        .execute(&mut *tx.conn)
        .await?;
    }
    Ok(())
}

/// Refuses identities another contact than `me` owns.
async fn check_free(
    tx: &mut Tx<'_>,
    me: Option<&str>,
    identities: &[Tagged],
) -> Result<Result<(), StoreError>, StoreError> {
    for (kind, value) in identities {
        if let Some(other) = owner(tx.conn, kind, value).await?
            && Some(other.as_str()) != me
        {
            let what = if *kind == EMAIL {
                "e-mail address"
            } else {
                "phone number"
            };
            return Ok(Err(StoreError::Conflict(format!(
                "{what} `{value}` belongs to contact `{other}`"
            ))));
        }
    }
    Ok(Ok(()))
}

async fn create(
    tx: &mut Tx<'_>,
    new: &NewContact,
) -> Result<Result<Contact, StoreError>, StoreError> {
    let name = checked!(clean_name(new.name.as_deref()));
    let first_name = checked!(clean_name(new.first_name.as_deref()));
    let last_name = checked!(clean_name(new.last_name.as_deref()));
    checked!(check_attributes(&new.attributes));
    let identities = tagged(
        checked!(normalise_all(EMAIL, &new.emails)),
        checked!(normalise_all(PHONE, &new.phones)),
    );
    checked!(check_free(tx, None, &identities).await?);
    let id = insert(tx, name, first_name, last_name, &new.attributes).await?;
    add_identities(tx, &id, &identities).await?;
    reload(tx, &id).await.map(Ok)
}

/// `value` if given (a name, cleaned), else `current`.
fn patched(
    value: &Option<Option<String>>,
    current: Option<String>,
) -> Result<Option<String>, StoreError> {
    match value {
        Some(value) => clean_name(value.as_deref()),
        None => Ok(current),
    }
}

async fn update(
    tx: &mut Tx<'_>,
    id: &str,
    patch: &ContactPatch,
) -> Result<Result<Contact, StoreError>, StoreError> {
    let Some(mut contact) = live(tx.conn, id).await? else {
        return Ok(Err(no_contact(id)));
    };
    contact.name = checked!(patched(&patch.name, contact.name.take()));
    contact.first_name = checked!(patched(&patch.first_name, contact.first_name.take()));
    contact.last_name = checked!(patched(&patch.last_name, contact.last_name.take()));
    for (key, value) in &patch.attributes {
        match value {
            Json::Null => contact.attributes.remove(key),
            value => contact.attributes.insert(key.clone(), value.clone()),
        };
    }
    checked!(check_attributes(&contact.attributes));
    let mut replaced: Vec<(&'static str, Vec<String>)> = Vec::new();
    for (kind, given) in [(EMAIL, &patch.emails), (PHONE, &patch.phones)] {
        if let Some(given) = given {
            replaced.push((kind, checked!(normalise_all(kind, given))));
        }
    }
    let wanted: Vec<Tagged> = replaced
        .iter()
        .flat_map(|(kind, values)| values.iter().map(|v| (*kind, v.clone())))
        .collect();
    checked!(check_free(tx, Some(&contact.id), &wanted).await?);
    save(tx, &contact).await?;
    for (kind, values) in &replaced {
        let current = if *kind == EMAIL {
            &contact.emails
        } else {
            &contact.phones
        };
        for gone in current.iter().filter(|v| !values.contains(v)) {
            sqlx::query("DELETE FROM contact_identities WHERE kind = $1 AND value = $2")
                .bind(*kind)
                .bind(gone)
                .execute(&mut *tx.conn)
                .await?;
        }
        let added: Vec<Tagged> = values
            .iter()
            .filter(|v| !current.contains(v))
            .map(|v| (*kind, v.clone()))
            .collect();
        add_identities(tx, &contact.id, &added).await?;
    }
    reload(tx, &contact.id).await.map(Ok)
}

async fn delete(tx: &mut Tx<'_>, id: &str) -> Result<Outcome, StoreError> {
    let Some(stored) = load(tx.conn, id).await? else {
        return Ok(Err(no_contact(id)));
    };
    if let Some(survivor) = stored.merged_into {
        return Ok(Err(StoreError::Conflict(format!(
            "contact `{id}` was merged into `{survivor}`"
        ))));
    }
    let interactions: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM interactions WHERE contact_id = $1")
            .bind(id)
            .fetch_one(&mut *tx.conn)
            .await?;
    if interactions > 0 {
        return Ok(Err(StoreError::Conflict(format!(
            "contact `{id}` has {interactions} interactions; only a contact without any can be deleted (merge it into another instead)"
        ))));
    }
    for statement in [
        "DELETE FROM contact_identities WHERE contact_id = $1",
        "DELETE FROM contacts WHERE merged_into = $1",
        "DELETE FROM contacts WHERE id = $1",
    ] {
        sqlx::query(statement)
            .bind(id)
            .execute(&mut *tx.conn)
            .await?;
    }
    Ok(Ok(Written::Done))
}

/// Merges `from` into `into`: their identities and interactions move to
/// the survivor, which keeps its attributes and names and takes those it
/// lacks (from the first merged contact that has them; an unverified claim
/// of an address is settled by the merge and not taken); the merged ones
/// become tombstones pointing at it, and so do their own tombstones.
async fn merge(
    tx: &mut Tx<'_>,
    into: &str,
    from: &[String],
) -> Result<Result<Contact, StoreError>, StoreError> {
    if from.is_empty() {
        return Ok(Err(StoreError::Invalid(
            "name the contacts to merge into this one".into(),
        )));
    }
    let Some(mut survivor) = live(tx.conn, into).await? else {
        return Ok(Err(no_contact(into)));
    };
    let mut merged: Vec<Contact> = Vec::new();
    for id in from {
        let Some(contact) = live(tx.conn, id).await? else {
            return Ok(Err(no_contact(id)));
        };
        if id == into || id == &survivor.id {
            return Ok(Err(StoreError::Invalid(format!(
                "contact `{id}` cannot be merged into itself"
            ))));
        }
        // A tombstone of the survivor is merged already.
        if contact.id != survivor.id && !merged.iter().any(|m| m.id == contact.id) {
            merged.push(contact);
        }
    }
    for contact in &merged {
        // A claim merged into a contact is settled: the merge is the proof.
        let settled = |key: &&String| key.as_str() != UNVERIFIED_EMAIL;
        for (key, value) in contact.attributes.iter().filter(|(key, _)| settled(key)) {
            survivor
                .attributes
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }
        survivor.name = survivor.name.or_else(|| contact.name.clone());
        survivor.first_name = survivor.first_name.or_else(|| contact.first_name.clone());
        survivor.last_name = survivor.last_name.or_else(|| contact.last_name.clone());
    }
    checked!(check_attributes(&survivor.attributes));
    for contact in &merged {
        for statement in [
            "UPDATE contact_identities SET contact_id = $1 WHERE contact_id = $2",
            "UPDATE interactions SET contact_id = $1 WHERE contact_id = $2",
            "UPDATE contacts SET merged_into = $1 WHERE merged_into = $2",
        ] {
            sqlx::query(statement)
                .bind(&survivor.id)
                .bind(&contact.id)
                .execute(&mut *tx.conn)
                .await?;
        }
        sqlx::query("UPDATE contacts SET merged_into = $1, updated_at = $2 WHERE id = $3")
            .bind(&survivor.id)
            .bind(tx.now)
            .bind(&contact.id)
            .execute(&mut *tx.conn)
            .await?;
    }
    save(tx, &survivor).await?;
    reload(tx, &survivor.id).await.map(Ok)
}
