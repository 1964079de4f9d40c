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
    (
        "wit/types.wit",
        include_str!("../../../wit/v0.2.0/types.wit"),
    ),
    ("wit/host.wit", include_str!("../../../wit/v0.2.0/host.wit")),
    (
        "wit/routing.wit",
        include_str!("../../../wit/v0.2.0/routing.wit"),
    ),
    (
        "wit/screening.wit",
        include_str!("../../../wit/v0.2.0/screening.wit"),
    ),
    ("wit/mime.wit", include_str!("../../../wit/v0.2.0/mime.wit")),
    (
        "wit/worlds.wit",
        include_str!("../../../wit/v0.2.0/worlds.wit"),
    ),
];

/// The router template of each language: files with `{{name}}` and
/// `{{crate}}` (the name with `_` for `-`) to fill in.
fn router_template(lang: Lang) -> &'static [(&'static str, &'static str)] {
    macro_rules! files {
        ($dir:literal: $($path:literal => $template:literal),* $(,)?) => {
            &[$(($path, include_str!(concat!("templates/", $dir, "/", $template)))),*]
        };
    }
    match lang {
        Lang::Rust => files!("rust-router":
            "Cargo.toml" => "Cargo.toml.tmpl",
            "build.sh" => "build.sh.tmpl",
            "plugin.toml" => "plugin.toml.tmpl",
            "src/lib.rs" => "src/lib.rs.tmpl",
        ),
        Lang::Python => files!("python-router":
            "build.sh" => "build.sh.tmpl",
            "plugin.toml" => "plugin.toml.tmpl",
            "app.py" => "app.py.tmpl",
            "world/world.wit" => "world.wit.tmpl",
        ),
        Lang::Js => files!("js-router":
            "build.sh" => "build.sh.tmpl",
            "plugin.toml" => "plugin.toml.tmpl",
            "app.js" => "app.js.tmpl",
            "wit/zz-js-router.wit" => "world.wit.tmpl",
        ),
    }
}

/// The router's fixture cases, the same in every language.
const ROUTER_CASES: &str = include_str!("templates/router-cases.json");

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
    make_executable(&dir.join("build.sh"))?;
    Ok(format!(
        "created {} ({lang:?} router). Next:\n  cd {}\n  ./build.sh\n  parley plugin test .",
        dir.display(),
        dir.display(),
    ))
}

#[cfg(unix)]
fn make_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}
