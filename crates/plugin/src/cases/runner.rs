//! Runs fixture cases against a compiled plugin version.

use serde::Serialize;
use serde_json::{Map, Value as Json};
use std::time::Instant;
use wasmtime::Store;
use wasmtime::component::{Func, Linker};

use super::case::Case;
use super::mocks::{CaseHost, RecordedCall, link_mocks};
use crate::error::{FailureKind, LoadError};
use crate::invoke::{call_json, find_export, params_from_json};
use crate::sandbox::{self, HostState};
use crate::secrets::Secrets;
use crate::values::{normalize, readable};
use crate::version::{HOST_CALL_GRACE, PluginVersion};

/// How one case ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "result")]
pub enum CaseOutcome {
    /// As expected.
    Passed,
    /// Not as expected.
    Failed {
        /// Why, in one line.
        reason: String,
        /// Expected versus actual, as a unified diff of pretty JSON.
        diff: Option<String>,
    },
}

/// The report of one case.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CaseReport {
    /// Case name.
    pub name: String,
    /// How it ended.
    pub outcome: CaseOutcome,
    /// Instructions the call used.
    pub fuel: u64,
    /// Wall-clock time of the call.
    pub elapsed_us: u64,
}

impl CaseOutcome {
    /// The outcome with `secrets` redacted from its texts.
    fn redacted(self, secrets: &Secrets) -> CaseOutcome {
        match self {
            CaseOutcome::Passed => CaseOutcome::Passed,
            CaseOutcome::Failed { reason, diff } => CaseOutcome::Failed {
                reason: secrets.redact(&reason).into_owned(),
                diff: diff.map(|d| secrets.redact(&d).into_owned()),
            },
        }
    }
}

impl CaseReport {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        self.outcome == CaseOutcome::Passed
    }
}

pub(super) fn failed(reason: impl Into<String>) -> CaseOutcome {
    CaseOutcome::Failed {
        reason: reason.into(),
        diff: None,
    }
}

/// A unified diff of two JSON values, pretty-printed.
fn json_diff(expected: &Json, actual: &Json) -> String {
    let expected = serde_json::to_string_pretty(expected).unwrap_or_default() + "\n";
    let actual = serde_json::to_string_pretty(actual).unwrap_or_default() + "\n";
    similar::TextDiff::from_lines(&expected, &actual)
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string()
}

/// Whether `expected` (a subset of arguments) matches `actual`.
fn params_match(expected: &Option<Map<String, Json>>, actual: &Map<String, Json>) -> bool {
    expected
        .as_ref()
        .is_none_or(|want| want.iter().all(|(k, v)| actual.get(k) == Some(v)))
}

/// Checks the expected calls appear, in order, among the recorded ones.
fn check_calls(case: &Case, recorded: &[RecordedCall]) -> Result<(), String> {
    let mut rest = recorded.iter();
    for want in &case.expect_calls {
        if !rest
            .by_ref()
            .any(|call| call.function == want.function && params_match(&want.params, &call.params))
        {
            let made: Vec<&str> = recorded.iter().map(|c| c.function.as_str()).collect();
            return Err(format!(
                "expected a call to `{}`{} (in order); calls made: [{}]",
                want.function,
                want.params
                    .as_ref()
                    .map(|p| format!(" with {}", Json::Object(p.clone())))
                    .unwrap_or_default(),
                made.join(", ")
            ));
        }
    }
    Ok(())
}

/// Runs fixture cases against a compiled version, each on a fresh
/// instance with the production limits and WASI policy. Fails only when
/// the harness itself cannot be set up.
pub async fn run_cases(
    version: &PluginVersion,
    cases: &[Case],
) -> Result<Vec<CaseReport>, LoadError> {
    let engine = version.engine();
    let setup =
        |e: anyhow::Error| LoadError::new(version.name(), format!("fixture harness: {e:#}"));
    let mut linker: Linker<HostState> = Linker::new(engine.engine());
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| setup(e.into()))?;
    // Outbound HTTP is the production sandbox's: the version's grant, the
    // operator's limits.
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
        .map_err(|e| setup(e.into()))?;
    link_mocks(&mut linker, engine.engine(), version.component()).map_err(setup)?;
    let pre = linker
        .instantiate_pre(version.component())
        .map_err(|e| setup(e.into()))?;
    let export = version.export_name();

    let mut reports = Vec::with_capacity(cases.len());
    for case in cases {
        let host = CaseHost::new(case, &version.context().config);
        let mut store = sandbox::new_store(engine, version.context().clone(), Some(Box::new(host)))
            .map_err(setup)?;
        sandbox::arm(&mut store).map_err(setup)?;
        let started = Instant::now();
        let outcome = match pre.instantiate_async(&mut store).await {
            Err(e) => failed(format!(
                "instantiation failed: {}",
                sandbox::classify(&e, &store).message
            )),
            Ok(instance) => match find_export(&mut store, &instance, export, &case.function) {
                None => failed(format!("`{export}` has no function `{}`", case.function)),
                Some(func) => {
                    sandbox::arm(&mut store).map_err(setup)?;
                    run_case(case, func, &mut store).await
                }
            },
        };
        let mocked_secrets = Secrets::new(case.host.secrets.clone());
        reports.push(CaseReport {
            name: case.name.clone(),
            outcome: outcome.redacted(&mocked_secrets),
            fuel: sandbox::fuel_used(&store),
            elapsed_us: started.elapsed().as_micros() as u64,
        });
    }
    Ok(reports)
}

async fn run_case(case: &Case, func: Func, store: &mut Store<HostState>) -> CaseOutcome {
    let ty = func.ty(&*store);
    let params = match params_from_json(&ty, &case.function, &case.input) {
        Ok(params) => params,
        Err(e) => return failed(format!("input: {e}")),
    };
    let result_ty = ty.results().next();
    let limit = store.data().ctx.limits.deadline + HOST_CALL_GRACE;
    let call = tokio::time::timeout(limit, call_json(&mut *store, func, &params)).await;
    let mut actual = Json::Null;
    let failure = match call {
        Err(_) => Some(FailureKind::Timeout),
        Ok(Err(e)) => {
            let failure = sandbox::classify(&e, store);
            if case.expect_failure != Some(failure.kind) {
                return failed(format!("{} ({})", failure.message, failure.kind));
            }
            Some(failure.kind)
        }
        Ok(Ok(value)) => {
            actual = value;
            None
        }
    };
    let outcome = match (&case.expect, case.expect_failure, failure) {
        (_, Some(want), Some(got)) if want == got => CaseOutcome::Passed,
        (_, Some(want), got) => failed(format!(
            "expected failure `{want}`, got {}",
            got.map_or("a value".to_string(), |k| format!("`{k}`"))
        )),
        (_, None, Some(got)) => failed(format!("failed with `{got}`")),
        (Some(expected), None, None) => {
            let expected = match &result_ty {
                Some(ty) => match normalize(expected, ty) {
                    Ok(json) => json,
                    Err(e) => return failed(format!("expect: {e}")),
                },
                None => expected.clone(),
            };
            if expected == actual {
                CaseOutcome::Passed
            } else {
                let shown = |json: &Json| match &result_ty {
                    Some(ty) => readable(json, ty),
                    None => json.clone(),
                };
                CaseOutcome::Failed {
                    reason: "the result differs from the expectation".into(),
                    diff: Some(json_diff(&shown(&expected), &shown(&actual))),
                }
            }
        }
        (None, None, None) => match (&case.expect_mime, &case.expect_error) {
            (Some(checks), _) => checks.check(&actual),
            (None, Some(expected)) => expected.check(&actual),
            (None, None) => failed("the case expects nothing"),
        },
    };
    if outcome != CaseOutcome::Passed {
        return outcome;
    }
    let recorded = store
        .data()
        .mocks
        .as_ref()
        .map(|m| m.calls.as_slice())
        .unwrap_or_default();
    match check_calls(case, recorded) {
        Ok(()) => CaseOutcome::Passed,
        Err(reason) => failed(reason),
    }
}
