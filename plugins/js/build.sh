#!/usr/bin/env bash
# Builds every plugin directory under plugins/js (one with a plugin.toml and
# an app.js) into <dir>/plugin.wasm with ComponentizeJS, against the WIT
# contract in ../../wit. A plugin whose plugin.wasm is newer than its sources,
# the shared lib/, its manifest, the WIT files and the pinned tool is skipped.
#
# ComponentizeJS makes a component import every interface of the world it
# targets, and the host refuses a component importing `kv`, `clock` or
# `plugins` without the grant. So each plugin is built against a world
# generated from its manifest: the world's export, `log`, `config` and
# `patterns` (which need no grant), plus only the host interfaces its
# [capabilities] grant.
#
# Usage: plugins/js/build.sh [plugin-dir-name...]   (default: all)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
wit="$(cd "$here/../../wit/v0.2.0" && pwd)"
cd "$here"

if [ ! -x node_modules/.bin/componentize-js ]; then
  npm ci --no-audit --no-fund
fi
componentize="$here/node_modules/.bin/componentize-js"

# The value of `key = ...` in the [table] of a manifest ("" at the top level).
manifest_value() {
  awk -v table="$2" -v key="$3" '
    /^[[:space:]]*\[/ { t = $0; gsub(/^[[:space:]]*\[|\][[:space:]]*$/, "", t); next }
    t == table {
      line = $0; sub(/#.*/, "", line)
      if (match(line, "^[[:space:]]*" key "[[:space:]]*=")) {
        v = substr(line, RLENGTH + 1); gsub(/^[[:space:]]+|[[:space:]]+$/, "", v); print v; exit
      }
    }' "$1"
}

# The WIT world a plugin is built against: its manifest's world, narrowed
# to the host interfaces it is granted.
world_wit() {
  local manifest="$1" world="$2" export imports
  case "$world" in
    router) export=routing ;;
    screener) export=screening ;;
    mime-transformer) export=mime-transform ;;
    *) echo "unknown world \`$world\` in $manifest" >&2; return 1 ;;
  esac
  imports="    import log;
    import config;
    import patterns;"
  [ "$(manifest_value "$manifest" capabilities kv)" = true ] && imports+=$'\n    import kv;'
  [ "$(manifest_value "$manifest" capabilities clock)" = true ] && imports+=$'\n    import clock;'
  if [ "$world" = router ] && [[ "$(manifest_value "$manifest" capabilities calls)" == *\"* ]]; then
    imports+=$'\n    import plugins;'
  fi
  printf 'package parley:plugin@0.2.0;\n\nworld js-%s {\n%s\n    export %s;\n}\n' "$world" "$imports" "$export"
}

build() {
  local dir="$1" manifest="$1/plugin.toml" out="$1/plugin.wasm" world tmp
  if [ -f "$out" ] && [ -z "$(find "$dir" "$here/lib" "$wit" "$here/package-lock.json" "$here/build.sh" \
      -path "$here/node_modules" -prune -o \
      \( -name '*.js' -o -name '*.wit' -o -name plugin.toml -o -name package-lock.json -o -name build.sh \) \
      -newer "$out" -print -quit)" ]; then
    echo "$dir: up to date"
    return
  fi
  world="$(manifest_value "$manifest" "" world | tr -d '"')"
  tmp="$scratch/$(basename "$dir")"
  mkdir -p "$tmp"
  cp "$wit"/*.wit "$tmp/"
  world_wit "$manifest" "$world" > "$tmp/zz-js-world.wit"
  echo "$dir: building (world $world)"
  # Relative to plugins/js, so that ComponentizeJS maps this directory as the
  # module root and `../lib/...` imports resolve.
  "$componentize" "$(basename "$dir")/app.js" --wit "$tmp" --world-name "js-$world" \
    --disable http fetch-event --out "$tmp/plugin.wasm"
  [ -s "$tmp/plugin.wasm" ] || { echo "$dir: componentize-js wrote nothing" >&2; return 1; }
  mv "$tmp/plugin.wasm" "$out"
  echo "$dir: $(stat -c %s "$out") bytes"
}

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

if [ "$#" -gt 0 ]; then
  dirs=("$@")
else
  dirs=()
  for manifest in "$here"/*/plugin.toml; do dirs+=("$(dirname "$manifest")"); done
fi
for dir in "${dirs[@]}"; do
  dir="$(cd "$here" && cd "$dir" && pwd)"
  [ -f "$dir/app.js" ] || { echo "$dir: no app.js, skipped"; continue; }
  build "$dir"
done
