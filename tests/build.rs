//! Builds the test guests in `tests/guests/` for wasm32-wasip2 and tells
//! the tests where they are (`guests.rs` in OUT_DIR).

#[path = "../crates/bundled/build/guests.rs"]
mod guests;

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    // Read when the script runs, not when it was compiled: a script built
    // for a checkout elsewhere (a shared target directory) must not read
    // that checkout.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let workspace = Path::new(&manifest_dir)
        .parent()
        .expect("workspace")
        .to_path_buf();
    guests::rerun_if_changed(
        &workspace,
        &[
            "tests/guests",
            "sdk/src",
            "wit",
            "plugins/skills-router",
            "Cargo.lock",
        ],
    );
    let mut names: Vec<String> = std::fs::read_dir(workspace.join("tests/guests"))
        .expect("tests/guests")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let wasm = guests::build_guests(&workspace, &names);
    // The reference router, as built against the frozen 0.1.0 contract:
    // the same strategy as the bundled one, which is built against the
    // latest.
    let v0_1 = guests::build_guest_flavor(
        &workspace,
        &["skills-router".to_string()],
        Some("contract-v0-1"),
    );
    let mut code = String::new();
    writeln!(
        code,
        "/// The reference `skills-router`, built against `parley:plugin@0.1.0`.\npub const SKILLS_ROUTER_V0_1: &str = {:?};",
        v0_1[0].display().to_string()
    )
    .unwrap();
    for (name, path) in names.iter().zip(&wasm) {
        writeln!(
            code,
            "/// The `{name}` test guest.\npub const {}: &str = {:?};",
            name.to_uppercase().replace('-', "_"),
            path.display().to_string()
        )
        .unwrap();
    }
    std::fs::write(
        Path::new(&std::env::var("OUT_DIR").unwrap()).join("guests.rs"),
        code,
    )
    .unwrap();
}
