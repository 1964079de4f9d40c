//! Builds the reference plugins in `plugins/` and embeds them (component,
//! manifest, fixture cases) into the binary as its bundled plugins.

#[path = "build/guests.rs"]
mod guests;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    // Read when the script runs, not when it was compiled: a script built
    // for a checkout elsewhere (a shared target directory) must not read
    // that checkout.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let workspace = Path::new(&manifest_dir)
        .ancestors()
        .nth(2)
        .expect("workspace")
        .to_path_buf();
    let mut plugin_dirs: Vec<PathBuf> = std::fs::read_dir(workspace.join("plugins"))
        .expect("plugins/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("plugin.toml").is_file())
        .collect();
    plugin_dirs.sort();
    let packages: Vec<String> = plugin_dirs
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // The bundled plugins' own directories, not all of `plugins/`: the
    // Python and JavaScript ports there get tools installed and components
    // built beside them, which must not rebuild the binary. A new bundled
    // plugin is a new workspace member, so `Cargo.toml` changes with it.
    let mut watched: Vec<String> = packages.iter().map(|p| format!("plugins/{p}")).collect();
    watched.extend(["sdk/src", "wit", "Cargo.toml", "Cargo.lock"].map(String::from));
    guests::rerun_if_changed(
        &workspace,
        &watched.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let wasm = guests::build_guests(&workspace, &packages);

    let mut code = String::from(
        "/// The plugins built into this binary.\nstatic BUNDLED: &[BundledPlugin] = &[\n",
    );
    for (dir, wasm) in plugin_dirs.iter().zip(&wasm) {
        let manifest_path = dir.join("plugin.toml");
        let manifest: toml::Table = std::fs::read_to_string(&manifest_path)
            .expect("plugin.toml")
            .parse()
            .expect("plugin.toml is TOML");
        let name = manifest["name"].as_str().expect("name");
        let component = manifest
            .get("component")
            .and_then(|c| c.as_str())
            .unwrap_or("plugin.wasm");
        let mut cases: Vec<PathBuf> = std::fs::read_dir(dir.join("cases"))
            .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        cases.retain(|p| p.extension().is_some_and(|x| x == "json"));
        cases.sort();
        let cases: String = cases
            .iter()
            .map(|p| {
                format!(
                    "({:?}, include_str!({:?})), ",
                    p.file_name().unwrap().to_string_lossy(),
                    p.display().to_string()
                )
            })
            .collect();
        writeln!(
            code,
            "    BundledPlugin {{ name: {name:?}, manifest: include_str!({manifest:?}), component_file: {component:?}, component: include_bytes!({wasm:?}), cases: &[{cases}] }},",
            manifest = manifest_path.display().to_string(),
            wasm = wasm.display().to_string(),
        )
        .unwrap();
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out.join("bundled.rs"), code).expect("writing bundled.rs");
}
