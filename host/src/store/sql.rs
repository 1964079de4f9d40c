//! Pieces of SQL text shared by the queries that are built, not literal.

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

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_placeholders_row_by_row() {
        assert_eq!(super::values(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::values(1, 1), "($1)");
    }
}
