#!/usr/bin/env bash
# Starts Parley on the embedded defaults: data in ./parley-data, the API on
# http://127.0.0.1:8080, the bundled plugins installed and watched in
# ./parley-data/plugins. Extra arguments go to `parley serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
exec cargo run --release --locked --bin parley -- serve "$@"
