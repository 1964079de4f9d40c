//! The library file: every category and standard response as one JSON
//! document, to move a library between servers or keep it in version
//! control.
//!
//! ```json
//! {
//!   "format": "parley-responses",
//!   "version": 1,
//!   "categories": [{"id": "greetings", "name": "Greetings", "parent": null}],
//!   "responses": [{"id": "hello", "name": "Hello", "category": "greetings",
//!                  "text": "Hello {contact.first-name}, ..."}]
//! }
//! ```
//!
//! Categories and responses are listed by id, so exporting the same
//! library twice gives the same file. An import either merges by id
//! (what the file has is created or replaced, the rest stays) or replaces
//! the whole library; either way it is checked as a whole first and
//! applied in one transaction, so a bad file changes nothing.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use super::{Category, StandardResponse};
use crate::StoreError;

/// The `format` of a library file.
pub const FORMAT: &str = "parley-responses";
/// The version of the format this server reads and writes.
pub const VERSION: u32 = 1;
/// Most categories in a file.
const MAX_CATEGORIES: usize = 2_000;
/// Most responses in a file.
const MAX_RESPONSES: usize = 20_000;

/// A library file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Library {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format's version: [`VERSION`].
    pub version: u32,
    /// Every category.
    pub categories: Vec<Category>,
    /// Every response.
    pub responses: Vec<StandardResponse>,
}

/// How an import treats what the server has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
#[schema(as = ImportMode)]
pub enum Mode {
    /// Creates or replaces what the file has, by id; keeps the rest.
    #[default]
    Merge,
    /// The file becomes the whole library.
    Replace,
}

impl Library {
    /// The file of these categories and responses, listed by id.
    pub fn new(mut categories: Vec<Category>, mut responses: Vec<StandardResponse>) -> Library {
        categories.sort_by(|a, b| a.id.cmp(&b.id));
        responses.sort_by(|a, b| a.id.cmp(&b.id));
        Library {
            format: FORMAT.into(),
            version: VERSION,
            categories,
            responses,
        }
    }

    /// Checks the file on its own: format, version, sizes, every entry,
    /// and ids given once. (That the tree holds together is checked
    /// against what it is imported into.)
    pub fn check(&self) -> Result<(), StoreError> {
        if self.format != FORMAT {
            return Err(StoreError::Invalid(format!(
                "not a library file: `format` is `{}`, not `{FORMAT}`",
                self.format
            )));
        }
        if self.version != VERSION {
            return Err(StoreError::Invalid(format!(
                "library files of version {} cannot be read; this server reads version {VERSION}",
                self.version
            )));
        }
        if self.categories.len() > MAX_CATEGORIES || self.responses.len() > MAX_RESPONSES {
            return Err(StoreError::Invalid(format!(
                "a library file holds at most {MAX_CATEGORIES} categories and {MAX_RESPONSES} responses"
            )));
        }
        let mut ids = BTreeSet::new();
        for category in &self.categories {
            category.check()?;
            if !ids.insert(category.id.as_str()) {
                return Err(twice("category", &category.id));
            }
        }
        ids.clear();
        for response in &self.responses {
            response.check()?;
            if !ids.insert(response.id.as_str()) {
                return Err(twice("response", &response.id));
            }
        }
        Ok(())
    }
}

fn twice(what: &str, id: &str) -> StoreError {
    StoreError::Invalid(format!("{what} `{id}` is in the file twice"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library(categories: &[(&str, Option<&str>)], responses: &[&str]) -> Library {
        Library::new(
            categories
                .iter()
                .map(|(id, parent)| Category {
                    id: id.to_string(),
                    name: id.to_string(),
                    parent: parent.map(String::from),
                })
                .collect(),
            responses
                .iter()
                .map(|id| StandardResponse {
                    id: id.to_string(),
                    name: id.to_string(),
                    category: None,
                    text: "text".into(),
                })
                .collect(),
        )
    }

    #[test]
    fn a_file_is_listed_by_id_and_round_trips() {
        let file = library(&[("b", None), ("a", Some("b"))], &["z", "y"]);
        assert_eq!(file.categories[0].id, "a");
        assert_eq!(file.responses[0].id, "y");
        let text = serde_json::to_string(&file).unwrap();
        assert!(
            text.starts_with(r#"{"format":"parley-responses","version":1,"#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Library>(&text).unwrap(), file);
        assert!(file.check().is_ok());
    }

    #[test]
    fn bad_files_are_named() {
        let mut other = library(&[], &[]);
        other.format = "kme".into();
        assert!(
            other
                .check()
                .unwrap_err()
                .to_string()
                .contains("not a library file")
        );
        let mut newer = library(&[], &[]);
        newer.version = 2;
        assert!(newer.check().unwrap_err().to_string().contains("version 2"));
        let twice = library(&[("a", None), ("a", None)], &[]);
        assert!(twice.check().unwrap_err().to_string().contains("twice"));
        let unknown = r#"{"format": "parley-responses", "version": 1, "categories": [], "responses": [], "extra": 1}"#;
        assert!(serde_json::from_str::<Library>(unknown).is_err());
    }
}
