#!/usr/bin/env bash
# A new plugin in each language, as a user makes it: `wasmplug new`, then
# `wasmplug build` twice (the first fetches and compiles dependencies, the
# second is a rebuild without changes), then `wasmplug call` twice (the
# first compiles the component with Cranelift, the second loads it from the
# cache). Prints a markdown table. Needs the toolchains
# (scripts/toolchains.sh) and a built CLI.
#
# Usage: benches/languages.sh [PATH_TO_WASMPLUG]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
wasmplug="${1:-${CARGO_TARGET_DIR:-$root/target}/debug/wasmplug}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export WASMPLUG_CACHE_DIR="$work/cache"
# Each Rust plugin gets its own target folder, as for a user.
unset CARGO_TARGET_DIR

# Milliseconds taken by a command, whose output is dropped.
millis() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}

# Milliseconds as seconds with `digits` decimals.
secs() { LC_ALL=C printf "%.${2}f s" "$(echo "$1" | awk '{ print $1 / 1000 }')"; }

row() {
    local label=$1 lang=$2 engine=$3 dir="$work/$1"
    (cd "$work" && "$wasmplug" new --lang "$lang" "$label" >/dev/null)
    cd "$dir"
    local build rebuild first cached size
    build=$(millis "$wasmplug" build $engine -o plugin.wasm)
    rebuild=$(millis "$wasmplug" build $engine -o plugin.wasm)
    size=$(stat -c %s plugin.wasm)
    first=$(millis "$wasmplug" call plugin.wasm run '"world"')
    cached=$(millis "$wasmplug" call plugin.wasm run '"world"')
    echo "| $label | $((size / 1000)) KB | $(secs "$build" 1) | $(secs "$rebuild" 1) |" \
        "$(secs "$first" 2) | $(secs "$cached" 3) |"
    cd "$work"
}

echo "| plugin | component | first build | rebuild | first call (compiles) | cached call |"
echo "| --- | --- | --- | --- | --- | --- |"
row rust rust ""
row python python ""
row js js ""
row js-qjs js "--engine qjs"
row c c ""
row go go ""
