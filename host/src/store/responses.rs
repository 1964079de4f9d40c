//! Standard responses: texts agents insert into replies, by category.

use serde::{Deserialize, Serialize};
use sqlx::{AnyPool, Row};

use super::error::StoreError;
use super::writer::{Outcome, Tx, Written};

/// A standard response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StandardResponse {
    /// Id (generated when absent).
    #[serde(default)]
    pub id: String,
    /// Short name shown in pick lists.
    pub name: String,
    /// Category, for grouping.
    #[serde(default)]
    pub category: String,
    /// The text; `{customer}` and `{agent}` are filled in when inserted.
    pub text: String,
}

/// A write to the responses.
pub(super) enum ResponseWrite {
    /// Creates or replaces one, by id.
    Put(StandardResponse),
    /// Deletes one by id.
    Delete(String),
}

pub(super) async fn apply(tx: &mut Tx<'_>, write: &ResponseWrite) -> Result<Outcome, StoreError> {
    match write {
        ResponseWrite::Put(response) => {
            sqlx::query("DELETE FROM responses WHERE id = $1")
                .bind(&response.id)
                .execute(&mut *tx.conn)
                .await?;
            sqlx::query(
                "INSERT INTO responses (id, name, category, text, updated_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&response.id)
            .bind(&response.name)
            .bind(&response.category)
            .bind(&response.text)
            .bind(tx.now)
            .execute(&mut *tx.conn)
            .await?;
            Ok(Ok(Written::Done))
        }
        ResponseWrite::Delete(id) => {
            let deleted = sqlx::query("DELETE FROM responses WHERE id = $1")
                .bind(id)
                .execute(&mut *tx.conn)
                .await?
                .rows_affected();
            Ok(if deleted == 0 {
                Err(StoreError::NotFound {
                    what: "response",
                    id: id.clone(),
                })
            } else {
                Ok(Written::Done)
            })
        }
    }
}

/// Every standard response, by category and name.
pub(super) async fn list(pool: &AnyPool) -> Result<Vec<StandardResponse>, StoreError> {
    let rows =
        sqlx::query("SELECT id, name, category, text FROM responses ORDER BY category, name")
            .fetch_all(pool)
            .await?;
    rows.iter()
        .map(|row| {
            Ok(StandardResponse {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                category: row.try_get("category")?,
                text: row.try_get("text")?,
            })
        })
        .collect()
}
