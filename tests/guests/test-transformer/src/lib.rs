//! A MIME transformer whose behaviour is chosen by its `behavior` config
//! value:
//!
//! - `tag` (default): prepends `X-Tagged: <direction>` to the message;
//! - `loop`: never returns;
//! - `trap`: panics;
//! - `alloc`: allocates a gibibyte;
//! - `empty`: returns an empty transformed message;
//! - `oversized`: returns a transformed message of 64 MiB;
//! - `fail`: fails with the action named by the `action` config value.

use parley_sdk::mime_transformer::{FailureAction, Guest, Outcome};
use parley_sdk::prelude::*;
use std::hint::black_box;

/// The exported transformer.
pub struct TestTransformer;

fn transform(direction: &str, mime: Vec<u8>) -> Outcome {
    match config::text("behavior").as_deref().unwrap_or("tag") {
        "loop" => {
            let mut n = 0u64;
            loop {
                n = black_box(n.wrapping_add(1));
            }
        }
        "trap" => panic!("deliberate panic in test-transformer"),
        "alloc" => {
            let big = vec![1u8; 1 << 30];
            black_box(&big);
            Outcome::Unchanged
        }
        "empty" => Outcome::Transformed(Vec::new()),
        "oversized" => Outcome::Transformed(vec![b'x'; 64 << 20]),
        "fail" => {
            let action = match config::text("action").as_deref() {
                Some("retry") => FailureAction::Retry,
                Some("bypass") => FailureAction::Bypass,
                _ => FailureAction::BadFormat,
            };
            Outcome::failed(format!("{direction} failed as configured"), action)
        }
        _ => {
            let mut tagged = format!("X-Tagged: {direction}\r\n").into_bytes();
            tagged.extend_from_slice(&mime);
            Outcome::Transformed(tagged)
        }
    }
}

impl Guest for TestTransformer {
    fn transform_inbound(mime: Vec<u8>) -> Outcome {
        transform("inbound", mime)
    }

    fn transform_outbound(mime: Vec<u8>) -> Outcome {
        transform("outbound", mime)
    }
}

parley_sdk::export_mime_transformer!(TestTransformer);
