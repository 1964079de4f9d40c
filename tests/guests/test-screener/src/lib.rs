//! A screener whose behaviour is chosen by its `behavior` config value:
//!
//! - `constant` (default): the category named by `category` (default
//!   `test`), score 1, and the content's length as the field `length`;
//! - `loop`: never returns;
//! - `trap`: panics.

use parley_sdk::prelude::*;
use parley_sdk::screener::Guest;
use parley_sdk::{CategoryMatch, ExtractedField, ScreenRequest, ScreenResult};
use std::hint::black_box;

/// The exported screener.
pub struct TestScreener;

impl Guest for TestScreener {
    fn screen(request: ScreenRequest) -> Result<ScreenResult, Error> {
        match config::text("behavior").as_deref() {
            Some("loop") => {
                let mut n = 0u64;
                loop {
                    n = black_box(n.wrapping_add(1));
                }
            }
            Some("trap") => panic!("deliberate panic in test-screener"),
            _ => Ok(ScreenResult {
                categories: vec![CategoryMatch {
                    name: config::text("category").unwrap_or_else(|| "test".into()),
                    score: 1.0,
                }],
                fields: vec![ExtractedField {
                    name: "length".into(),
                    value: request.content.text.len().to_string(),
                }],
                matched_rules: Vec::new(),
            }),
        }
    }
}

parley_sdk::export_screener!(TestScreener);
