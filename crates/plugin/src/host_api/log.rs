//! `parley:plugin/log`: plugin log lines into the host's log, tagged with
//! the plugin's name and version, secrets redacted. Always granted.

use super::iface::log::{Host, Level};
use crate::sandbox::HostState;

/// Longest message kept; the rest is cut.
const MAX_MESSAGE: usize = 4096;
/// Most fields kept per line.
const MAX_FIELDS: usize = 32;

impl Host for HostState {
    fn log(
        &mut self,
        level: Level,
        mut message: String,
        fields: Vec<(String, String)>,
    ) -> wasmtime::Result<()> {
        if message.len() > MAX_MESSAGE {
            let cut = (0..=MAX_MESSAGE)
                .rev()
                .find(|i| message.is_char_boundary(*i))
                .unwrap_or(0);
            message.truncate(cut);
        }
        let fields: Vec<String> = fields
            .iter()
            .take(MAX_FIELDS)
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let fields = self.ctx.secrets.redact(&fields.join(" ")).into_owned();
        let message = self.ctx.secrets.redact(&message);
        let (plugin, version) = (&self.ctx.name, &self.ctx.version);
        match level {
            Level::Trace => tracing::trace!(target: "plugin", plugin, version, fields, "{message}"),
            Level::Debug => tracing::debug!(target: "plugin", plugin, version, fields, "{message}"),
            Level::Info => tracing::info!(target: "plugin", plugin, version, fields, "{message}"),
            Level::Warn => tracing::warn!(target: "plugin", plugin, version, fields, "{message}"),
            Level::Error => tracing::error!(target: "plugin", plugin, version, fields, "{message}"),
        }
        Ok(())
    }
}
