//! `[desktop]` settings: the pick lists the desktops offer.

use serde::Deserialize;

/// `[desktop]`: the pick lists agents choose from.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DesktopSettings {
    /// Disposition codes an interaction is completed with.
    #[serde(default = "default_dispositions")]
    pub dispositions: Vec<String>,
    /// Reasons for not being ready.
    #[serde(default = "default_not_ready_reasons")]
    pub not_ready_reasons: Vec<String>,
}

fn default_dispositions() -> Vec<String> {
    ["resolved", "follow-up", "no-resolution"]
        .map(String::from)
        .to_vec()
}

fn default_not_ready_reasons() -> Vec<String> {
    ["break", "meeting", "training", "admin"]
        .map(String::from)
        .to_vec()
}

impl Default for DesktopSettings {
    fn default() -> Self {
        DesktopSettings {
            dispositions: default_dispositions(),
            not_ready_reasons: default_not_ready_reasons(),
        }
    }
}
