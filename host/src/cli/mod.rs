//! The `parley` command line.

mod client;
mod plugin;
mod responses;
mod scaffold;

use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::settings::Settings;

/// Parley: a digital-engagement platform whose routing strategies,
/// screening rules and other customisations are sandboxed WebAssembly
/// plugins.
#[derive(Debug, Parser)]
#[command(name = "parley", version, propagate_version = true)]
struct Cli {
    /// Log filter, e.g. `info` or `parley=debug,plugin=trace`.
    #[arg(long, global = true, env = "PARLEY_LOG", default_value = "info")]
    log: String,
    /// Log as JSON lines instead of text.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server: the API, the interaction store, the plugin runtime
    /// and the watchers of the plugin directory and the business-process
    /// file. With no settings file it keeps everything in `./parley-data`
    /// (a SQLite database, the bundled plugins, a demo business process)
    /// and listens on 127.0.0.1:8080.
    Serve(ServeArgs),
    /// Test, check, list, load and roll back plugins.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Export and import the standard responses of a running server.
    #[command(subcommand)]
    Responses(responses::ResponsesCommand),
}

/// `parley serve`.
#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Settings file (TOML); every key is optional.
    #[arg(long, short, env = "PARLEY_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on (overrides the settings).
    #[arg(long, env = "PARLEY_LISTEN")]
    listen: Option<std::net::SocketAddr>,
    /// Data directory (overrides the settings).
    #[arg(long, env = "PARLEY_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Watched plugin directory (overrides the settings).
    #[arg(long, env = "PARLEY_PLUGINS_DIR")]
    plugins_dir: Option<PathBuf>,
}

fn init_logging(filter: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log, cli.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await.map(|()| ExitCode::SUCCESS),
            Command::Plugin(command) => plugin::run(command).await,
            Command::Responses(command) => responses::run(command).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut settings = Settings::load(args.config.as_deref())?;
    if let Some(listen) = args.listen {
        settings.listen = listen;
    }
    if let Some(dir) = args.data_dir {
        settings.data_dir = dir;
    }
    if let Some(dir) = args.plugins_dir {
        settings.plugins_dir = Some(dir);
    }
    crate::app::serve(settings).await
}
