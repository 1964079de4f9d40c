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
        &["tests/guests", "sdk/src", "wit", "Cargo.lock"],
    );
    let mut names: Vec<String> = std::fs::read_dir(workspace.join("tests/guests"))
        .expect("tests/guests")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let wasm = guests::build_guests(&workspace, &names);
    let mut code = String::new();
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
