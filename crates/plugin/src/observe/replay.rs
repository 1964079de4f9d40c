//! Replaying a recording against a version: each recorded call runs as a
//! fixture case (the recorded input, the taped host answers) and its answer
//! is compared with the one recorded. A different answer is a decision the
//! version would change.

use serde::Serialize;

use super::recorder::Recorded;
use crate::cases::{CaseOutcome, run_cases};
use crate::error::LoadError;
use crate::version::PluginVersion;

/// A recorded call whose answer the version changes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Changed {
    /// The call's place in the recording (`call-N`, N its line).
    pub call: String,
    pub function: String,
    /// What it was about (the interaction).
    pub about: Option<String>,
    /// Why: the answer differs (with `diff`), or the call failed.
    pub reason: String,
    /// Recorded versus new answer, as a unified diff.
    pub diff: Option<String>,
}

/// What a replay found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ReplayReport {
    /// The version replayed.
    pub version: String,
    /// Calls replayed.
    pub calls: usize,
    /// Calls answered as recorded.
    pub same: usize,
    /// Calls answered otherwise.
    pub changed: Vec<Changed>,
}

/// Replays `recorded` against `version`.
pub async fn replay(
    version: &PluginVersion,
    recorded: &[Recorded],
) -> Result<ReplayReport, LoadError> {
    let cases: Vec<_> = recorded.iter().map(|r| r.case.clone()).collect();
    let reports = run_cases(version, &cases).await?;
    let changed: Vec<Changed> = reports
        .into_iter()
        .zip(&cases)
        .filter_map(|(report, case)| match report.outcome {
            CaseOutcome::Passed => None,
            CaseOutcome::Failed { reason, diff } => Some(Changed {
                call: case.name.clone(),
                function: case.function.clone(),
                about: case.description.clone(),
                reason,
                diff,
            }),
        })
        .collect();
    Ok(ReplayReport {
        version: version.id.clone(),
        calls: cases.len(),
        same: cases.len() - changed.len(),
        changed,
    })
}
