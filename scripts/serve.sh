#!/usr/bin/env bash
# Starts Parley on the embedded defaults: data in ./parley-data, the API on
# http://127.0.0.1:8080, the bundled plugins installed and watched in
# ./parley-data/plugins. Extra arguments go to `parley serve`. It builds
# what scripts/test.sh builds (the tests too), so either command reuses
# the other's build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
source scripts/packages.sh
cargo build --release --locked "${packages[@]}"
exec "${CARGO_TARGET_DIR:-target}/release/parley" serve "$@"
