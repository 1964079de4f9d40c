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

source scripts/packages.sh

step "build (the tests also run the parley binary as a process)"
cargo build --release --locked "${packages[@]}"

step "lints"
cargo clippy --release --locked --workspace --all-targets -- -D warnings

step "tests (PostgreSQL for the store tests, Dovecot and an SMTP server for the e-mail tests, Chromium for the browser test, componentize-py and ComponentizeJS for the Python and JavaScript plugins, an OpenAPI validator and client generator for the API document: found, started or installed)"
source scripts/postgres.sh
source scripts/mail-peers.sh
source scripts/browser.sh
source scripts/polyglot.sh
source scripts/openapi.sh
cargo test --release --locked "${packages[@]}"

step "fuzzing (the parsers of untrusted input, for a bounded time each)"
./scripts/fuzz.sh
