//! Watching a router's decisions on live traffic: recording a sample of
//! its calls for replay against other versions ([`recorder`], replayed by
//! [`replay`]), and running a candidate version in its shadow
//! ([`shadow`]), whose decisions are compared, never acted on.
//!
//! The engine makes every router call through [`Observers::route`], which
//! is the plain call when nothing watches the plugin.

pub mod recorder;
pub mod replay;
pub mod shadow;
pub mod tape;
pub mod wit_json;

use serde_json::{Map, Value as Json, json};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use super::bindings::routing::Decision;
use super::bindings::types::{AgentCandidate, Interaction};
use super::error::PluginError;
use super::version::{Called, PluginVersion};
use recorder::Recorder;
use shadow::Shadow;

/// One call into a router, with its arguments.
#[derive(Debug, Clone)]
pub enum RouterCall {
    OnQueued(Interaction),
    OnTimer(Interaction, String),
    PickAgent(Interaction, Vec<AgentCandidate>),
    PickInteraction(AgentCandidate, Vec<Interaction>),
}

/// What a router answered.
#[derive(Debug, Clone)]
pub enum RouterAnswer {
    /// From `on-queued` and `on-timer`.
    Decision(Decision),
    /// From `pick-agent` and `pick-interaction`.
    Pick(Option<String>),
}

impl RouterAnswer {
    /// The answer as the WIT function returns it (`{"ok": ...}`).
    pub fn json(&self) -> Json {
        match self {
            RouterAnswer::Decision(d) => json!({ "ok": wit_json::decision(d) }),
            RouterAnswer::Pick(id) => json!({ "ok": id }),
        }
    }
}

impl RouterCall {
    /// The exported function, as the WIT names it.
    pub fn function(&self) -> &'static str {
        match self {
            RouterCall::OnQueued(..) => "on-queued",
            RouterCall::OnTimer(..) => "on-timer",
            RouterCall::PickAgent(..) => "pick-agent",
            RouterCall::PickInteraction(..) => "pick-interaction",
        }
    }

    /// The interaction decided on, if the call is about one.
    pub fn interaction_id(&self) -> Option<&str> {
        match self {
            RouterCall::OnQueued(i) | RouterCall::OnTimer(i, _) | RouterCall::PickAgent(i, _) => {
                Some(&i.id)
            }
            RouterCall::PickInteraction(..) => None,
        }
    }

    /// The arguments by WIT parameter name, as a fixture case's `input`.
    pub fn input(&self) -> Map<String, Json> {
        let interactions =
            |list: &[Interaction]| -> Json { list.iter().map(wit_json::interaction).collect() };
        let pairs = match self {
            RouterCall::OnQueued(i) => vec![("interaction", wit_json::interaction(i))],
            RouterCall::OnTimer(i, tag) => {
                vec![
                    ("interaction", wit_json::interaction(i)),
                    ("tag", json!(tag)),
                ]
            }
            RouterCall::PickAgent(i, candidates) => vec![
                ("interaction", wit_json::interaction(i)),
                (
                    "candidates",
                    candidates.iter().map(wit_json::candidate).collect(),
                ),
            ],
            RouterCall::PickInteraction(agent, waiting) => vec![
                ("agent", wit_json::candidate(agent)),
                ("waiting", interactions(waiting)),
            ],
        };
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// Makes the call on `version`.
    pub async fn run(&self, version: &PluginVersion) -> Result<Called<RouterAnswer>, PluginError> {
        match self {
            RouterCall::OnQueued(i) => Ok(version.on_queued(i).await?.map(RouterAnswer::Decision)),
            RouterCall::OnTimer(i, tag) => {
                Ok(version.on_timer(i, tag).await?.map(RouterAnswer::Decision))
            }
            RouterCall::PickAgent(i, candidates) => Ok(version
                .pick_agent(i, candidates)
                .await?
                .map(RouterAnswer::Pick)),
            RouterCall::PickInteraction(agent, waiting) => Ok(version
                .pick_interaction(agent, waiting)
                .await?
                .map(RouterAnswer::Pick)),
        }
    }
}

/// What watches one plugin.
#[derive(Default)]
struct Watch {
    recorder: Option<Arc<Recorder>>,
    shadow: Option<Arc<Shadow>>,
}

/// The recorders and shadows of every plugin.
#[derive(Default)]
pub struct Observers {
    watches: RwLock<BTreeMap<String, Watch>>,
}

impl Observers {
    fn watch<T>(&self, plugin: &str, f: impl FnOnce(Option<&Watch>) -> T) -> T {
        let watches = self.watches.read().unwrap_or_else(|p| p.into_inner());
        f(watches.get(plugin))
    }

    fn update(&self, plugin: &str, f: impl FnOnce(&mut Watch)) {
        let mut watches = self.watches.write().unwrap_or_else(|p| p.into_inner());
        f(watches.entry(plugin.to_string()).or_default());
    }

    /// Records a sample of `plugin`'s calls from now on.
    pub fn set_recorder(&self, plugin: &str, recorder: Recorder) {
        self.update(plugin, |w| w.recorder = Some(Arc::new(recorder)));
    }

    /// The recorder of `plugin`, if it is recorded.
    pub fn recorder(&self, plugin: &str) -> Option<Arc<Recorder>> {
        self.watch(plugin, |w| w.and_then(|w| w.recorder.clone()))
    }

    /// Runs `shadow` beside `plugin` from now on (replacing another).
    pub fn set_shadow(&self, plugin: &str, shadow: Shadow) {
        self.update(plugin, |w| w.shadow = Some(Arc::new(shadow)));
    }

    /// The shadow of `plugin`, if one runs.
    pub fn shadow(&self, plugin: &str) -> Option<Arc<Shadow>> {
        self.watch(plugin, |w| w.and_then(|w| w.shadow.clone()))
    }

    /// Stops the shadow of `plugin`; returns it.
    pub fn remove_shadow(&self, plugin: &str) -> Option<Arc<Shadow>> {
        let mut watches = self.watches.write().unwrap_or_else(|p| p.into_inner());
        watches.get_mut(plugin).and_then(|w| w.shadow.take())
    }

    /// [`Observers::route`] for `on-queued` and `on-timer`.
    pub async fn decide(
        &self,
        version: &Arc<PluginVersion>,
        call: RouterCall,
    ) -> Result<Called<Decision>, PluginError> {
        Ok(self.route(version, call).await?.map(|answer| match answer {
            RouterAnswer::Decision(decision) => decision,
            RouterAnswer::Pick(_) => unreachable!("on-queued and on-timer answer decisions"),
        }))
    }

    /// [`Observers::route`] for `pick-agent` and `pick-interaction`.
    pub async fn pick(
        &self,
        version: &Arc<PluginVersion>,
        call: RouterCall,
    ) -> Result<Called<Option<String>>, PluginError> {
        Ok(self.route(version, call).await?.map(|answer| match answer {
            RouterAnswer::Pick(id) => id,
            RouterAnswer::Decision(_) => unreachable!("pick functions answer ids"),
        }))
    }

    /// Makes `call` on the live `version`; records it if it is sampled,
    /// and has the shadow, if any, decide too (later, on its own task).
    pub async fn route(
        &self,
        version: &Arc<PluginVersion>,
        call: RouterCall,
    ) -> Result<Called<RouterAnswer>, PluginError> {
        let (recorder, shadow) = self.watch(version.name(), |w| {
            w.map_or((None, None), |w| (w.recorder.clone(), w.shadow.clone()))
        });
        let recorder = recorder.filter(|r| r.sampled());
        let result = match &recorder {
            Some(recorder) => {
                let (result, tape) = tape::taped(version.name(), call.run(version)).await;
                if let Ok(called) = &result {
                    recorder.record(
                        &call,
                        called.value.json(),
                        tape,
                        &called.version,
                        &version.context().secrets,
                    );
                }
                result
            }
            None => call.run(version).await,
        };
        if let (Some(shadow), Ok(called)) = (shadow, &result) {
            shadow.compare(call, called.value.json());
        }
        result
    }
}
