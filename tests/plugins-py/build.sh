#!/usr/bin/env bash
# Builds each Python plugin under tests/plugins-py (a directory with an
# app.py) into OUT_DIR/NAME.wasm with componentize-py, against the default
# `plugin` world of wit/plugin.wit. componentize-py lives in a venv of its
# own, $WASMPLUG_PY_VENV or ~/.cache/wasmplug/py-venv, created on first use.
#
# Usage: tests/plugins-py/build.sh OUT_DIR
set -euo pipefail
if [ $# -ne 1 ]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
version=0.25.1
venv="${WASMPLUG_PY_VENV:-$HOME/.cache/wasmplug/py-venv}"
mkdir -p "$1"
out="$(cd "$1" && pwd)"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if [ "$("$venv/bin/componentize-py" --version 2>/dev/null)" != "componentize-py $version" ]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "componentize-py==$version"
fi

# componentize-py writes __pycache__ next to the sources it imports, so each
# plugin is built from a scratch copy to keep the source tree clean.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for app in "$here"/*/app.py; do
    dir="$(dirname "$app")"
    name="$(basename "$dir")"
    cp -R "$dir" "$scratch/$name"
    (cd "$scratch/$name" &&
        "$venv/bin/componentize-py" --quiet -d "$root/wit" -w plugin \
            componentize app -o "$out/$name.wasm")
    echo "$out/$name.wasm"
done
