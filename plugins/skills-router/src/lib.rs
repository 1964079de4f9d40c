//! Reference routing strategy for Parley: routes each interaction to agents
//! having the required skills at minimum levels, relaxes the levels the
//! longer it waits, serves higher priority then older interactions first,
//! and gives each interaction to the least loaded agent with free capacity
//! (share of its capacity on the media type in use), then the longest idle.
//!
//! Optionally it screens interactions of some media types first and routes
//! on the category found ([`screening`]).
//!
//! The decision logic lives in [`strategy`] and [`screening`], free of host
//! calls, so it can also be compiled natively (the benchmarks compare both).

pub mod screening;
pub mod strategy;

use parley_sdk::ScreenResult;
use parley_sdk::prelude::*;
#[cfg(not(feature = "contract-v0-1"))]
use parley_sdk::router::CandidateSet;
use parley_sdk::router::{Decision, Guest, plugins};
use std::sync::OnceLock;
use strategy::Policy;

/// The exported routing strategy.
pub struct SkillsRouter;

/// The policy, parsed from the configuration on the instance's first call
/// and kept for its later ones (a version's configuration never changes).
fn policy() -> Result<&'static Policy, Error> {
    static POLICY: OnceLock<Result<Policy, Error>> = OnceLock::new();
    POLICY
        .get_or_init(|| Policy::from_entries(&config::entries()))
        .as_ref()
        .map_err(Clone::clone)
}

/// Screens the interaction with `screener`; a failure is logged (and
/// recorded by the policy), and the interaction routed without screening.
fn screen(screener: &str, interaction: &Interaction) -> Result<ScreenResult, Error> {
    let screened = plugins::screen_interaction(screener, &interaction.id);
    if let Err(error) = &screened {
        log::with_fields(
            log::Level::Warn,
            "screening failed; routing without it",
            &[
                ("interaction", &interaction.id),
                ("screener", screener),
                ("kind", error.kind.as_str()),
                ("error", &error.message),
            ],
        );
    }
    screened
}

impl Guest for SkillsRouter {
    fn on_queued(interaction: Interaction) -> Result<Decision, Error> {
        let policy = policy()?;
        let screened = policy
            .screener_for(&interaction)
            .map(|screener| screen(screener, &interaction));
        let decision = policy.on_queued(&interaction, screened.as_ref())?;
        log::with_fields(
            log::Level::Debug,
            "queued",
            &[
                ("interaction", &interaction.id),
                ("queue", &interaction.queue),
            ],
        );
        Ok(decision)
    }

    fn on_timer(interaction: Interaction, tag: String) -> Result<Decision, Error> {
        if tag != strategy::RELAX_TIMER {
            return Err(Error::invalid_input(format!("unknown timer `{tag}`")));
        }
        policy()?.decide(&interaction)
    }

    #[cfg(not(feature = "contract-v0-1"))]
    fn pick_agent(
        interaction: Interaction,
        candidates: CandidateSet,
    ) -> Result<Option<String>, Error> {
        policy()?.pick_agent(&interaction, candidates.iter())
    }

    #[cfg(feature = "contract-v0-1")]
    fn pick_agent(
        interaction: Interaction,
        candidates: Vec<AgentCandidate>,
    ) -> Result<Option<String>, Error> {
        policy()?.pick_agent(&interaction, &candidates)
    }

    fn pick_interaction(
        agent: AgentCandidate,
        waiting: Vec<Interaction>,
    ) -> Result<Option<String>, Error> {
        policy()?.pick_interaction(&agent, &waiting)
    }
}

parley_sdk::export_router!(SkillsRouter);
