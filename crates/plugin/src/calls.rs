//! Typed calls into plugin versions, one method per exported function,
//! with the host's checks on what comes back: a plugin's output is
//! untrusted input like any other.

use super::bindings::routing::{Action, Change, Decision, Target};
use super::bindings::types::{AgentCandidate, Interaction, ScreenRequest, ScreenResult};
use super::bindings::{RoutingGuest, ScreeningGuest, routing, types};
use super::error::{FailureKind, PluginError};
use super::sandbox::HostState;
use super::version::{Called, Guest, GuestExports, PluginVersion};
use super::world::World;
use wasmtime::Store;

/// Longest timer a strategy may ask for: one day.
const MAX_TIMER_MS: u64 = 24 * 60 * 60 * 1000;
/// Most changes one decision may carry.
const MAX_CHANGES: usize = 64;
/// Longest text (reason, message, name) in a decision.
const MAX_TEXT: usize = 4096;

/// A router's functions; the version's world was checked before the call
/// ([`PluginVersion::expect_world`]).
fn router(guest: &Guest) -> wasmtime::Result<&RoutingGuest> {
    match &guest.exports {
        GuestExports::Router(functions) => Ok(functions),
        _ => wasmtime::bail!("not a router"),
    }
}

/// A screener's functions, as [`router`].
fn screener(guest: &Guest) -> wasmtime::Result<&ScreeningGuest> {
    match &guest.exports {
        GuestExports::Screener(functions) => Ok(functions),
        _ => wasmtime::bail!("not a screener"),
    }
}

impl PluginVersion {
    /// Fails unless the version is a plugin of `world`.
    pub(super) fn expect_world(&self, world: World) -> Result<(), PluginError> {
        if self.world() == world {
            return Ok(());
        }
        Err(self.context().failure(
            FailureKind::NotFound,
            format!("is a {}, not a {world}", self.world()),
        ))
    }

    /// Turns the plugin's own error value into a failure.
    fn accept<T>(&self, called: Called<Result<T, types::Error>>) -> Result<Called<T>, PluginError> {
        called.try_map(|value| {
            value.map_err(|error| {
                self.context().failure(
                    FailureKind::PluginError,
                    format!("{:?}: {}", error.kind, error.message),
                )
            })
        })
    }

    /// A failure for output the host cannot act on.
    pub(super) fn invalid(&self, message: String) -> PluginError {
        self.context().failure(FailureKind::InvalidOutput, message)
    }

    /// Calls one export with `call`, which may screen the interactions of
    /// `scope`; the plugin's own error value becomes a failure.
    async fn call_guest<R>(
        &self,
        scope: Vec<String>,
        call: impl AsyncFnOnce(
            &mut Store<HostState>,
            &Guest,
        ) -> wasmtime::Result<Result<R, types::Error>>,
    ) -> Result<Called<R>, PluginError> {
        let called = self
            .call(async |store, guest| {
                store.data_mut().scope = scope;
                call(store, guest).await
            })
            .await?;
        self.accept(called)
    }

    /// Checks that a picked id is one of those offered.
    fn check_picked<'a>(
        &self,
        picked: &Option<String>,
        mut offered: impl ExactSizeIterator<Item = &'a str>,
        what: &str,
    ) -> Result<(), PluginError> {
        let count = offered.len();
        match picked {
            Some(id) if !offered.any(|o| o == id) => Err(self.invalid(format!(
                "picked {what} `{id}`, which is not among the {count} offered"
            ))),
            _ => Ok(()),
        }
    }

    /// `routing.on-queued`: decide on a newly queued interaction.
    pub async fn on_queued(
        &self,
        interaction: &Interaction,
    ) -> Result<Called<Decision>, PluginError> {
        self.expect_world(World::Router)?;
        let called = self
            .call_guest(vec![interaction.id.clone()], async |store, guest| {
                router(guest)?.on_queued(store, interaction).await
            })
            .await?;
        self.check_decision(&called.value)?;
        Ok(called)
    }

    /// `routing.on-timer`: decide again when a timer fires.
    pub async fn on_timer(
        &self,
        interaction: &Interaction,
        tag: &str,
    ) -> Result<Called<Decision>, PluginError> {
        self.expect_world(World::Router)?;
        let called = self
            .call_guest(vec![interaction.id.clone()], async |store, guest| {
                router(guest)?.on_timer(store, interaction, tag).await
            })
            .await?;
        self.check_decision(&called.value)?;
        Ok(called)
    }

    /// `routing.pick-agent`: choose among host-filtered candidates.
    pub async fn pick_agent(
        &self,
        interaction: &Interaction,
        candidates: &[AgentCandidate],
    ) -> Result<Called<Option<String>>, PluginError> {
        self.expect_world(World::Router)?;
        let called = self
            .call_guest(vec![interaction.id.clone()], async |store, guest| {
                router(guest)?
                    .pick_agent(store, interaction, candidates)
                    .await
            })
            .await?;
        self.check_picked(
            &called.value,
            candidates.iter().map(|c| c.id.as_str()),
            "agent",
        )?;
        Ok(called)
    }

    /// `routing.pick-interaction`: choose what a freed agent gets.
    pub async fn pick_interaction(
        &self,
        agent: &AgentCandidate,
        waiting: &[Interaction],
    ) -> Result<Called<Option<String>>, PluginError> {
        self.expect_world(World::Router)?;
        let called = self
            .call_guest(
                waiting.iter().map(|i| i.id.clone()).collect(),
                async |store, guest| router(guest)?.pick_interaction(store, agent, waiting).await,
            )
            .await?;
        self.check_picked(
            &called.value,
            waiting.iter().map(|i| i.id.as_str()),
            "interaction",
        )?;
        Ok(called)
    }

    /// `screening.screen`: classify content.
    pub async fn screen(
        &self,
        request: &ScreenRequest,
    ) -> Result<Called<ScreenResult>, PluginError> {
        self.expect_world(World::Screener)?;
        let called = self
            .call_guest(Vec::new(), async |store, guest| {
                screener(guest)?.screen(store, request).await
            })
            .await?;
        if let Some(bad) = called
            .value
            .categories
            .iter()
            .find(|c| !(0.0..=1.0).contains(&c.score))
        {
            return Err(self.invalid(format!(
                "scored category `{}` {}, outside 0..1",
                bad.name, bad.score
            )));
        }
        Ok(called)
    }

    /// Checks a decision is one the host can carry out.
    fn check_decision(&self, decision: &Decision) -> Result<(), PluginError> {
        check_decision(decision).map_err(|message| self.invalid(message))
    }
}

/// Checks a text a plugin returned is not empty and not over-long.
pub(super) fn check_text(what: &str, text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err(format!("returned an empty {what}"));
    }
    if text.len() > MAX_TEXT {
        return Err(format!("returned a {what} over {MAX_TEXT} bytes"));
    }
    Ok(())
}

fn check_timer(timer: &routing::Timer) -> Result<(), String> {
    if timer.after_ms == 0 || timer.after_ms > MAX_TIMER_MS {
        return Err(format!(
            "asked for a timer of {} ms (allowed: 1 ms to one day)",
            timer.after_ms
        ));
    }
    check_text("timer tag", &timer.tag)
}

/// The host's rules for a routing decision.
pub fn check_decision(decision: &Decision) -> Result<(), String> {
    match &decision.action {
        Action::Route(request) => {
            match &request.target {
                Target::Agent(id) => check_text("agent id", id)?,
                Target::Group(group) => check_text("group name", group)?,
                Target::Skills(skills) => {
                    for skill in skills {
                        check_text("skill name", &skill.skill)?;
                    }
                }
            }
            if let Some(timer) = &request.timer {
                check_timer(timer)?;
            }
        }
        Action::MoveToQueue(queue) => check_text("queue name", queue)?,
        Action::Wait(timer) => check_timer(timer)?,
        Action::Stop(reason) => check_text("stop reason", reason)?,
    }
    if decision.changes.len() > MAX_CHANGES {
        return Err(format!(
            "returned {} changes (at most {MAX_CHANGES})",
            decision.changes.len()
        ));
    }
    for change in &decision.changes {
        match change {
            Change::SetAttribute(attribute) => check_text("attribute key", &attribute.key)?,
            Change::RemoveAttribute(key) => check_text("attribute key", key)?,
            Change::Notify(message) => check_text("notification", message)?,
            Change::SetPriority(_) => {}
        }
    }
    Ok(())
}
