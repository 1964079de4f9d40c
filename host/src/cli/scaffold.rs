//! `parley plugin new`: a plugin directory that builds and passes its
//! fixture cases as created, in Rust, Python or JavaScript. It carries its
//! own copy of the WIT contract (`wit/`), so it builds anywhere.

use anyhow::{Context, bail};
use clap::ValueEnum;
use std::path::{Path, PathBuf};

/// The language of a new plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// Rust with wit-bindgen (`cargo build --target wasm32-wasip2`).
    Rust,
    /// Python with componentize-py.
    Python,
    /// JavaScript with ComponentizeJS.
    Js,
}

/// The WIT contract, as the plugin builds against it.
const WIT: &[(&str, &str)] = &[
    ("wit/types.wit", include_str!("../../../wit/types.wit")),
    ("wit/host.wit", include_str!("../../../wit/host.wit")),
    ("wit/routing.wit", include_str!("../../../wit/routing.wit")),
    (
        "wit/screening.wit",
        include_str!("../../../wit/screening.wit"),
    ),
    ("wit/mime.wit", include_str!("../../../wit/mime.wit")),
    ("wit/worlds.wit", include_str!("../../../wit/worlds.wit")),
];

/// The router template of each language: files with `{{name}}` and
/// `{{crate}}` (the name with `_` for `-`) to fill in.
fn router_template(lang: Lang) -> &'static [(&'static str, &'static str)] {
    match lang {
        Lang::Rust => &[
            (
                "Cargo.toml",
                include_str!("templates/rust-router/Cargo.toml.tmpl"),
            ),
            (
                "plugin.toml",
                include_str!("templates/rust-router/plugin.toml.tmpl"),
            ),
            (
                "src/lib.rs",
                include_str!("templates/rust-router/src/lib.rs.tmpl"),
            ),
        ],
        Lang::Python => &[
            (
                "plugin.toml",
                include_str!("templates/python-router/plugin.toml.tmpl"),
            ),
            (
                "app.py",
                include_str!("templates/python-router/app.py.tmpl"),
            ),
        ],
        Lang::Js => &[
            (
                "plugin.toml",
                include_str!("templates/js-router/plugin.toml.tmpl"),
            ),
            ("app.js", include_str!("templates/js-router/app.js.tmpl")),
        ],
    }
}

/// The router's fixture cases, the same in every language.
const ROUTER_CASES: &str = include_str!("templates/router-cases.json");

/// How to build a plugin of `lang`, for the message after creating it.
fn build_hint(lang: Lang) -> &'static str {
    match lang {
        Lang::Rust => "cargo build --release --target wasm32-wasip2",
        Lang::Python => "componentize-py -d wit -w router componentize app -o plugin.wasm",
        Lang::Js => "componentize-js app.js -w wit -n router -o plugin.wasm -d http -d fetch-event",
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Creates plugin `name` of `world` in `lang` in directory `dir`, which
/// must not exist yet; returns what to run next.
pub fn create(world: &str, lang: Lang, name: &str, dir: &Path) -> anyhow::Result<String> {
    if world != "router" {
        bail!("`parley plugin new` makes routers for now (`--world router`), not `{world}`");
    }
    if !valid_name(name) {
        bail!(
            "a plugin name is lowercase letters, digits and `-`, starting with a letter: `{name}`"
        );
    }
    if dir.exists() {
        bail!("{} exists already", dir.display());
    }
    let crate_name = name.replace('-', "_");
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{crate}}", &crate_name)
    };
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(ROUTER_CASES).context("the bundled router cases")?;
    let mut files: Vec<(PathBuf, String)> = router_template(lang)
        .iter()
        .chain(WIT)
        .map(|(path, text)| (dir.join(path), fill(text)))
        .collect();
    for case in &cases {
        let file = case["file"]
            .as_str()
            .context("a case without a file name")?;
        files.push((
            dir.join("cases").join(file),
            serde_json::to_string_pretty(&case["case"])? + "\n",
        ));
    }
    for (path, text) in &files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(format!(
        "created {} ({lang:?} router). Next:\n  cd {}\n  {}\n  parley plugin test .",
        dir.display(),
        dir.display(),
        build_hint(lang)
    ))
}
