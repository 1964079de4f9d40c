//! Recording a plugin's decisions in production (`[[recording]]` in the
//! server settings): a sample of its calls, each written as a fixture case
//! (input, the taped host answers, and the output as the expectation) to
//! `<data-dir>/recordings/<plugin>.jsonl`, with sensitive fields masked,
//! until the file reaches its size cap. `parley plugin replay` runs a
//! recording against another version.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::RouterCall;
use crate::cases::mocks::RecordedCall;
use crate::cases::{Case, HostSpec, Mock};
use crate::secrets::Secrets;

/// The fields masked unless the settings name others: the customer's
/// words and identity.
const DEFAULT_MASK: &[&str] = &[
    "subject",
    "contact.display-name",
    "attached.email",
    "attached.from",
    "attached.from-name",
    "attached.nickname",
    "attached.phone",
    "attached.subject",
];

/// One `[[recording]]` entry of the server settings.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RecordingSettings {
    /// The plugin whose calls are recorded.
    pub plugin: String,
    /// The share of calls recorded, from 0 to 1: every call at 1, one in
    /// ten at 0.1.
    #[serde(default = "default_sample")]
    pub sample: f64,
    /// The file stops growing at this size.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Fields masked in recorded inputs: `subject`, `contact.display-name`,
    /// `contact.attributes.KEY`, `attached.KEY` (in every interaction of a
    /// call). Default: the customer's words and identity.
    #[serde(default = "default_mask")]
    pub mask: Vec<String>,
}

fn default_sample() -> f64 {
    0.01
}

fn default_max_bytes() -> u64 {
    64 << 20
}

fn default_mask() -> Vec<String> {
    DEFAULT_MASK.iter().map(|s| s.to_string()).collect()
}

/// One recorded call, a line of a recording file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Recorded {
    /// When it was made, ms since the Unix epoch.
    pub at: u64,
    /// The version that answered.
    pub version: String,
    /// The call as a fixture case.
    pub case: Case,
}

/// How far a recording is.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct RecordingStatus {
    /// The plugin recorded.
    pub plugin: String,
    /// The share of calls recorded.
    pub sample: f64,
    #[schema(value_type = String)]
    pub file: PathBuf,
    /// Its size now.
    pub bytes: u64,
    /// Its cap.
    pub max_bytes: u64,
    /// Calls written since the server started.
    pub recorded: u64,
    /// Sampled calls not written because the file is full.
    pub dropped: u64,
}

/// The recorder of one plugin.
pub struct Recorder {
    settings: RecordingSettings,
    every: u64,
    calls: AtomicU64,
    salt: String,
    file: Mutex<Writer>,
}

struct Writer {
    path: PathBuf,
    bytes: u64,
    recorded: u64,
    dropped: u64,
}

impl Recorder {
    /// The recorder `settings` describe, appending to its file under `dir`.
    pub fn new(settings: RecordingSettings, dir: &Path) -> Result<Recorder, String> {
        if !(settings.sample > 0.0 && settings.sample <= 1.0) {
            return Err(format!(
                "[[recording]] of `{}`: sample must be above 0 and at most 1",
                settings.plugin
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(format!("{}.jsonl", settings.plugin));
        let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
        Ok(Recorder {
            every: (1.0 / settings.sample).round().max(1.0) as u64,
            calls: AtomicU64::new(0),
            salt: uuid::Uuid::new_v4().to_string(),
            file: Mutex::new(Writer {
                path,
                bytes,
                recorded: 0,
                dropped: 0,
            }),
            settings,
        })
    }

    /// Whether this call is one of the sample (one in `1 / sample`).
    pub fn sampled(&self) -> bool {
        self.calls
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(self.every)
    }

    /// Writes one call: its input (masked), the taped host answers and what
    /// the plugin decided, with the version's `secrets` redacted.
    pub fn record(
        &self,
        call: &RouterCall,
        output: Json,
        tape: Vec<RecordedCall>,
        version: &str,
        secrets: &Secrets,
    ) {
        let mut input = call.input();
        for value in input.values_mut() {
            self.mask_interactions(value);
        }
        let recorded = Recorded {
            at: parley_core::now_ms().max(0) as u64,
            version: version.to_string(),
            case: Case {
                name: String::new(),
                description: call.interaction_id().map(|id| format!("interaction {id}")),
                function: call.function().to_string(),
                input,
                host: host_of(tape),
                expect: Some(output),
                expect_failure: None,
                expect_mime: None,
                expect_error: None,
                expect_calls: Vec::new(),
            },
        };
        let Ok(mut recorded) = serde_json::to_value(&recorded) else {
            return;
        };
        secrets.redact_json(&mut recorded);
        let mut line = recorded.to_string();
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if file.bytes + line.len() as u64 > self.settings.max_bytes {
            file.dropped += 1;
            return;
        }
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file.path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        match written {
            Ok(()) => {
                file.bytes += line.len() as u64;
                file.recorded += 1;
            }
            Err(err) => {
                file.dropped += 1;
                tracing::warn!(plugin = %self.settings.plugin, "a recorded call was not written: {err}");
            }
        }
    }

    /// Where the recording is.
    pub fn status(&self) -> RecordingStatus {
        let file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        RecordingStatus {
            plugin: self.settings.plugin.clone(),
            sample: self.settings.sample,
            file: file.path.clone(),
            bytes: file.bytes,
            max_bytes: self.settings.max_bytes,
            recorded: file.recorded,
            dropped: file.dropped,
        }
    }

    /// Masks the configured fields of every interaction in `value` (an
    /// interaction, or a list of them; agent candidates have none).
    fn mask_interactions(&self, value: &mut Json) {
        match value {
            Json::Array(items) => items.iter_mut().for_each(|i| self.mask_interactions(i)),
            Json::Object(interaction) if interaction.contains_key("media-type") => {
                for path in &self.settings.mask {
                    self.mask_path(interaction, path);
                }
            }
            _ => {}
        }
    }

    fn mask_path(&self, interaction: &mut Map<String, Json>, path: &str) {
        let (list, key) = match path.split_once('.') {
            Some(("attached", key)) => (interaction.get_mut("attached"), key),
            Some(("contact", "display-name")) => {
                let name = interaction
                    .get_mut("contact")
                    .and_then(|c| c.get_mut("display-name"));
                if let Some(name) = name {
                    self.mask_value(name);
                }
                return;
            }
            Some(("contact", rest)) => match rest.split_once('.') {
                Some(("attributes", key)) => (
                    interaction
                        .get_mut("contact")
                        .and_then(|c| c.get_mut("attributes")),
                    key,
                ),
                _ => return,
            },
            _ => {
                if let Some(field) = interaction.get_mut(path) {
                    self.mask_value(field);
                }
                return;
            }
        };
        let Some(Json::Array(list)) = list else {
            return;
        };
        for attribute in list.iter_mut().filter(|a| a["key"] == key) {
            if let Some(value) = attribute.get_mut("value") {
                self.mask_value(value);
            }
        }
    }

    /// Replaces every text in `value` by a salted hash of it: the same text
    /// masks the same way within a recording, so equality still holds.
    fn mask_value(&self, value: &mut Json) {
        match value {
            Json::String(text) => {
                let digest = Sha256::digest(format!("{}\0{text}", self.salt));
                *text = format!("masked:{}", &hex(&digest)[..16]);
            }
            Json::Array(items) => items.iter_mut().for_each(|v| self.mask_value(v)),
            Json::Object(fields) => fields.values_mut().for_each(|v| self.mask_value(v)),
            _ => {}
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The mocked host that gives a replay the answers the call got: the
/// clock's first reading, the key-value entries as first read, and the
/// screenings.
fn host_of(tape: Vec<RecordedCall>) -> HostSpec {
    let mut host = HostSpec::default();
    for call in tape {
        match call.function.as_str() {
            "clock.now" => {
                if host.clock.is_none() {
                    host.clock = call.result.as_u64();
                }
            }
            "kv.get" => {
                let key = call.params["key"].as_str().unwrap_or_default().to_string();
                if let Some(text) = call.result["ok"].as_str() {
                    host.kv.entry(key).or_insert_with(|| text.to_string());
                }
            }
            _ => host.mocks.push(Mock {
                function: call.function,
                params: Some(call.params),
                result: call.result,
            }),
        }
    }
    host
}

/// Reads a recording file: its calls, in order. A line that is not a
/// recorded call is an error naming the line.
pub fn read_recording(path: &Path) -> Result<Vec<Recorded>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            let mut recorded: Recorded = serde_json::from_str(line)
                .map_err(|e| format!("{} line {}: {e}", path.display(), n + 1))?;
            recorded.case.name = format!("call-{}", n + 1);
            Ok(recorded)
        })
        .collect()
}
