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

/// A world `parley plugin new` makes plugins for.
struct World {
    /// Its name, as in `plugin.toml` and the WIT.
    name: &'static str,
    /// The interface it exports.
    export: &'static str,
    /// Host interfaces its template uses beyond `log` and `config`.
    imports: &'static [&'static str],
    /// The manifest template.
    manifest: &'static str,
    /// Its fixture cases, the same in every language: a JSON list of
    /// `{file, case}`.
    cases: &'static str,
}

const WORLDS: &[World] = &[
    World {
        name: "router",
        export: "routing",
        imports: &[],
        manifest: include_str!("templates/plugin-router.toml.tmpl"),
        cases: include_str!("templates/cases-router.json"),
    },
    World {
        name: "screener",
        export: "screening",
        imports: &["patterns"],
        manifest: include_str!("templates/plugin-screener.toml.tmpl"),
        cases: include_str!("templates/cases-screener.json"),
    },
    World {
        name: "mime-transformer",
        export: "mime-transform",
        imports: &[],
        manifest: include_str!("templates/plugin-mime-transformer.toml.tmpl"),
        cases: include_str!("templates/cases-mime-transformer.json"),
    },
];

/// The files of a plugin in `lang` implementing `world`, with `{{name}}`,
/// `{{crate}}` (the name with `_` for `-`), `{{world}}`, `{{export}}` and
/// `{{imports}}` to fill in.
fn template(lang: Lang, world: &str) -> Vec<(&'static str, &'static str)> {
    macro_rules! source {
        ($dir:literal, $ext:literal) => {
            match world {
                "router" => include_str!(concat!("templates/", $dir, "/router.", $ext, ".tmpl")),
                "screener" => {
                    include_str!(concat!("templates/", $dir, "/screener.", $ext, ".tmpl"))
                }
                _ => include_str!(concat!(
                    "templates/",
                    $dir,
                    "/mime-transformer.",
                    $ext,
                    ".tmpl"
                )),
            }
        };
    }
    match lang {
        Lang::Rust => vec![
            ("Cargo.toml", include_str!("templates/rust/Cargo.toml.tmpl")),
            ("build.sh", include_str!("templates/rust/build.sh.tmpl")),
            ("src/lib.rs", source!("rust", "rs")),
        ],
        Lang::Python => vec![
            ("build.sh", include_str!("templates/python/build.sh.tmpl")),
            (
                "world/world.wit",
                include_str!("templates/python/world.wit.tmpl"),
            ),
            ("app.py", source!("python", "py")),
        ],
        Lang::Js => vec![
            ("build.sh", include_str!("templates/js/build.sh.tmpl")),
            (
                "wit/zz-js-world.wit",
                include_str!("templates/js/world.wit.tmpl"),
            ),
            ("app.js", source!("js", "js")),
        ],
    }
}

/// The `[limits]` (and `[instances]`) of a new plugin in `lang`.
fn limits(lang: Lang) -> &'static str {
    match lang {
        Lang::Rust => "[limits]\nmemory-mb = 16\ndeadline-ms = 100\n",
        Lang::Python | Lang::Js => {
            "# The guest carries its interpreter: more memory than Rust, and warm\n\
             # instances, since a fresh one costs about a millisecond.\n\
             [limits]\nmemory-mb = 32\ndeadline-ms = 250\n\n[instances]\nmode = \"warm\"\n"
        }
    }
}

/// The import lines of `world`'s narrowed world in `lang`'s world file.
fn import_lines(lang: Lang, world: &World) -> String {
    world
        .imports
        .iter()
        .map(|interface| match lang {
            Lang::Python => format!("    import parley:plugin/{interface}@0.2.0;\n"),
            _ => format!("    import {interface};\n"),
        })
        .collect()
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
    let Some(world) = WORLDS.iter().find(|w| w.name == world) else {
        let known: Vec<&str> = WORLDS.iter().map(|w| w.name).collect();
        bail!(
            "`parley plugin new` makes plugins of the worlds {}, not `{world}`",
            known.join(", ")
        );
    };
    if !valid_name(name) {
        bail!(
            "a plugin name is lowercase letters, digits and `-`, starting with a letter: `{name}`"
        );
    }
    if dir.exists() {
        bail!("{} exists already", dir.display());
    }
    let crate_name = name.replace('-', "_");
    let imports = import_lines(lang, world);
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{crate}}", &crate_name)
            .replace("{{world}}", world.name)
            .replace("{{export}}", world.export)
            .replace("{{imports}}", &imports)
            .replace("{{limits}}", limits(lang))
    };
    let cases: Vec<serde_json::Value> = serde_json::from_str(world.cases)
        .with_context(|| format!("the bundled {} cases", world.name))?;
    let mut files: Vec<(PathBuf, String)> = template(lang, world.name)
        .into_iter()
        .chain([("plugin.toml", world.manifest)])
        .chain(WIT.iter().copied())
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
        "created {} ({lang:?} {}). Next:\n  cd {}\n  ./build.sh\n  parley plugin test .",
        dir.display(),
        world.name,
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
