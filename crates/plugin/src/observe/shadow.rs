//! A candidate version in the shadow of the live one: it gets every call
//! the live version gets, on its own task after the live answer is acted
//! on, with its own key-value store; its answers are compared with the
//! live ones and never acted on. At most [`MAX_RUNNING`] shadow calls run
//! at once; calls beyond that are skipped (and counted), so a slow
//! candidate never holds up routing.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

use super::RouterCall;
use crate::version::{PluginVersion, short_id};

/// Shadow calls running at once, at most.
pub const MAX_RUNNING: usize = 8;

/// Disagreements kept for people to read.
const KEPT: usize = 20;

/// Counts of one function's (or all) compared calls.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Tally {
    /// Calls both answered, compared.
    pub compared: u64,
    /// Of those, the same answer.
    pub agreed: u64,
    /// Calls the candidate failed (trap, timeout, invalid output...).
    pub failed: u64,
}

impl Tally {
    fn agreement(&self) -> Option<f64> {
        (self.compared > 0).then(|| self.agreed as f64 / self.compared as f64)
    }
}

/// A call the two versions answered differently.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Disagreement {
    pub function: String,
    /// The interaction decided on, if any.
    pub interaction: Option<String>,
    /// The live version's answer.
    pub live: Json,
    /// The candidate's answer, or its failure.
    pub candidate: Json,
    /// When, ms since the Unix epoch.
    pub at: i64,
}

/// What a shadow run shows so far.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ShadowSummary {
    pub plugin: String,
    /// The candidate's version id.
    pub candidate: String,
    /// Since when, ms since the Unix epoch.
    pub since: i64,
    /// All functions together.
    pub total: Tally,
    /// Agreed / compared, when anything was compared.
    pub agreement: Option<f64>,
    /// Per function.
    pub functions: BTreeMap<String, Tally>,
    /// Calls skipped because [`MAX_RUNNING`] were running.
    pub skipped: u64,
    /// The latest disagreements, newest last.
    pub disagreements: Vec<Disagreement>,
}

#[derive(Default)]
struct Counts {
    functions: BTreeMap<String, Tally>,
    skipped: u64,
    disagreements: VecDeque<Disagreement>,
}

/// A candidate running in the shadow of a plugin.
pub struct Shadow {
    candidate: Arc<PluginVersion>,
    since: i64,
    running: Arc<Semaphore>,
    counts: Arc<Mutex<Counts>>,
}

impl Shadow {
    /// `candidate` in the shadow of the live version of its plugin.
    pub fn new(candidate: PluginVersion) -> Shadow {
        Shadow {
            candidate: Arc::new(candidate),
            since: parley_core::now_ms(),
            running: Arc::new(Semaphore::new(MAX_RUNNING)),
            counts: Arc::default(),
        }
    }

    /// Has the candidate answer `call` on its own task and compares its
    /// answer with `live`.
    pub fn compare(&self, call: RouterCall, live: Json) {
        let Ok(permit) = self.running.clone().try_acquire_owned() else {
            self.counts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .skipped += 1;
            return;
        };
        let candidate = self.candidate.clone();
        let counts = self.counts.clone();
        tokio::spawn(async move {
            let answer = call.run(&candidate).await;
            drop(permit);
            let mut counts = counts.lock().unwrap_or_else(|p| p.into_inner());
            let tally = counts
                .functions
                .entry(call.function().to_string())
                .or_default();
            let theirs = match answer {
                Ok(called) => {
                    let theirs = called.value.json();
                    tally.compared += 1;
                    if theirs == live {
                        tally.agreed += 1;
                        return;
                    }
                    theirs
                }
                Err(err) => {
                    tally.failed += 1;
                    serde_json::json!({ "failed": err.to_string() })
                }
            };
            if counts.disagreements.len() == KEPT {
                counts.disagreements.pop_front();
            }
            counts.disagreements.push_back(Disagreement {
                function: call.function().to_string(),
                interaction: call.interaction_id().map(str::to_string),
                live,
                candidate: theirs,
                at: parley_core::now_ms(),
            });
        });
    }

    /// The comparison so far.
    pub fn summary(&self) -> ShadowSummary {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let mut total = Tally::default();
        for tally in counts.functions.values() {
            total.compared += tally.compared;
            total.agreed += tally.agreed;
            total.failed += tally.failed;
        }
        ShadowSummary {
            plugin: self.candidate.name().to_string(),
            candidate: short_id(&self.candidate.id).to_string(),
            since: self.since,
            agreement: total.agreement(),
            total,
            functions: counts.functions.clone(),
            skipped: counts.skipped,
            disagreements: counts.disagreements.iter().cloned().collect(),
        }
    }
}
