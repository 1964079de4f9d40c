//! A router that tries what its sandbox may or may not allow and reports
//! each outcome as an attribute of its decision. The probes are the texts
//! of the interaction's `probe` attribute:
//!
//! - `read:<path>`: read a file (WASI filesystem);
//! - `write:<path>`: write a file;
//! - `env:<name>`: read an environment variable (WASI environment);
//! - `clock`: the WASI wall clock, in seconds since the Unix epoch;
//! - `kv`: increment a counter in the key-value store;
//! - `screen:<plugin>`: screen the interaction's subject with a screener;
//! - `screen-interaction:<plugin>`: screen the stored interaction itself,
//!   `screen-interaction:<plugin>:<id>` another one, through the host.

use parley_sdk::prelude::*;
use parley_sdk::router::{Decision, Guest, Target, plugins};
use parley_sdk::{ScreenRequest, ScreenResult, kv};
use std::time::{SystemTime, UNIX_EPOCH};

/// The exported router.
pub struct ProbeRouter;

/// A screening's categories and fields (`billing=0.9,field:order-number=AB12`),
/// or its error.
fn outcome(screened: Result<ScreenResult, Error>) -> String {
    match screened {
        Ok(result) => result
            .categories
            .iter()
            .map(|c| format!("{}={}", c.name, c.score))
            .chain(
                result
                    .fields
                    .iter()
                    .map(|f| format!("field:{}={}", f.name, f.value)),
            )
            .collect::<Vec<_>>()
            .join(","),
        Err(e) => format!("error: {:?}: {}", e.kind, e.message),
    }
}

fn probe(what: &str, interaction: &Interaction) -> String {
    let (kind, arg) = what.split_once(':').unwrap_or((what, ""));
    match kind {
        "read" => std::fs::read_to_string(arg).unwrap_or_else(|e| format!("error: {e}")),
        "write" => match std::fs::write(arg, "written by probe-router") {
            Ok(()) => "written".into(),
            Err(e) => format!("error: {e}"),
        },
        "env" => std::env::var(arg).unwrap_or_else(|e| format!("error: {e}")),
        "clock" => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs().to_string())
            .unwrap_or_else(|e| format!("error: {e}")),
        "kv" => match kv::increment("probes", 1) {
            Ok(n) => n.to_string(),
            Err(e) => format!("error: {}", e.message),
        },
        "screen" => {
            let request = ScreenRequest {
                media_type: interaction.media_type.clone(),
                subject: None,
                content: Content::plain(interaction.subject.clone().unwrap_or_default()),
                attached: Vec::new(),
                language: None,
            };
            outcome(plugins::screen(arg, &request))
        }
        "screen-interaction" => {
            let (plugin, id) = arg.split_once(':').unwrap_or((arg, &interaction.id));
            outcome(plugins::screen_interaction(plugin, id))
        }
        _ => format!("error: unknown probe `{what}`"),
    }
}

impl Guest for ProbeRouter {
    fn on_queued(interaction: Interaction) -> Result<Decision, Error> {
        let probes: Vec<String> = interaction
            .attribute("probe")
            .map(|v| v.texts().into_iter().map(String::from).collect())
            .unwrap_or_default();
        let mut decision = Decision::route(Target::Agent("probe".into()));
        for what in probes {
            let outcome = probe(&what, &interaction);
            decision = decision.set_attribute(&what, outcome.as_str());
        }
        Ok(decision)
    }

    fn on_timer(interaction: Interaction, _: String) -> Result<Decision, Error> {
        Self::on_queued(interaction)
    }

    fn pick_agent(
        _: Interaction,
        candidates: Vec<AgentCandidate>,
    ) -> Result<Option<String>, Error> {
        Ok(candidates.first().map(|c| c.id.clone()))
    }

    fn pick_interaction(
        _: AgentCandidate,
        waiting: Vec<Interaction>,
    ) -> Result<Option<String>, Error> {
        Ok(waiting.first().map(|i| i.id.clone()))
    }
}

parley_sdk::export_router!(ProbeRouter);
