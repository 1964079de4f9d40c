//! Pieces shared by the queries: SQL text of built (not literal)
//! statements, and enum names in text columns.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::error::StoreError;

/// Rows per multi-row `INSERT` statement.
pub(super) const ROWS_PER_INSERT: usize = 128;

/// The `VALUES` list of a multi-row insert of `rows` rows of `columns`
/// values each: `($1, $2), ($3, $4)`. Only placeholders go into the text;
/// values are bound.
pub(super) fn values(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| {
            let placeholders: Vec<String> = (1..=columns)
                .map(|column| format!("${}", row * columns + column))
                .collect();
            format!("({})", placeholders.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The serialized name of a unit enum variant.
pub(super) fn name_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// Reads back a text column written with [`name_of`].
pub(super) fn parse_name<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    column: &str,
) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    serde_json::from_value(serde_json::Value::String(text.clone()))
        .map_err(|_| StoreError::Database(format!("column {column}: unknown value `{text}`")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_placeholders_row_by_row() {
        assert_eq!(super::values(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::values(1, 1), "($1)");
    }
}
