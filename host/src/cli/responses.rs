//! `parley responses export | import`: move the library of standard
//! responses of a running server to and from a file (the format is
//! described in docs/contacts.md).

use anyhow::Context;
use clap::Subcommand;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::client::{Client, ServerArgs};

/// `parley responses` subcommands.
#[derive(Debug, Subcommand)]
pub enum ResponsesCommand {
    /// Write every category and standard response of a running server to
    /// FILE (`-`: standard output).
    Export {
        /// The file to write.
        file: PathBuf,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Import FILE into a running server: categories and responses are
    /// created or replaced by id, the rest kept (with --replace the file
    /// becomes the whole library). A file the server refuses changes
    /// nothing.
    Import {
        /// The file to read.
        file: PathBuf,
        /// Replace the whole library instead of merging by id.
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// Runs a `parley responses` subcommand.
pub async fn run(command: ResponsesCommand) -> anyhow::Result<ExitCode> {
    match command {
        ResponsesCommand::Export { file, server } => export(&file, &server).await,
        ResponsesCommand::Import {
            file,
            replace,
            server,
        } => import(&file, replace, &server).await,
    }
}

async fn export(file: &Path, server: &ServerArgs) -> anyhow::Result<ExitCode> {
    let library: Json = Client::new(server)?.get("/v1/responses/export").await?;
    let text = serde_json::to_string_pretty(&library)? + "\n";
    if file == Path::new("-") {
        print!("{text}");
    } else {
        std::fs::write(file, text).with_context(|| format!("cannot write {}", file.display()))?;
        eprintln!(
            "exported {} categories and {} responses to {}",
            count(&library, "categories"),
            count(&library, "responses"),
            file.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn count(json: &Json, key: &str) -> usize {
    json[key].as_array().map_or(0, Vec::len)
}

async fn import(file: &Path, replace: bool, server: &ServerArgs) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let library: Json =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let mode = if replace { "replace" } else { "merge" };
    let imported: Json = Client::new(server)?
        .post(&format!("/v1/responses/import?mode={mode}"), &library)
        .await?;
    println!(
        "imported {} categories and {} responses ({mode})",
        imported["categories"], imported["responses"]
    );
    Ok(ExitCode::SUCCESS)
}
