//! The fixture case format.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use std::path::Path;

use super::expect_error::ExpectedError;
use super::mime::MimeChecks;
use crate::error::FailureKind;

/// One fixture case.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Case {
    /// Case name: the file stem.
    #[serde(skip)]
    pub name: String,
    /// What the case shows.
    #[serde(default)]
    pub description: Option<String>,
    /// Exported function to call, as named in the WIT (`on-queued`).
    pub function: String,
    /// Arguments by WIT parameter name.
    #[serde(default)]
    pub input: Map<String, Json>,
    /// Mocked host.
    #[serde(default)]
    pub host: HostSpec,
    /// Expected return value (WIT-shaped JSON).
    #[serde(default)]
    pub expect: Option<Json>,
    /// Expected failure kind instead of a value, e.g. `timeout`.
    #[serde(default)]
    pub expect_failure: Option<FailureKind>,
    /// Instead of `expect`, for a MIME transformer: checks on the message
    /// it returns (the outcome must be `transformed`).
    #[serde(default)]
    pub expect_mime: Option<MimeChecks>,
    /// Instead of `expect`: the `error` the function returns, its message
    /// matched whole, by a substring or by a pattern.
    #[serde(default)]
    pub expect_error: Option<ExpectedError>,
    /// Host calls that must have been made, in this order (others may come
    /// between them).
    #[serde(default)]
    pub expect_calls: Vec<ExpectedCall>,
}

/// The mocked host of a case.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct HostSpec {
    /// Configuration values added to (or replacing) the manifest's.
    #[serde(default)]
    pub config: BTreeMap<String, Json>,
    /// Initial key-value entries, as text.
    #[serde(default)]
    pub kv: BTreeMap<String, String>,
    /// What `clock.now` returns (milliseconds since the Unix epoch).
    #[serde(default)]
    pub clock: Option<u64>,
    /// Responses for host functions, e.g. `plugins.screen`.
    #[serde(default)]
    pub mocks: Vec<Mock>,
    /// Secret values `secrets.get` returns, by name (redacted from the
    /// case's report like real ones).
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

/// A mocked host function response.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Mock {
    /// `interface.function`, e.g. `plugins.screen`.
    pub function: String,
    /// Only answer calls whose arguments include these (by name).
    #[serde(default)]
    pub params: Option<Map<String, Json>>,
    /// The result to return.
    #[serde(default)]
    pub result: Json,
}

/// A host call a case expects.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ExpectedCall {
    /// `interface.function`.
    pub function: String,
    /// Arguments that must match (by name); others are not compared.
    #[serde(default)]
    pub params: Option<Map<String, Json>>,
}

impl Case {
    /// Parses one case; `name` is its file stem.
    pub fn parse(name: &str, text: &str) -> Result<Case, String> {
        let mut case: Case =
            serde_json::from_str(text).map_err(|e| format!("case `{name}`: {e}"))?;
        case.name = name.to_string();
        let expectations = [
            case.expect.is_some(),
            case.expect_failure.is_some(),
            case.expect_mime.is_some(),
            case.expect_error.is_some(),
        ];
        if expectations.iter().filter(|given| **given).count() != 1 {
            return Err(format!(
                "case `{name}`: give exactly one of `expect`, `expect-failure`, `expect-mime` and `expect-error`"
            ));
        }
        if let Some(expected) = &case.expect_error {
            expected
                .validate()
                .map_err(|e| format!("case `{name}`: {e}"))?;
        }
        Ok(case)
    }
}

/// Reads every `*.json` case in `dir`, sorted by file name. A missing
/// directory has no cases.
pub fn load_cases(dir: &Path) -> Result<Vec<Case>, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|path| load_case(path)).collect()
}

/// Reads one case file; the case is named after the file.
pub fn load_case(path: &Path) -> Result<Case, String> {
    let name = path.file_stem().unwrap_or_default().to_string_lossy();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Case::parse(&name, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_needs_exactly_one_expectation() {
        let none = Case::parse("c", r#"{"function": "f"}"#).unwrap_err();
        assert!(none.contains("exactly one"), "{none}");
        let both = r#"{"function": "f", "expect": 1, "expect-failure": "trap"}"#;
        assert!(Case::parse("c", both).is_err());
        let mime = r#"{"function": "f", "expect": "unchanged", "expect-mime": {}}"#;
        assert!(Case::parse("c", mime).is_err());
        let checks = r#"{"function": "f", "expect-mime": {"contains": ["x"]}}"#;
        assert_eq!(
            Case::parse("c", checks)
                .unwrap()
                .expect_mime
                .unwrap()
                .contains,
            ["x"]
        );
        let ok = Case::parse("c", r#"{"function": "f", "expect-failure": "timeout"}"#).unwrap();
        assert_eq!(ok.expect_failure, Some(FailureKind::Timeout));
        assert_eq!(ok.name, "c");
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Case::parse("c", r#"{"function": "f", "expect": 1, "expected": 2}"#).unwrap_err();
        assert!(err.contains("expected"), "{err}");
    }
}
