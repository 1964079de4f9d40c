#!/usr/bin/env bash
# Runs every check and test of Parley: formatting, lints, unit and
# integration tests (real plugins built from source, a real server, the CLI
# as a process) and a test-mode run of the benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

step() { printf '\n== %s\n' "$*"; }

step "formatting"
cargo fmt --all --check

step "build (the parley binary is used by the CLI tests)"
cargo build --release --locked --bin parley

step "lints"
cargo clippy --release --locked --workspace --all-targets -- -D warnings

step "tests"
cargo test --release --locked -p parley -p parley-tests --all-targets
