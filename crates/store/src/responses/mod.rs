//! Standard responses: texts agents insert into replies, in a tree of
//! categories, with field codes the server fills in ([`crate::responses::fields`]).
//! The whole library moves between servers as one file ([`library`]).

pub mod fields;
pub mod library;

use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

use super::error::StoreError;
use super::writer::{Outcome, Tx, Written};
use library::{Library, Mode};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StandardResponse {
    /// Id (generated when absent).
    #[serde(default)]
    pub id: String,
    /// Short name shown in pick lists.
    pub name: String,
    /// The id of its category, if it has one.
    #[serde(default)]
    pub category: Option<String>,
    /// The text, with field codes such as `{contact.name}`.
    pub text: String,
}

/// A category of standard responses: a node of a tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Category {
    /// Id (generated when absent).
    #[serde(default)]
    pub id: String,
    /// Name shown to agents.
    pub name: String,
    /// The id of the category it is in; none at the top.
    #[serde(default)]
    pub parent: Option<String>,
}

/// Ids the API's paths use under `/v1/responses/`.
const RESERVED_IDS: [&str; 2] = ["export", "import"];
/// Longest id.
const MAX_ID: usize = 128;
/// Longest name.
const MAX_NAME: usize = 200;
/// Longest response text, in characters.
const MAX_TEXT: usize = 100_000;

fn invalid(message: String) -> StoreError {
    StoreError::Invalid(message)
}

fn check_id(what: &str, id: &str) -> Result<(), StoreError> {
    if id.trim().is_empty() || id.chars().count() > MAX_ID || id.chars().any(char::is_control) {
        return Err(invalid(format!(
            "a {what} id must be 1 to {MAX_ID} characters, without control characters"
        )));
    }
    Ok(())
}

fn check_name(what: &str, id: &str, name: &str) -> Result<(), StoreError> {
    if name.trim().is_empty() || name.chars().count() > MAX_NAME {
        return Err(invalid(format!(
            "{what} `{id}` needs a name of 1 to {MAX_NAME} characters"
        )));
    }
    Ok(())
}

impl StandardResponse {
    /// Checks the fields (not that its category exists).
    pub fn check(&self) -> Result<(), StoreError> {
        check_id("response", &self.id)?;
        if RESERVED_IDS.contains(&self.id.as_str()) {
            return Err(invalid(format!("`{}` cannot be a response's id", self.id)));
        }
        check_name("response", &self.id, &self.name)?;
        if self.text.trim().is_empty() || self.text.chars().count() > MAX_TEXT {
            return Err(invalid(format!(
                "response `{}` needs a text of 1 to {MAX_TEXT} characters",
                self.id
            )));
        }
        Ok(())
    }
}

impl Category {
    /// Checks the fields (not that its parent exists).
    pub fn check(&self) -> Result<(), StoreError> {
        check_id("category", &self.id)?;
        check_name("category", &self.id, &self.name)
    }
}

/// Checks a whole library as it would be stored: every parent and every
/// response's category exists, and no category is its own ancestor.
fn check_tree<'a>(
    categories: &BTreeMap<String, Category>,
    responses: impl IntoIterator<Item = &'a StandardResponse>,
) -> Result<(), StoreError> {
    for category in categories.values() {
        let mut seen = 0;
        let mut parent = category.parent.as_deref();
        while let Some(id) = parent {
            let Some(up) = categories.get(id) else {
                return Err(invalid(format!(
                    "category `{}` is in category `{id}`, which does not exist",
                    category.id
                )));
            };
            seen += 1;
            if up.id == category.id || seen > categories.len() {
                return Err(invalid(format!(
                    "category `{}` would be inside itself",
                    category.id
                )));
            }
            parent = up.parent.as_deref();
        }
    }
    for response in responses {
        if let Some(id) = &response.category
            && !categories.contains_key(id)
        {
            return Err(invalid(format!(
                "response `{}` is in category `{id}`, which does not exist",
                response.id
            )));
        }
    }
    Ok(())
}

/// A write to the library.
pub(super) enum ResponseWrite {
    /// Creates or replaces a response, by id.
    Put(StandardResponse),
    /// Deletes a response by id.
    Delete(String),
    /// Creates or replaces a category, by id.
    PutCategory(Category),
    /// Deletes an empty category by id.
    DeleteCategory(String),
    /// Imports a library file.
    Import { library: Library, mode: Mode },
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

pub(super) async fn apply(tx: &mut Tx<'_>, write: &ResponseWrite) -> Result<Outcome, StoreError> {
    match write {
        ResponseWrite::Put(response) => {
            checked!(response.check());
            let categories = categories(tx.conn).await?;
            checked!(check_tree(&by_id(categories), [response]));
            put(tx, response).await?;
        }
        ResponseWrite::Delete(id) => {
            if !delete(tx, "DELETE FROM responses WHERE id = $1", id).await? {
                return Ok(Err(not_found("response", id)));
            }
        }
        ResponseWrite::PutCategory(category) => {
            checked!(category.check());
            let mut all = by_id(categories(tx.conn).await?);
            all.insert(category.id.clone(), category.clone());
            checked!(check_tree(&all, []));
            put_category(tx, category).await?;
        }
        ResponseWrite::DeleteCategory(id) => return delete_category(tx, id).await,
        ResponseWrite::Import { library, mode } => {
            checked!(library.check());
            let (mut all_categories, mut all_responses) = match mode {
                Mode::Replace => (BTreeMap::new(), BTreeMap::new()),
                Mode::Merge => (
                    by_id(categories(tx.conn).await?),
                    list(tx.conn)
                        .await?
                        .into_iter()
                        .map(|r| (r.id.clone(), r))
                        .collect(),
                ),
            };
            for category in &library.categories {
                all_categories.insert(category.id.clone(), category.clone());
            }
            for response in &library.responses {
                all_responses.insert(response.id.clone(), response.clone());
            }
            checked!(check_tree(&all_categories, all_responses.values()));
            if *mode == Mode::Replace {
                for table in ["DELETE FROM responses", "DELETE FROM response_categories"] {
                    sqlx::query(table).execute(&mut *tx.conn).await?;
                }
            }
            for category in &library.categories {
                put_category(tx, category).await?;
            }
            for response in &library.responses {
                put(tx, response).await?;
            }
        }
    }
    Ok(Ok(Written::Done))
}

fn not_found(what: &'static str, id: &str) -> StoreError {
    StoreError::NotFound {
        what,
        id: id.to_string(),
    }
}

fn by_id(categories: Vec<Category>) -> BTreeMap<String, Category> {
    categories.into_iter().map(|c| (c.id.clone(), c)).collect()
}

/// Runs a `DELETE ... WHERE id = $1`; whether it deleted a row.
async fn delete(tx: &mut Tx<'_>, statement: &'static str, id: &str) -> Result<bool, StoreError> {
    let deleted = sqlx::query(statement)
        .bind(id)
        .execute(&mut *tx.conn)
        .await?
        .rows_affected();
    Ok(deleted > 0)
}

async fn put(tx: &mut Tx<'_>, response: &StandardResponse) -> Result<(), StoreError> {
    delete(tx, "DELETE FROM responses WHERE id = $1", &response.id).await?;
    sqlx::query(
        "INSERT INTO responses (id, name, category_id, text, updated_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&response.id)
    .bind(&response.name)
    .bind(&response.category)
    .bind(&response.text)
    .bind(tx.now)
    .execute(&mut *tx.conn)
    .await?;
    Ok(())
}

async fn put_category(tx: &mut Tx<'_>, category: &Category) -> Result<(), StoreError> {
    delete(
        tx,
        "DELETE FROM response_categories WHERE id = $1",
        &category.id,
    )
    .await?;
    sqlx::query(
        "INSERT INTO response_categories (id, name, parent_id, updated_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&category.id)
    .bind(&category.name)
    .bind(&category.parent)
    .bind(tx.now)
    .execute(&mut *tx.conn)
    .await?;
    Ok(())
}

async fn delete_category(tx: &mut Tx<'_>, id: &str) -> Result<Outcome, StoreError> {
    let children: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM response_categories WHERE parent_id = $1) + (SELECT COUNT(*) FROM responses WHERE category_id = $1)",
    )
    .bind(id)
    .fetch_one(&mut *tx.conn)
    .await?;
    if children > 0 {
        return Ok(Err(StoreError::Conflict(format!(
            "category `{id}` is not empty: move or delete its categories and responses first"
        ))));
    }
    if !delete(tx, "DELETE FROM response_categories WHERE id = $1", id).await? {
        return Ok(Err(not_found("category", id)));
    }
    Ok(Ok(Written::Done))
}

/// Every standard response, by name.
pub(super) async fn list(conn: &mut AnyConnection) -> Result<Vec<StandardResponse>, StoreError> {
    let rows = sqlx::query("SELECT id, name, category_id, text FROM responses ORDER BY name, id")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(StandardResponse {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                category: row.try_get("category_id")?,
                text: row.try_get("text")?,
            })
        })
        .collect()
}

/// Every category, by id.
pub(super) async fn categories(conn: &mut AnyConnection) -> Result<Vec<Category>, StoreError> {
    let rows = sqlx::query("SELECT id, name, parent_id FROM response_categories ORDER BY id")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Category {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                parent: row.try_get("parent_id")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn category(id: &str, parent: Option<&str>) -> Category {
        Category {
            id: id.into(),
            name: id.to_uppercase(),
            parent: parent.map(String::from),
        }
    }

    fn response(id: &str, category: Option<&str>) -> StandardResponse {
        StandardResponse {
            id: id.into(),
            name: id.into(),
            category: category.map(String::from),
            text: "Hello {customer}".into(),
        }
    }

    #[test]
    fn a_tree_needs_its_parents_and_no_cycle() {
        let good = by_id(vec![category("a", None), category("b", Some("a"))]);
        assert!(check_tree(&good, [&response("r", Some("b"))]).is_ok());
        let orphan = by_id(vec![category("b", Some("a"))]);
        assert!(check_tree(&orphan, []).is_err());
        let cycle = by_id(vec![category("a", Some("b")), category("b", Some("a"))]);
        let err = check_tree(&cycle, []).unwrap_err().to_string();
        assert!(err.contains("inside itself"), "{err}");
        let own = by_id(vec![category("a", Some("a"))]);
        assert!(check_tree(&own, []).is_err());
        assert!(check_tree(&good, [&response("r", Some("zzz"))]).is_err());
    }

    #[test]
    fn paths_of_the_api_are_not_response_ids() {
        assert!(response("export", None).check().is_err());
        assert!(response("", None).check().is_err());
        assert!(response("ok", None).check().is_ok());
    }
}
