//! `expect-error`: the `error` a function returns on its `err` side, with
//! its kind matched exactly and its message exactly, by a substring or by a
//! pattern. Ports of one plugin to several languages share their cases
//! this way while each reports a parser's message in its own words.

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::runner::{CaseOutcome, failed};

/// The expected error of a `result<_, error>`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ExpectedError {
    /// The error kind as the WIT spells it (`invalid-input`).
    pub kind: String,
    /// The whole message.
    #[serde(default)]
    pub message: Option<String>,
    /// A text the message contains.
    #[serde(default)]
    pub message_contains: Option<String>,
    /// A regular expression (Rust `regex` syntax) found in the message.
    #[serde(default)]
    pub message_matches: Option<String>,
}

impl ExpectedError {
    /// Refuses an expectation giving more than one way to match the
    /// message, or a pattern that does not compile.
    pub fn validate(&self) -> Result<(), String> {
        let ways = [
            self.message.is_some(),
            self.message_contains.is_some(),
            self.message_matches.is_some(),
        ];
        if ways.iter().filter(|given| **given).count() > 1 {
            return Err(
                "`expect-error` takes at most one of `message`, `message-contains` and `message-matches`"
                    .into(),
            );
        }
        if let Some(pattern) = &self.message_matches {
            Regex::new(pattern).map_err(|e| format!("`expect-error.message-matches`: {e}"))?;
        }
        Ok(())
    }

    /// Checks a call's result, as JSON (`{"err": {"kind": .., "message": ..}}`).
    pub fn check(&self, actual: &Json) -> CaseOutcome {
        let Some(error) = actual.get("err") else {
            return failed(format!("expected an error `{}`, got {actual}", self.kind));
        };
        let (Some(kind), Some(message)) = (
            error.get("kind").and_then(Json::as_str),
            error.get("message").and_then(Json::as_str),
        ) else {
            return failed(format!(
                "the error is not an `error` record of kind and message: {error}"
            ));
        };
        if kind != self.kind {
            return failed(format!(
                "expected an error of kind `{}`, got `{kind}`: {message}",
                self.kind
            ));
        }
        let mismatch = if let Some(want) = &self.message {
            (message != want).then(|| format!("the message is not {want:?}"))
        } else if let Some(part) = &self.message_contains {
            (!message.contains(part.as_str())).then(|| format!("the message lacks {part:?}"))
        } else if let Some(pattern) = &self.message_matches {
            // Checked by `validate` when the case was read.
            let matches = Regex::new(pattern).is_ok_and(|re| re.is_match(message));
            (!matches).then(|| format!("the message does not match {pattern:?}"))
        } else {
            None
        };
        match mismatch {
            Some(reason) => failed(format!("{reason}: {message:?}")),
            None => CaseOutcome::Passed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn expectation(json: Json) -> ExpectedError {
        let expected: ExpectedError = serde_json::from_value(json).unwrap();
        expected.validate().unwrap();
        expected
    }

    fn error(kind: &str, message: &str) -> Json {
        json!({"err": {"kind": kind, "message": message}})
    }

    #[test]
    fn the_kind_is_matched_exactly() {
        let expected = expectation(json!({"kind": "invalid-input"}));
        assert_eq!(
            expected.check(&error("invalid-input", "anything")),
            CaseOutcome::Passed
        );
        let CaseOutcome::Failed { reason, .. } = expected.check(&error("internal", "x")) else {
            panic!("another kind passed");
        };
        assert!(reason.contains("`internal`"), "{reason}");
    }

    #[test]
    fn the_message_is_matched_whole_by_substring_or_by_pattern() {
        let actual = error("invalid-input", "config `rules`: expected a list at line 1");
        for (expectation_json, passes) in [
            (
                json!({"message": "config `rules`: expected a list at line 1"}),
                true,
            ),
            (json!({"message": "config `rules`"}), false),
            (json!({"message-contains": "config `rules`:"}), true),
            (json!({"message-contains": "config `other`"}), false),
            (
                json!({"message-matches": r"^config `rules`: .+ line \d+$"}),
                true,
            ),
            (json!({"message-matches": r"column \d+"}), false),
        ] {
            let mut fields = expectation_json.as_object().unwrap().clone();
            fields.insert("kind".into(), json!("invalid-input"));
            let expected = expectation(Json::Object(fields));
            assert_eq!(
                expected.check(&actual) == CaseOutcome::Passed,
                passes,
                "{expected:?}"
            );
        }
    }

    #[test]
    fn a_value_is_not_an_error() {
        let expected = expectation(json!({"kind": "invalid-input"}));
        assert!(matches!(
            expected.check(&json!({"ok": "a"})),
            CaseOutcome::Failed { .. }
        ));
    }

    #[test]
    fn one_way_to_match_the_message_and_a_valid_pattern() {
        let two: ExpectedError = serde_json::from_value(
            json!({"kind": "invalid-input", "message": "a", "message-contains": "a"}),
        )
        .unwrap();
        assert!(two.validate().unwrap_err().contains("at most one"));
        let bad: ExpectedError =
            serde_json::from_value(json!({"kind": "invalid-input", "message-matches": "("}))
                .unwrap();
        assert!(bad.validate().unwrap_err().contains("message-matches"));
    }
}
