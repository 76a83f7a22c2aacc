#!/usr/bin/env bash
# The main job: build the example plugins from source, put each filter plugin
# in its own folder under examples/host/plugins with its manifest, run the
# example host over them, then call the default-world `hello` plugin with the
# wasmplug CLI. Extra arguments go to the host (the text to transform).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
plugins="$root/examples/host/plugins"

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi

# From inside the plugins' workspace, so its .cargo/config.toml applies.
(cd "$root/examples/plugins" &&
    cargo build --release --quiet --target wasm32-wasip2 --target-dir "$target/example-guests")

built="$target/example-guests/wasm32-wasip2/release"
for manifest in "$root"/examples/plugins/*/plugin.toml; do
    grep -q '^world = "example:filters/' "$manifest" || continue
    name="$(basename "$(dirname "$manifest")")"
    mkdir -p "$plugins/$name"
    cp "$manifest" "$plugins/$name/plugin.toml"
    cp "$built/${name//-/_}.wasm" "$plugins/$name/$name.wasm"
done

echo "== example host: every plugin in $plugins transforms the text"
cargo run --quiet -p example-host -- "$plugins" "$@"

echo "== wasmplug call: the default-world hello plugin"
cargo run --quiet -p wasmplug-cli -- call \
    --manifest "$root/examples/plugins/hello/plugin.toml" "$built/hello.wasm" run '"world"'

