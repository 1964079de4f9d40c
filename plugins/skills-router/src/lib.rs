//! Reference routing strategy for Parley: routes each interaction to agents
//! having the required skills at minimum levels, relaxes the levels the
//! longer it waits, serves higher priority then older interactions first,
//! and gives each interaction to the longest-idle agent with free capacity.
//!
//! The decision logic lives in [`strategy`], free of host calls, so it can
//! also be compiled natively (the benchmarks compare both).

pub mod strategy;

use parley_sdk::prelude::*;
use parley_sdk::router::{Decision, Guest};
use strategy::Policy;

/// The exported routing strategy.
pub struct SkillsRouter;

fn policy() -> Result<Policy, Error> {
    Policy::from_entries(&config::entries())
}

impl Guest for SkillsRouter {
    fn on_queued(interaction: Interaction) -> Result<Decision, Error> {
        let decision = policy()?.on_queued(&interaction)?;
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
