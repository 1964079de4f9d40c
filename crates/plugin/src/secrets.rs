//! The secrets granted to a plugin version: values the operator configured
//! (`[secrets.<name>]` of the server's settings), read by the plugin
//! through `parley:plugin/secrets` and redacted from everything the host
//! writes on the plugin's behalf: log lines, failure messages, recordings
//! and fixture-test reports.

use std::borrow::Cow;

use super::manifest::GrantPolicy;

/// Granted secrets by name, longest value first (so that a value inside
/// another is never half-redacted).
#[derive(Default, Clone)]
pub struct Secrets(Vec<(String, String)>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

impl Secrets {
    /// The secrets of `names` that `policy` configures, with their values
    /// (a grant the policy does not allow is refused before this).
    pub fn granted(names: &[String], policy: &GrantPolicy) -> Secrets {
        Secrets::new(
            names
                .iter()
                .filter_map(|name| Some((name.clone(), policy.secrets.get(name)?.value.clone()))),
        )
    }

    /// Secrets from `(name, value)` pairs.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Secrets {
        let mut pairs: Vec<(String, String)> = pairs.into_iter().collect();
        pairs.sort_by_key(|(_, value)| std::cmp::Reverse(value.len()));
        Secrets(pairs)
    }

    /// The value of the secret `name`, if granted.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }

    /// `text` with every secret value replaced by `[secret:<name>]`.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut text = Cow::Borrowed(text);
        for (name, value) in &self.0 {
            if !value.is_empty() && text.contains(value.as_str()) {
                text = Cow::Owned(text.replace(value.as_str(), &format!("[secret:{name}]")));
            }
        }
        text
    }

    /// Redacts every string inside a JSON value, in place.
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        if self.0.is_empty() {
            return;
        }
        match value {
            Value::String(text) => {
                if let Cow::Owned(redacted) = self.redact(text) {
                    *text = redacted;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            Value::Object(fields) => fields.values_mut().for_each(|v| self.redact_json(v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_replaced_by_their_names() {
        let secrets = Secrets::new([
            ("token".to_string(), "s3cr3t".to_string()),
            ("long".to_string(), "s3cr3t-and-more".to_string()),
        ]);
        assert_eq!(secrets.get("token"), Some("s3cr3t"));
        assert_eq!(secrets.get("other"), None);
        assert_eq!(
            secrets.redact("auth s3cr3t, then s3cr3t-and-more"),
            "auth [secret:token], then [secret:long]"
        );
        assert!(matches!(secrets.redact("nothing here"), Cow::Borrowed(_)));
        let mut value = json!({"a": ["x s3cr3t"], "b": {"c": "s3cr3t"}, "n": 1});
        secrets.redact_json(&mut value);
        assert_eq!(
            value,
            json!({"a": ["x [secret:token]"], "b": {"c": "[secret:token]"}, "n": 1})
        );
        assert_eq!(format!("{secrets:?}"), r#"["long", "token"]"#);
    }
}
