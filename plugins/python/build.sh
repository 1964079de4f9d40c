#!/usr/bin/env bash
# Builds every Python plugin under this directory (each directory with a
# plugin.toml) into <dir>/plugin.wasm with componentize-py.
#
#   plugins/python/build.sh [plugin-dir...]
#
# componentize-py is $PARLEY_COMPONENTIZE_PY, else the one on PATH. A plugin
# whose plugin.wasm is newer than its sources, the shared modules in lib/
# and the WIT files is skipped.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
wit="$(cd "$here/../../wit/v0.2.0" && pwd)"
narrow="$here/wit"
lib="$here/lib"

if [[ $# -gt 0 ]]; then
    dirs=()
    for d in "$@"; do dirs+=("$(cd "$d" && pwd)"); done
else
    dirs=()
    for manifest in "$here"/*/plugin.toml; do
        [[ -e "$manifest" ]] && dirs+=("$(dirname "$manifest")")
    done
fi

# Whether $1 is missing or older than any source it is built from.
stale() {
    local out="$1" dir="$2"
    [[ -e "$out" ]] || return 0
    [[ -n "$(find "$dir" "$lib" "$wit" "$narrow" "$here/build.sh" \
        -newer "$out" -type f \( -name '*.py' -o -name '*.wit' -o -name 'build.sh' \) \
        -not -path '*/__pycache__/*' -print -quit)" ]]
}

cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT

for dir in "${dirs[@]}"; do
    name="$(basename "$dir")"
    world="$(sed -n 's/^world *= *"\([a-z-]*\)".*/\1/p' "$dir/plugin.toml" | head -n 1)"
    if [[ -z "$world" ]]; then
        echo "build.sh: $dir/plugin.toml names no world" >&2
        exit 1
    fi
    out="$dir/plugin.wasm"
    if ! stale "$out" "$dir"; then
        echo "$name: up to date"
        continue
    fi
    if [[ -z "${componentize:-}" ]]; then
        componentize="${PARLEY_COMPONENTIZE_PY:-$(command -v componentize-py || true)}"
        if [[ -z "$componentize" || ! -x "$componentize" ]]; then
            echo "build.sh: componentize-py not found: set PARLEY_COMPONENTIZE_PY or put it on PATH" >&2
            exit 1
        fi
    fi
    echo "$name: building ($world world)"
    # componentize-py imports every interface of the world it targets; the
    # intersection with wit/narrow.wit keeps only those the plugin may use
    # without grants its manifest does not have (kv, clock).
    # Build from a copy of the sources, so that the bytecode componentize-py
    # writes beside them stays out of the source tree.
    stage="$cache/$name"
    mkdir -p "$stage/app" "$stage/lib"
    tar -C "$dir" --exclude=__pycache__ --exclude='*.wasm' --exclude='*.tmp' -cf - . | tar -C "$stage/app" -xf -
    tar -C "$lib" --exclude=__pycache__ -cf - . | tar -C "$stage/lib" -xf -
    tmp="$out.tmp"
    (cd "$stage" && "$componentize" -q -d "$wit" -d "$narrow" -w "parley:plugin/$world" \
        componentize -i "parley-python:narrow/$world" -p "$stage/app" -p "$stage/lib" app -o "$tmp")
    mv "$tmp" "$out"
done
