//! Reference screener for Parley: classifies content with rules from the
//! plugin's configuration (see [`rules`]) into scored categories and
//! extracted fields.
//!
//! Compiling the rules (regular expressions) is the expensive part, so the
//! compiled rule set is kept for the life of the instance: declare
//! `instances = "warm"` in the manifest to reuse instances across calls.

pub mod rules;

use parley_sdk::prelude::*;
use parley_sdk::screener::Guest;
use rules::RuleSet;
use std::sync::OnceLock;

/// The exported screener.
pub struct RulesScreener;

static RULES: OnceLock<Result<RuleSet, Error>> = OnceLock::new();

impl Guest for RulesScreener {
    fn screen(request: ScreenRequest) -> Result<ScreenResult, Error> {
        let rules = RULES
            .get_or_init(|| RuleSet::from_json(config::text("rules").as_deref().unwrap_or("[]")))
            .as_ref()
            .map_err(Clone::clone)?;
        let result = rules.screen(&request);
        log::with_fields(
            log::Level::Debug,
            "screened",
            &[("matched", &result.matched_rules.join(","))],
        );
        Ok(result)
    }
}

parley_sdk::export_screener!(RulesScreener);
