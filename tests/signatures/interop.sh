#!/usr/bin/env bash
# Signatures made by wasmplug and by wasmsign2 (the tool conventions'
# reference signer) verify with the other, both ways and side by side.
# Outside the test suite, since it needs wasmsign2:
#   cargo install wasmsign2-cli --locked
# tests/signatures/interop.sh [COMPONENT]   (the `command` test plugin by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wasmsign2 >/dev/null || { echo "needs wasmsign2 (cargo install wasmsign2-cli)" >&2; exit 1; }
target="${CARGO_TARGET_DIR:-target}"
cargo build --quiet -p wasmplug-cli
wasmplug="$target/debug/wasmplug"
component="${1:-$target/guests/wasm32-wasip2/release/command.wasm}"
[ -f "$component" ] || { echo "no $component: run the tests once, or pass a component" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$component" "$work/plugin.wasm"
cd "$work"

check() { echo "ok: $1"; }
"$wasmplug" keygen ours >/dev/null
wasmsign2 keygen -k theirs.key -K theirs.pub >/dev/null

"$wasmplug" sign --key ours plugin.wasm -o by-wasmplug.wasm >/dev/null
wasmsign2 verify -K ours.pub -i by-wasmplug.wasm >/dev/null
check "wasmsign2 verifies wasmplug's signature"

wasmsign2 sign -k theirs.key -K theirs.pub -i plugin.wasm -o by-wasmsign2.wasm >/dev/null
"$wasmplug" verify --key theirs.pub by-wasmsign2.wasm >/dev/null
check "wasmplug verifies wasmsign2's signature (with a key id)"

wasmsign2 sign -k theirs.key -i plugin.wasm -o no-key-id.wasm >/dev/null
"$wasmplug" verify --key theirs.pub no-key-id.wasm >/dev/null
check "wasmplug verifies wasmsign2's signature (without a key id)"

"$wasmplug" sign --key ours by-wasmsign2.wasm -o both.wasm >/dev/null
wasmsign2 verify -K theirs.pub -i both.wasm >/dev/null
wasmsign2 verify -K ours.pub -i both.wasm >/dev/null
"$wasmplug" verify --key ours.pub --key theirs.pub both.wasm >/dev/null
check "both signatures on one component verify with both tools"

python3 - <<'PY'
data = bytearray(open("both.wasm", "rb").read())
data[-50] ^= 1
open("tampered.wasm", "wb").write(data)
PY
if wasmsign2 verify -K theirs.pub -i tampered.wasm >/dev/null 2>&1 ||
    "$wasmplug" verify --key theirs.pub --key ours.pub tampered.wasm >/dev/null 2>&1; then
    echo "FAILED: a changed byte was accepted" >&2
    exit 1
fi
check "a changed byte is refused by both"
