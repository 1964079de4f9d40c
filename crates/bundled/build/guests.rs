//! Builds guest crates of the workspace for `wasm32-wasip2`, from a build
//! script, in a target directory of their own (the outer build holds the
//! lock on the main one). Shared by the build scripts of `parley-bundled` and `tests`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Rust target of plugins.
pub const GUEST_TARGET: &str = "wasm32-wasip2";

/// Where guests are built: `guests/` (or `guests-<flavor>/`) beside the
/// profile directories of the outer build's target directory.
fn guest_target_dir(flavor: Option<&str>) -> PathBuf {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let build = out
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .expect("OUT_DIR lies under a build directory");
    build
        .parent()
        .and_then(Path::parent)
        .expect("target directory")
        .join(flavor.map_or_else(|| "guests".to_string(), |f| format!("guests-{f}")))
}

/// Builds `packages` (workspace members) in release mode for the guest
/// target and returns each one's `.wasm` path, in order.
pub fn build_guests(workspace: &Path, packages: &[String]) -> Vec<PathBuf> {
    build_guest_flavor(workspace, packages, None)
}

/// Builds `packages` with their cargo feature `flavor` on (e.g. a plugin
/// built against an older contract version), in a target directory of
/// that flavor's own, so its `.wasm` files do not replace the usual ones.
pub fn build_guest_flavor(
    workspace: &Path,
    packages: &[String],
    flavor: Option<&str>,
) -> Vec<PathBuf> {
    let target_dir = guest_target_dir(flavor);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args([
            "build",
            "--release",
            "--target",
            GUEST_TARGET,
            "--target-dir",
        ])
        .arg(&target_dir)
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "true");
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
    ] {
        command.env_remove(var);
    }
    for package in packages {
        command.args(["-p", package]);
    }
    if let Some(feature) = flavor {
        command.args(["--features", feature]);
    }
    let output = command
        .output()
        .expect("running cargo for the guest plugins");
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let hint = if stderr.contains(GUEST_TARGET) {
            format!("\nhint: install the target with `rustup target add {GUEST_TARGET}`")
        } else {
            String::new()
        };
        panic!("building guest plugins {packages:?} failed:\n{stderr}{hint}");
    }
    packages
        .iter()
        .map(|p| {
            target_dir
                .join(GUEST_TARGET)
                .join("release")
                .join(format!("{}.wasm", p.replace('-', "_")))
        })
        .collect()
}

/// Asks cargo to run the build script again when anything under `dirs`
/// (relative to the workspace) changes.
pub fn rerun_if_changed(workspace: &Path, dirs: &[&str]) {
    for dir in dirs {
        println!("cargo:rerun-if-changed={}", workspace.join(dir).display());
    }
}
