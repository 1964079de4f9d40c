//! `parley plugin ...`: test and check plugins locally, replay recorded
//! decisions against a version, and list, load, roll back, shadow and
//! fetch the recordings of plugins on a running server.

use anyhow::Context;
use base64::Engine as _;
use clap::Subcommand;
use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::client::{Client, ServerArgs};
use super::scaffold::{Lang, create};
use parley_plugin::cases::{CaseOutcome, load_case, load_cases, run_cases};
use parley_plugin::observe::recorder::read_recording;
use parley_plugin::observe::shadow::ShadowSummary;
use parley_plugin::registry::{Loaded, PluginStatus};
use parley_plugin::source::read_plugin_dir;
use parley_plugin::version::{Services, StatsSnapshot, short_id};
use parley_plugin::versions::VersionRecord;
use parley_plugin::{LimitPolicy, PluginRuntime, PluginVersion, RuntimeSettings};

/// `parley plugin` subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Run a plugin's fixture cases against its compiled component, in the
    /// production sandbox with the production limits. Prints each case
    /// with a diff on failure and the instructions used; exits non-zero if
    /// any case fails.
    Test {
        /// Plugin directory, its `plugin.toml`, or the name of a bundled plugin.
        plugin: String,
        /// A directory of cases or one case file (default: the manifest's
        /// `cases`).
        cases: Option<PathBuf>,
        /// Print the reports as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create a new plugin that builds and passes its fixture cases: a
    /// manifest, the source, a copy of the WIT contract and cases.
    New {
        /// The plugin's name (lowercase, digits and `-`).
        name: String,
        /// The world it implements: `router`, `screener` or
        /// `mime-transformer`.
        #[arg(long, default_value = "router")]
        world: String,
        /// The language it is written in.
        #[arg(long, value_enum, default_value = "rust")]
        lang: Lang,
        /// Where to create it (default: a directory named after it).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Validate a plugin without running it: manifest, component, world,
    /// grants and limits. Exits non-zero if it would be refused.
    Check {
        /// Plugin directory, its `plugin.toml`, or the name of a bundled plugin.
        plugin: String,
    },
    /// List the plugins of a running server with their live version and
    /// history.
    List {
        #[command(flatten)]
        server: ServerArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Load a new version into a running server (validated, then swapped
    /// in atomically; a refused version changes nothing).
    Load {
        /// Plugin directory or its `plugin.toml`.
        plugin: PathBuf,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Re-run the calls of a recording (`[[recording]]` on the server,
    /// fetched with `parley plugin recording`) against a version and report
    /// the decisions it would change. Exits non-zero only when it cannot
    /// run.
    Replay {
        /// The recording file (JSON lines).
        recording: PathBuf,
        /// Plugin directory, its `plugin.toml`, or the name of a bundled plugin.
        plugin: String,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Fetch the recording of a plugin from a running server.
    Recording {
        /// Plugin name.
        name: String,
        /// Where to write it (JSON lines).
        #[arg(long, short)]
        out: PathBuf,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Run a candidate version in the shadow of the live one on a running
    /// server: it decides on the same calls, its decisions are compared and
    /// never acted on.
    Shadow {
        #[command(subcommand)]
        action: ShadowAction,
    },
    /// Make an earlier version live again on a running server.
    Rollback {
        /// Plugin name.
        name: String,
        /// Version id or unique prefix (default: the version before the live one).
        #[arg(long)]
        to: Option<String>,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// `parley plugin shadow ...`.
#[derive(Debug, Subcommand)]
pub enum ShadowAction {
    /// Start (or replace) the shadow run of the plugin in a directory.
    Start {
        /// Plugin directory or its `plugin.toml`.
        plugin: PathBuf,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Show how often the candidate agrees with the live version.
    Status {
        /// Plugin name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Stop the shadow run and show its final summary.
    Stop {
        /// Plugin name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// Runs a `parley plugin` subcommand.
pub async fn run(command: PluginCommand) -> anyhow::Result<ExitCode> {
    match command {
        PluginCommand::Test {
            plugin,
            cases,
            json,
        } => test(&plugin, cases.as_deref(), json).await,
        PluginCommand::Check { plugin } => check(&plugin).await,
        PluginCommand::New {
            name,
            world,
            lang,
            dir,
        } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
            println!("{}", create(&world, lang, &name, &dir)?);
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::List { server, json } => list(&server, json).await,
        PluginCommand::Load { plugin, server } => load(&plugin, &server).await,
        PluginCommand::Replay {
            recording,
            plugin,
            json,
        } => replay(&recording, &plugin, json).await,
        PluginCommand::Recording { name, out, server } => {
            fetch_recording(&name, &out, &server).await
        }
        PluginCommand::Shadow { action } => shadow(action).await,
        PluginCommand::Rollback { name, to, server } => {
            rollback(&name, to.as_deref(), &server).await
        }
    }
}

/// A plugin directory: the path given, or a bundled plugin unpacked into a
/// temporary directory.
fn plugin_dir(plugin: &str) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    let path = Path::new(plugin);
    if path.exists() {
        return Ok((path.to_path_buf(), None));
    }
    let bundled = parley_bundled::find(plugin).with_context(|| {
        let names: Vec<&str> = parley_bundled::all().iter().map(|p| p.name).collect();
        format!(
            "`{plugin}` is neither a path nor a bundled plugin ({})",
            names.join(", ")
        )
    })?;
    let tmp = tempfile::tempdir()?;
    let dir = bundled.install(tmp.path())?;
    Ok((dir, Some(tmp)))
}

/// The compile cache of command-line tools.
fn cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|d| d.join("parley").join("compiled"))
}

async fn prepare(dir: &Path) -> anyhow::Result<PluginVersion> {
    let engine = PluginRuntime::new(RuntimeSettings {
        max_instances: 16,
        cache_dir: cache_dir(),
        ..RuntimeSettings::default()
    })?;
    let source = read_plugin_dir(dir, "cli").map_err(|e| anyhow::anyhow!("{e}"))?;
    PluginVersion::prepare(
        &engine,
        &LimitPolicy::default(),
        &Services::default(),
        source,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))
}

async fn test(plugin: &str, cases_dir: Option<&Path>, as_json: bool) -> anyhow::Result<ExitCode> {
    let (dir, _tmp) = plugin_dir(plugin)?;
    let version = prepare(&dir).await?;
    let cases = match cases_dir {
        Some(file) if file.is_file() => vec![load_case(file).map_err(anyhow::Error::msg)?],
        Some(dir) if dir.is_dir() => load_cases(dir).map_err(anyhow::Error::msg)?,
        Some(path) => anyhow::bail!("{}: no case file or directory there", path.display()),
        None => version.cases.clone(),
    };
    if cases.is_empty() {
        anyhow::bail!(
            "no fixture cases to run for `{}`: a plugin passes by its cases (docs/fixtures.md)",
            version.name()
        );
    }
    let reports = run_cases(&version, &cases)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let failed = reports.iter().filter(|r| !r.passed()).count();
    if as_json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        println!(
            "{} {} ({}, version {}): {} case(s)",
            version.name(),
            version.manifest.version.as_deref().unwrap_or("-"),
            version.world(),
            version.short_id(),
            reports.len()
        );
        for report in &reports {
            let status = if report.passed() { "PASS" } else { "FAIL" };
            println!(
                "  {status}  {:<40} {:>12} instructions {:>8} µs",
                report.name, report.fuel, report.elapsed_us
            );
            if let CaseOutcome::Failed { reason, diff } = &report.outcome {
                println!("        {reason}");
                for line in diff.iter().flat_map(|d| d.lines()) {
                    println!("        {line}");
                }
            }
        }
        println!("{} passed, {failed} failed", reports.len() - failed);
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn check(plugin: &str) -> anyhow::Result<ExitCode> {
    let (dir, _tmp) = plugin_dir(plugin)?;
    let version = prepare(&dir).await?;
    version
        .validate()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let limits = version.context().limits;
    println!(
        "{} ({}), version {}: ok",
        version.name(),
        version.world(),
        version.short_id()
    );
    println!("  imports:  {}", version.shape.imports.join(", "));
    println!("  exports:  {}", version.shape.exports.join(", "));
    println!(
        "  limits:   {} MiB memory, {} ms deadline, fuel {}",
        limits.memory_bytes >> 20,
        limits.deadline.as_millis(),
        limits
            .fuel
            .map_or("unlimited".to_string(), |f| f.to_string())
    );
    println!("  instances: {:?}", version.manifest.instances.mode);
    println!(
        "  grants:   {}",
        serde_json::to_string(&version.manifest.capabilities)?
    );
    println!("  cases:    {}", version.cases.len());
    if version.cases.is_empty() {
        eprintln!(
            "warning: no fixture cases: nothing is checked before a version goes live (docs/fixtures.md)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A time in milliseconds since the Unix epoch, as RFC 3339 (UTC).
fn timestamp(ms: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_seconds(time).to_string()
}

/// Calls and failures, as listed.
fn calls(stats: &StatsSnapshot) -> String {
    format!(
        "{} calls, {} failed",
        stats.calls,
        stats.failures.iter().map(|(_, n)| n).sum::<u64>()
    )
}

fn describe(record: &VersionRecord, live: &str) -> String {
    format!(
        "{} {} {:<10} {:<12} loaded {}{}",
        if record.id == live { "*" } else { " " },
        short_id(&record.id),
        record.author_version.as_deref().unwrap_or("-"),
        record.origin,
        timestamp(record.loaded_at_ms),
        record
            .stats
            .as_ref()
            .map(|stats| format!(" — {}", calls(stats)))
            .unwrap_or_default()
    )
}

async fn list(server: &ServerArgs, as_json: bool) -> anyhow::Result<ExitCode> {
    let plugins: Vec<PluginStatus> = Client::new(server)?.get("/v1/plugins").await?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&plugins)?);
        return Ok(ExitCode::SUCCESS);
    }
    for plugin in &plugins {
        println!(
            "{} ({}): live {} — {}",
            plugin.name,
            plugin.world,
            short_id(&plugin.live.id),
            calls(&plugin.live.stats)
        );
        for record in &plugin.versions {
            println!("    {}", describe(record, &plugin.live.id));
        }
        if let Some(refused) = &plugin.last_refused {
            println!(
                "    last refused {}: {}",
                short_id(&refused.version),
                refused.message
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_loaded(loaded: &Loaded) {
    if loaded.unchanged {
        println!(
            "{}: version {} is already live",
            loaded.plugin,
            short_id(&loaded.version)
        );
    } else {
        println!(
            "{}: version {} is live (was {})",
            loaded.plugin,
            short_id(&loaded.version),
            loaded.replaced.as_deref().map_or("none", short_id)
        );
    }
}

/// The plugin in `dir` as the API takes an upload.
fn upload_body(plugin: &Path) -> anyhow::Result<Json> {
    let source = read_plugin_dir(plugin, "cli").map_err(|e| anyhow::anyhow!("{e}"))?;
    let cases: serde_json::Map<String, Json> = source
        .cases
        .iter()
        .map(|case| Ok((case.name.clone(), serde_json::to_value(case)?)))
        .collect::<anyhow::Result<_>>()?;
    Ok(json!({
        "manifest": source.manifest_text(),
        "component": base64::engine::general_purpose::STANDARD.encode(source.component().as_slice()),
        "cases": cases,
    }))
}

async fn load(plugin: &Path, server: &ServerArgs) -> anyhow::Result<ExitCode> {
    let body = upload_body(plugin)?;
    let loaded: Loaded = Client::new(server)?.post("/v1/plugins", &body).await?;
    print_loaded(&loaded);
    Ok(ExitCode::SUCCESS)
}

async fn rollback(name: &str, to: Option<&str>, server: &ServerArgs) -> anyhow::Result<ExitCode> {
    let loaded: Loaded = Client::new(server)?
        .post(
            &format!("/v1/plugins/{name}/rollback"),
            &json!({ "to": to }),
        )
        .await?;
    print_loaded(&loaded);
    Ok(ExitCode::SUCCESS)
}

async fn replay(recording: &Path, plugin: &str, as_json: bool) -> anyhow::Result<ExitCode> {
    let recorded = read_recording(recording).map_err(anyhow::Error::msg)?;
    let (dir, _tmp) = plugin_dir(plugin)?;
    let version = prepare(&dir).await?;
    let report = parley_plugin::observe::replay::replay(&version, &recorded)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} version {}: {} call(s) replayed, {} the same, {} changed",
        version.name(),
        version.short_id(),
        report.calls,
        report.same,
        report.changed.len()
    );
    for changed in &report.changed {
        println!(
            "  CHANGED  {} {}{}: {}",
            changed.call,
            changed.function,
            changed
                .about
                .as_deref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default(),
            changed.reason
        );
        for line in changed.diff.iter().flat_map(|d| d.lines()) {
            println!("        {line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn fetch_recording(name: &str, out: &Path, server: &ServerArgs) -> anyhow::Result<ExitCode> {
    let lines = Client::new(server)?
        .get_bytes(&format!("/v1/plugins/{name}/recording/calls"))
        .await?;
    std::fs::write(out, &lines).with_context(|| format!("cannot write {}", out.display()))?;
    let calls = lines.iter().filter(|b| **b == b'\n').count();
    println!(
        "{name}: {calls} recorded call(s) written to {}",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn print_shadow(summary: &ShadowSummary) {
    let agreement = summary
        .agreement
        .map_or("-".to_string(), |a| format!("{:.1} %", a * 100.0));
    println!(
        "{}: candidate {} — {} compared, {} agreed ({agreement}), {} failed, {} skipped",
        summary.plugin,
        summary.candidate,
        summary.total.compared,
        summary.total.agreed,
        summary.total.failed,
        summary.skipped
    );
    for (function, tally) in &summary.functions {
        println!(
            "    {function:<18} {} compared, {} agreed, {} failed",
            tally.compared, tally.agreed, tally.failed
        );
    }
    for d in &summary.disagreements {
        println!(
            "    differs: {}{}: live {} / candidate {}",
            d.function,
            d.interaction
                .as_deref()
                .map(|i| format!(" ({i})"))
                .unwrap_or_default(),
            d.live,
            d.candidate
        );
    }
}

async fn shadow(action: ShadowAction) -> anyhow::Result<ExitCode> {
    let (summary, as_json): (ShadowSummary, bool) = match action {
        ShadowAction::Start { plugin, server } => {
            let body = upload_body(&plugin)?;
            let name = body["manifest"]
                .as_str()
                .and_then(|m| m.parse::<toml::Table>().ok())
                .and_then(|t| t.get("name")?.as_str().map(str::to_string))
                .context("the manifest has no name")?;
            let summary = Client::new(&server)?
                .post(&format!("/v1/plugins/{name}/shadow"), &body)
                .await?;
            (summary, false)
        }
        ShadowAction::Status { name, json, server } => (
            Client::new(&server)?
                .get(&format!("/v1/plugins/{name}/shadow"))
                .await?,
            json,
        ),
        ShadowAction::Stop { name, json, server } => (
            Client::new(&server)?
                .delete(&format!("/v1/plugins/{name}/shadow"))
                .await?,
            json,
        ),
    };
    if as_json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_shadow(&summary);
    }
    Ok(ExitCode::SUCCESS)
}
