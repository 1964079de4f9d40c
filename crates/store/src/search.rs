//! Full-text search over the history: interactions are found by their
//! documents (a subject, a chat message everyone saw, an e-mail body...),
//! indexed inside the writer's transaction that writes their content, so
//! what is acknowledged is searchable. SQLite indexes with FTS5, PostgreSQL
//! with a `tsvector` column and a GIN index (both without stemming or stop
//! words, so both find the same words).
//!
//! A write indexes a document with [`Tx::index`]; queries from people go
//! through [`fts_query`], which quotes every word, so no input can break
//! either database's query syntax.

use parley_core::Media;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use super::access::Reader;
use super::error::StoreError;
use super::interactions::{self, Interaction, columns};
use super::writer::Tx;
use super::{Backend, sql};

/// A text an interaction is found by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub interaction_id: String,
    pub channel: Media,
    /// When the text was written, ms since the Unix epoch.
    pub at: i64,
    /// The text (indexed up to [`MAX_INDEXED_CHARS`]).
    pub text: String,
}

/// Most characters of one document that are indexed.
pub const MAX_INDEXED_CHARS: usize = 100_000;
/// Most words of a query.
const MAX_WORDS: usize = 16;
/// Longest word of a query, in characters.
const MAX_WORD: usize = 100;

impl Tx<'_> {
    /// Indexes `document` with the batch (written before the commit,
    /// like events). Blank texts are skipped.
    pub fn index(&mut self, mut document: Document) {
        if document.text.trim().is_empty() {
            return;
        }
        if let Some((cut, _)) = document.text.char_indices().nth(MAX_INDEXED_CHARS) {
            document.text.truncate(cut);
        }
        self.documents.push(document);
    }
}

/// Inserts documents inside the writer's transaction, many rows per
/// statement (the database indexes them as they are inserted).
pub(super) async fn insert_all(
    conn: &mut AnyConnection,
    documents: &[Document],
) -> Result<(), StoreError> {
    for chunk in documents.chunks(sql::ROWS_PER_INSERT) {
        let text = format!(
            "INSERT INTO search_documents (interaction_id, channel, at, text) VALUES {}",
            sql::values(chunk.len(), 4)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(text));
        for d in chunk {
            query = query
                .bind(d.interaction_id.clone())
                .bind(d.channel.as_str().to_string())
                .bind(d.at)
                .bind(d.text.clone());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A query from a person as a full-text query both databases read alike
/// (FTS5's `MATCH` and PostgreSQL's `websearch_to_tsquery`): every word
/// (split at white space, its double quotes and control characters
/// dropped) becomes a quoted phrase, and all must match. Words without a
/// letter or digit are dropped; `None` when none is left.
pub fn fts_query(query: &str) -> Option<String> {
    let words: Vec<String> = query
        .split_whitespace()
        .map(|word| {
            word.chars()
                .filter(|c| *c != '"' && !c.is_control())
                .take(MAX_WORD)
                .collect::<String>()
        })
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .take(MAX_WORDS)
        .map(|word| format!("\"{word}\""))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// An interaction found, with where its newest match is.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Hit {
    pub interaction: Interaction,
    /// The channel of the newest matching document.
    #[schema(value_type = String)]
    pub channel: Media,
    /// When that document was written.
    pub at: i64,
    /// An extract of it, the matched words between `**`.
    pub snippet: String,
}

/// What is searched for.
pub(super) struct Found<'a> {
    /// Made by [`fts_query`].
    pub query: &'a str,
    /// Only this contact's interactions, if given.
    pub contact: Option<&'a str>,
    /// Only the interactions this reader sees.
    pub reader: &'a Reader,
}

/// Interactions matching `found`, newest first: at most `limit` after
/// skipping `offset`.
pub(super) async fn search(
    pool: &AnyPool,
    backend: Backend,
    found: Found<'_>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Hit>, StoreError> {
    let (matching, newest_match) = match backend {
        Backend::Sqlite => (
            "id IN (SELECT d.interaction_id FROM search_fts JOIN search_documents d ON d.id = search_fts.rowid WHERE search_fts MATCH $1)",
            "SELECT d.channel AS channel, d.at AS at, snippet(search_fts, 0, '**', '**', '…', 16) AS snippet FROM search_fts JOIN search_documents d ON d.id = search_fts.rowid WHERE search_fts MATCH $1 AND d.interaction_id = $2 ORDER BY d.at DESC, d.id DESC LIMIT 1",
        ),
        Backend::Postgres => (
            "id IN (SELECT interaction_id FROM search_documents WHERE tsv @@ websearch_to_tsquery('simple', $1))",
            "SELECT channel, at, ts_headline('simple', text, websearch_to_tsquery('simple', $1), 'StartSel=**, StopSel=**, MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=\" … \"') AS snippet FROM search_documents WHERE tsv @@ websearch_to_tsquery('simple', $1) AND interaction_id = $2 ORDER BY at DESC, id DESC LIMIT 1",
        ),
    };
    let text = format!(
        "SELECT {} FROM interactions WHERE {matching} AND (CAST($2 AS TEXT) IS NULL OR contact_id = $2) AND {} ORDER BY submitted_at DESC, id DESC LIMIT $3 OFFSET $4",
        columns!(),
        found.reader.condition(backend, 5),
    );
    let query = sqlx::query(sqlx::AssertSqlSafe(text))
        .bind(found.query)
        .bind(found.contact)
        .bind(limit)
        .bind(offset);
    let query = found.reader.bound(query);
    let rows = query.fetch_all(pool).await?;
    let mut hits = Vec::with_capacity(rows.len());
    for row in &rows {
        let interaction = interactions::from_row(row)?;
        let found: Option<AnyRow> = sqlx::query(newest_match)
            .bind(found.query)
            .bind(&interaction.id)
            .fetch_optional(pool)
            .await?;
        // Deleted between the two reads: not a hit any more.
        let Some(found) = found else { continue };
        hits.push(Hit {
            channel: Media::parse(found.try_get("channel")?),
            at: found.try_get("at")?,
            snippet: found.try_get("snippet")?,
            interaction,
        });
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_is_quoted_and_quotes_are_dropped() {
        assert_eq!(
            fts_query(r#"  invoice "wrong" ada@example.com "#).as_deref(),
            Some(r#""invoice" "wrong" "ada@example.com""#)
        );
        assert_eq!(
            fts_query(r#"a"b OR -c NEAR(d) e*"#).as_deref(),
            Some(r#""ab" "OR" "-c" "NEAR(d)" "e*""#)
        );
        assert_eq!(fts_query("in\u{0}voice").as_deref(), Some(r#""invoice""#));
    }

    #[test]
    fn queries_without_words_are_nothing() {
        assert_eq!(fts_query(""), None);
        assert_eq!(fts_query(r#" "" *** -- ( ) "#), None);
    }

    #[test]
    fn queries_are_bounded() {
        let long = "word ".repeat(40);
        assert_eq!(
            fts_query(&long).unwrap().matches('"').count(),
            2 * MAX_WORDS
        );
        let huge = "x".repeat(1000);
        assert_eq!(fts_query(&huge).unwrap().len(), MAX_WORD + 2);
    }
}
