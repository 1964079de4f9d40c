//! Privacy masking: rules (a pattern and an action) applied to every text
//! before it is stored or shown, so that, e.g., card numbers never reach
//! a chat transcript, a stored e-mail or the agent's screen.

use regex::Regex;
use serde::Deserialize;

/// What a rule does with a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Replace each letter and digit of the match with `*`.
    Mask,
    /// Refuse the whole message; it is stored nowhere.
    Drop,
}

/// A masking rule as configured.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Rule {
    /// Name, given to the sender of a dropped message.
    pub name: String,
    /// Regular expression (Rust `regex` syntax).
    pub pattern: String,
    /// What to do with a match.
    pub action: Action,
    /// Letters and digits left readable at the end of a masked match.
    #[serde(default)]
    pub keep_last: usize,
}

impl Rule {
    /// The default rule: card numbers (13 to 19 digits, grouped with
    /// spaces, dashes, dots or slashes) masked but their last 4 digits.
    pub fn card_numbers() -> Rule {
        Rule {
            name: "card-number".into(),
            pattern: r"\b(?:\d[ ./-]?){12,18}\d\b".into(),
            action: Action::Mask,
            keep_last: 4,
        }
    }
}

/// A message a `drop` rule refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withheld {
    /// The rule's name.
    pub rule: String,
}

/// The compiled rules.
#[derive(Debug, Clone)]
pub struct Masking {
    rules: Vec<(Rule, Regex)>,
}

impl Masking {
    /// Compiles `rules`; an invalid pattern is an error naming the rule.
    pub fn new(rules: &[Rule]) -> Result<Masking, String> {
        rules
            .iter()
            .map(|rule| {
                Regex::new(&rule.pattern)
                    .map(|regex| (rule.clone(), regex))
                    .map_err(|e| format!("masking rule `{}`: {e}", rule.name))
            })
            .collect::<Result<_, _>>()
            .map(|rules| Masking { rules })
    }

    /// `text` with every rule applied, or the drop rule that refused it.
    pub fn apply(&self, text: &str) -> Result<String, Withheld> {
        let mut text = text.to_string();
        for (rule, regex) in &self.rules {
            if !regex.is_match(&text) {
                continue;
            }
            match rule.action {
                Action::Drop => {
                    return Err(Withheld {
                        rule: rule.name.clone(),
                    });
                }
                Action::Mask => {
                    text = regex
                        .replace_all(&text, |caps: &regex::Captures<'_>| {
                            mask(&caps[0], rule.keep_last)
                        })
                        .into_owned();
                }
            }
        }
        Ok(text)
    }
}

/// `found` with its letters and digits starred, but the last `keep`.
fn mask(found: &str, keep: usize) -> String {
    let total = found.chars().filter(|c| c.is_alphanumeric()).count();
    let mut seen = 0;
    found
        .chars()
        .map(|c| {
            if !c.is_alphanumeric() {
                return c;
            }
            seen += 1;
            if seen > total.saturating_sub(keep) {
                c
            } else {
                '*'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_are_masked_but_the_last_four() {
        let masking = Masking::new(&[Rule::card_numbers()]).unwrap();
        assert_eq!(
            masking
                .apply("my card is 4111 1111 1111 1234, ok?")
                .unwrap(),
            "my card is **** **** **** 1234, ok?"
        );
        assert_eq!(
            masking.apply("5500-0000-0000-0004").unwrap(),
            "****-****-****-0004"
        );
        assert_eq!(
            masking
                .apply("4111.1111.1111.1234 or 4111/1111/1111/1234")
                .unwrap(),
            "****.****.****.1234 or ****/****/****/1234"
        );
        // Dates, times and addresses are too short to be card numbers.
        assert_eq!(
            masking
                .apply("on 2026/12/07 at 12.30 from 192.168.100.200")
                .unwrap(),
            "on 2026/12/07 at 12.30 from 192.168.100.200"
        );
        // Order numbers and phone numbers are left alone.
        assert_eq!(
            masking
                .apply("order 123456, call +44 20 7946 0958")
                .unwrap(),
            "order 123456, call +44 20 7946 0958"
        );
    }

    #[test]
    fn a_drop_rule_withholds_the_message() {
        let masking = Masking::new(&[Rule {
            name: "password".into(),
            pattern: r"(?i)\bpassword\s*[:=]".into(),
            action: Action::Drop,
            keep_last: 0,
        }])
        .unwrap();
        assert_eq!(
            masking.apply("my Password: hunter2"),
            Err(Withheld {
                rule: "password".into()
            })
        );
        assert_eq!(masking.apply("no secrets here").unwrap(), "no secrets here");
    }

    #[test]
    fn an_invalid_pattern_names_its_rule() {
        let err = Masking::new(&[Rule {
            name: "broken".into(),
            pattern: "(".into(),
            action: Action::Mask,
            keep_last: 0,
        }])
        .unwrap_err();
        assert!(err.starts_with("masking rule `broken`"), "{err}");
    }
}
