//! The typed errors of plugin calls and loads.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a plugin call failed. Callers match on this to apply a fallback
/// (e.g. the routing engine uses the queue's fallback strategy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// No such plugin is loaded, or it is not of the expected world.
    NotFound,
    /// No instance slot became free in time.
    Overloaded,
    /// The call ran past its wall-clock deadline.
    Timeout,
    /// The call used up its instruction budget.
    FuelExhausted,
    /// The plugin tried to grow its memory past its limit.
    MemoryLimit,
    /// The plugin trapped (panic, unreachable, bad memory access...).
    Trap,
    /// The plugin returned something the host cannot act on.
    InvalidOutput,
    /// The plugin returned an error value of its own.
    PluginError,
    /// The plugin could not be instantiated.
    Instantiation,
}

impl FailureKind {
    /// Every kind, for counters.
    pub const ALL: [FailureKind; 9] = [
        FailureKind::NotFound,
        FailureKind::Overloaded,
        FailureKind::Timeout,
        FailureKind::FuelExhausted,
        FailureKind::MemoryLimit,
        FailureKind::Trap,
        FailureKind::InvalidOutput,
        FailureKind::PluginError,
        FailureKind::Instantiation,
    ];

    /// Stable name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::NotFound => "not-found",
            FailureKind::Overloaded => "overloaded",
            FailureKind::Timeout => "timeout",
            FailureKind::FuelExhausted => "fuel-exhausted",
            FailureKind::MemoryLimit => "memory-limit",
            FailureKind::Trap => "trap",
            FailureKind::InvalidOutput => "invalid-output",
            FailureKind::PluginError => "plugin-error",
            FailureKind::Instantiation => "instantiation",
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed plugin call, naming the plugin and version that failed.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("plugin `{plugin}`{} failed ({kind}): {message}", version.as_deref().map(|v| format!(" version {v}")).unwrap_or_default())]
pub struct PluginError {
    /// Plugin name.
    pub plugin: String,
    /// Version id, when a version was running.
    pub version: Option<String>,
    /// What kind of failure.
    pub kind: FailureKind,
    /// Details.
    pub message: String,
}

impl PluginError {
    /// A failure of `kind` for a plugin with no version involved.
    pub fn unversioned(plugin: &str, kind: FailureKind, message: impl Into<String>) -> Self {
        PluginError {
            plugin: plugin.to_string(),
            version: None,
            kind,
            message: message.into(),
        }
    }
}

/// Why a plugin version was not loaded. The running version, if any, stays.
#[derive(Debug, thiserror::Error)]
#[error("plugin `{plugin}`: {message}")]
pub struct LoadError {
    /// Plugin name (or the path, when the manifest has no readable name).
    pub plugin: String,
    /// What failed: manifest, compilation, world check, linking,
    /// instantiation or a fixture case.
    pub message: String,
    /// The version (or plugin) asked for does not exist, rather than being
    /// refused.
    pub not_found: bool,
}

impl LoadError {
    /// A load error for `plugin`. The message is folded onto one line (some
    /// parser errors span several) and does not repeat the plugin's name.
    pub fn new(plugin: &str, message: impl Into<String>) -> Self {
        LoadError {
            plugin: plugin.to_string(),
            message: one_line(&message.into()),
            not_found: false,
        }
    }

    /// `plugin` has no version (or no live version) by what was asked.
    pub fn not_found(plugin: &str, message: impl Into<String>) -> Self {
        LoadError {
            not_found: true,
            ..LoadError::new(plugin, message)
        }
    }
}

/// `text` with every run of whitespace (newlines included) made one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Formats an error with its whole chain of causes on one line.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
