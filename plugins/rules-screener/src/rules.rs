//! Screening rules and their evaluation.
//!
//! `rules` in the manifest's `[config]` is a list of tables:
//!
//! ```toml
//! rules = [
//!   { name = "refund", category = "billing", keywords = ["refund", "money back"], score = 0.9 },
//!   { name = "order", category = "orders", pattern = '(?i)order\s*#?\s*(?P<order_number>[A-Z0-9]{6,})' },
//!   { name = "vip", category = "priority", attribute = "segment", equals = "vip" },
//! ]
//! ```
//!
//! A rule matches when every condition it has holds: `keywords` (any of
//! them, case-insensitive, as whole words), `all-keywords` (all of them),
//! `pattern` (a regular expression; its named groups become extracted
//! fields) and `attribute` + `equals` (attached data). Text conditions look
//! at the subject and the content (HTML tags removed). A category's score
//! combines its matching rules' scores as independent evidence:
//! `1 - Π(1 - score)`.

use parley_sdk::{
    CategoryMatch, Error, ExtractedField, ScreenRequest, ScreenResult, find_attribute,
};
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One rule as configured.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RuleConfig {
    name: String,
    category: Option<String>,
    #[serde(default = "default_score")]
    score: f64,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    all_keywords: Vec<String>,
    pattern: Option<String>,
    attribute: Option<String>,
    equals: Option<String>,
}

fn default_score() -> f64 {
    1.0
}

/// A rule ready to evaluate.
#[derive(Debug)]
struct Rule {
    name: String,
    category: Option<String>,
    score: f64,
    any_of: Option<Regex>,
    all_of: Vec<Regex>,
    pattern: Option<Regex>,
    attribute: Option<(String, Option<String>)>,
}

/// A compiled set of rules.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

fn word_regex(words: &[String]) -> Result<Regex, regex::Error> {
    let alternatives: Vec<String> = words.iter().map(|w| regex::escape(w.trim())).collect();
    Regex::new(&format!(r"(?i)\b(?:{})\b", alternatives.join("|")))
}

impl Rule {
    fn compile(config: RuleConfig) -> Result<Rule, Error> {
        let invalid = |what: &str, e: regex::Error| {
            Error::invalid_input(format!("rule `{}`: {what}: {e}", config.name))
        };
        if !(0.0..=1.0).contains(&config.score) {
            return Err(Error::invalid_input(format!(
                "rule `{}`: score must be between 0 and 1",
                config.name
            )));
        }
        let any_of = match config.keywords.is_empty() {
            true => None,
            false => Some(word_regex(&config.keywords).map_err(|e| invalid("keywords", e))?),
        };
        let all_of: Vec<Regex> = config
            .all_keywords
            .iter()
            .map(|w| word_regex(std::slice::from_ref(w)).map_err(|e| invalid("all-keywords", e)))
            .collect::<Result<_, _>>()?;
        let pattern = config
            .pattern
            .as_deref()
            .map(Regex::new)
            .transpose()
            .map_err(|e| invalid("pattern", e))?;
        let attribute = config.attribute.map(|key| (key, config.equals));
        if any_of.is_none() && all_of.is_empty() && pattern.is_none() && attribute.is_none() {
            return Err(Error::invalid_input(format!(
                "rule `{}` has no condition",
                config.name
            )));
        }
        Ok(Rule {
            name: config.name,
            category: config.category,
            score: config.score,
            any_of,
            all_of,
            pattern,
            attribute,
        })
    }

    /// Whether the rule matches; on a match, the fields its pattern extracts.
    fn evaluate(&self, text: &str, request: &ScreenRequest) -> Option<Vec<ExtractedField>> {
        if let Some((key, equals)) = &self.attribute {
            let value = find_attribute(&request.attached, key)?;
            if let Some(expected) = equals
                && !value
                    .texts()
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case(expected))
            {
                return None;
            }
        }
        if self.any_of.as_ref().is_some_and(|re| !re.is_match(text))
            || self.all_of.iter().any(|re| !re.is_match(text))
        {
            return None;
        }
        let Some(pattern) = &self.pattern else {
            return Some(Vec::new());
        };
        let captures = pattern.captures(text)?;
        Some(
            pattern
                .capture_names()
                .flatten()
                .filter_map(|name| {
                    captures.name(name).map(|m| ExtractedField {
                        name: name.replace('_', "-"),
                        value: m.as_str().trim().to_string(),
                    })
                })
                .collect(),
        )
    }
}

/// Removes HTML tags, keeping the text between them.
fn strip_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

impl RuleSet {
    /// Compiles the rules from their JSON configuration. Every error names
    /// the rule it is about.
    pub fn from_json(json: &str) -> Result<RuleSet, Error> {
        let configs: Vec<RuleConfig> = serde_json::from_str(json)
            .map_err(|e| Error::invalid_input(format!("config `rules`: {e}")))?;
        let rules = configs
            .into_iter()
            .map(Rule::compile)
            .collect::<Result<_, _>>()?;
        Ok(RuleSet { rules })
    }

    /// Screens one request.
    pub fn screen(&self, request: &ScreenRequest) -> ScreenResult {
        let body = match request.content.content_type.as_str() {
            "text/html" => strip_tags(&request.content.text),
            _ => request.content.text.clone(),
        };
        let text = match &request.subject {
            Some(subject) => format!("{subject}\n{body}"),
            None => body,
        };
        let mut miss_probability: BTreeMap<&str, f64> = BTreeMap::new();
        let mut fields: Vec<ExtractedField> = Vec::new();
        let mut matched_rules = Vec::new();
        for rule in &self.rules {
            let Some(extracted) = rule.evaluate(&text, request) else {
                continue;
            };
            matched_rules.push(rule.name.clone());
            if let Some(category) = &rule.category {
                *miss_probability.entry(category).or_insert(1.0) *= 1.0 - rule.score;
            }
            for field in extracted {
                if !fields.iter().any(|f| f.name == field.name) {
                    fields.push(field);
                }
            }
        }
        let mut categories: Vec<CategoryMatch> = miss_probability
            .into_iter()
            .map(|(name, miss)| CategoryMatch {
                name: name.to_string(),
                score: ((1.0 - miss) * 10_000.0).round() / 10_000.0,
            })
            .collect();
        categories.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.name.cmp(&b.name))
        });
        ScreenResult {
            categories,
            fields,
            matched_rules,
        }
    }
}
