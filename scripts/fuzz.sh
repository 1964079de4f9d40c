#!/usr/bin/env bash
# Runs every fuzz target of tests/fuzz (cargo fuzz, libFuzzer) for a
# bounded time each, from the committed seeds and the corpus earlier runs
# grew (kept in ~/.cache/parley/fuzz, outside the clone). A crash fails the
# run and leaves its input in tests/fuzz/artifacts/<target>/; replay it
# with `cargo fuzz run --fuzz-dir tests/fuzz <target> <file>`.
#
#   PARLEY_FUZZ_SECONDS   time per target (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

seconds="${PARLEY_FUZZ_SECONDS:-30}"
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz --version 0.13.2
fi
# cargo fuzz passes libFuzzer's instrumentation flags to rustc, which only a
# nightly compiler takes unless told to; the sanitizers are off (the code is
# safe Rust), so no nightly-only runtime is needed.
export RUSTC_BOOTSTRAP=1
# Optimised as released (`-O`: no debug assertions, which third-party
# parsers keep for their own invariants and which fire on input they then
# handle), with overflow checks on, so an arithmetic overflow is a crash.
export RUSTFLAGS="${RUSTFLAGS:-} -Coverflow-checks"
fuzz=(--fuzz-dir tests/fuzz --sanitizer none --codegen-units 16 -O)
cargo fuzz build "${fuzz[@]}"

corpora="$HOME/.cache/parley/fuzz"
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
# Seeds from what the project has: the e-mail corpus, the plugins'
# manifests and fixture cases.
mkdir -p "$seeds/mime_intake" "$seeds/manifest" "$seeds/wit_values"
cp tests/corpus/email/*.eml "$seeds/mime_intake/"
for file in plugins/*/plugin.toml plugins/*/*/plugin.toml plugins/*/cases/*.json; do
    case "$file" in
        *.toml) into=manifest ;;
        *) into=wit_values ;;
    esac
    [ -f "$file" ] && cp "$file" "$seeds/$into/$(echo "$file" | tr / _)"
done

for target in $(cargo fuzz list --fuzz-dir tests/fuzz); do
    mkdir -p "$corpora/$target" "$seeds/$target"
    committed=tests/fuzz/seeds/$target
    [ -d "$committed" ] && cp "$committed"/* "$seeds/$target/"
    printf '\n== fuzz %s (%s s)\n' "$target" "$seconds"
    # libFuzzer reports every new input; the log keeps that, the console
    # the summary (or, on a crash, the end of the log with the input).
    log="$seeds/$target.log"
    if ! cargo fuzz run "${fuzz[@]}" "$target" "$corpora/$target" "$seeds/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
        -print_final_stats=1 >"$log" 2>&1; then
        tail -n 80 "$log"
        exit 1
    fi
    grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb)' "$log" || true
done
