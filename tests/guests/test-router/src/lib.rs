//! A router whose behaviour is chosen by its `behavior` config value:
//!
//! - `constant` (default): routes to the agent named by `agent`;
//! - `loop`: never returns;
//! - `trap`: panics;
//! - `alloc`: allocates a gibibyte;
//! - `garbage`: returns decisions the host must refuse (an empty agent id,
//!   an agent that is not a candidate).

use parley_sdk::prelude::*;
use parley_sdk::router::{CandidateSet, Decision, Guest, Target};
use std::hint::black_box;

/// The exported router.
pub struct TestRouter;

fn behavior() -> String {
    config::text("behavior").unwrap_or_else(|| "constant".into())
}

fn misbehave() {
    match behavior().as_str() {
        "loop" => {
            let mut n = 0u64;
            loop {
                n = black_box(n.wrapping_add(1));
            }
        }
        "trap" => panic!("deliberate panic in test-router"),
        "alloc" => {
            let big = vec![1u8; 1 << 30];
            black_box(&big);
        }
        _ => {}
    }
}

fn decide() -> Result<Decision, Error> {
    misbehave();
    let agent = match behavior().as_str() {
        "garbage" => String::new(),
        _ => config::text("agent").unwrap_or_else(|| "agent-a".into()),
    };
    Ok(Decision::route(Target::Agent(agent)))
}

impl Guest for TestRouter {
    fn on_queued(_: Interaction) -> Result<Decision, Error> {
        decide()
    }

    fn on_timer(_: Interaction, _: String) -> Result<Decision, Error> {
        decide()
    }

    fn pick_agent(_: Interaction, candidates: CandidateSet) -> Result<Option<String>, Error> {
        misbehave();
        Ok(match behavior().as_str() {
            "garbage" => Some("nobody".into()),
            "constant" => config::text("agent")
                .or_else(|| candidates.iter().next().map(|c| c.id().to_string())),
            _ => candidates.iter().next().map(|c| c.id().to_string()),
        })
    }

    fn pick_interaction(
        _: AgentCandidate,
        waiting: Vec<Interaction>,
    ) -> Result<Option<String>, Error> {
        misbehave();
        Ok(waiting.first().map(|i| i.id.clone()))
    }
}

parley_sdk::export_router!(TestRouter);
