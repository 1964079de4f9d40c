//! A router built against the `parley:plugin@0.1.0` contract as it was
//! first released: `wit/` is a frozen copy of it, never to be edited, so
//! that the tests show every later host still loads such a plugin (see the
//! versioning policy in the repository's `wit/README.md`).
//!
//! It screens the interaction's subject with the screener named by its
//! `screener` config value and routes to the agent named by the best
//! category (`none` when nothing matched).

#![allow(missing_docs)] // generated code; the frozen WIT documents it
#![allow(unsafe_code)] // the export glue wit-bindgen generates here

wit_bindgen::generate!({
    world: "router",
    path: "wit",
    generate_all,
});

use exports::parley::plugin::routing::{Action, Decision, Guest, RouteRequest, Target};
use parley::plugin::types::{AgentCandidate, Content, Error, Interaction, ScreenRequest};
use parley::plugin::{config, plugins};

/// The exported router.
pub struct LegacyRouter;

impl Guest for LegacyRouter {
    fn on_queued(interaction: Interaction) -> Result<Decision, Error> {
        let screener = config::get("screener").unwrap_or_default();
        let request = ScreenRequest {
            media_type: interaction.media_type,
            subject: None,
            content: Content {
                content_type: "text/plain".into(),
                text: interaction.subject.unwrap_or_default(),
            },
            attached: Vec::new(),
            language: None,
        };
        let best = plugins::screen(&screener, &request)?
            .categories
            .into_iter()
            .next()
            .map_or_else(|| "none".to_string(), |c| c.name);
        Ok(Decision {
            action: Action::Route(RouteRequest {
                target: Target::Agent(best),
                timer: None,
            }),
            changes: Vec::new(),
        })
    }

    fn on_timer(interaction: Interaction, _: String) -> Result<Decision, Error> {
        Self::on_queued(interaction)
    }

    fn pick_agent(
        _: Interaction,
        candidates: Vec<AgentCandidate>,
    ) -> Result<Option<String>, Error> {
        Ok(candidates.into_iter().next().map(|c| c.id))
    }

    fn pick_interaction(
        _: AgentCandidate,
        waiting: Vec<Interaction>,
    ) -> Result<Option<String>, Error> {
        Ok(waiting.into_iter().next().map(|i| i.id))
    }
}

export!(LegacyRouter);
