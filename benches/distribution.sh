#!/usr/bin/env bash
# Distribution end to end on a loopback registry (CNCF distribution, as the
# tests start it), with the 18 MB Python plugin (examples/linter's
# `line-length`, signed): push to a new repository, pull on a machine with
# an empty cache, verify the signature, install (first load: compiles),
# and `install --locked` from the warm cache with the registry stopped, so
# that it can make no request. skopeo moving the same artifact is the
# peer. Whole processes of the release CLI, wall clock, medians over the
# rounds; RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0.
#
# benches/distribution.sh [ROUNDS]      (5 by default)
# Needs docker-registry and skopeo (scripts/test-servers.sh) and the plugin
# built by ./examples/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0
rounds="${1:-5}"
plugin=examples/linter/checks/line-length
[ -f "$plugin/line-length.wasm" ] || { echo "run ./examples/run.sh first: it builds $plugin" >&2; exit 1; }
for tool in docker-registry skopeo; do
    command -v "$tool" >/dev/null || { echo "needs $tool: ./scripts/test-servers.sh" >&2; exit 1; }
done

target="${CARGO_TARGET_DIR:-target}"
cargo build --release -p wasmplug-cli --quiet
wasmplug="$(realpath "$target/release/wasmplug")"
work="$(mktemp -d)"
registry_pid=""
trap '[ -z "$registry_pid" ] || kill -9 "$registry_pid" 2>/dev/null; rm -rf "$work"' EXIT
export WASMPLUG_GRANTS="$work/grants.toml" WASMPLUG_POLICY="$work/no-policy.toml" DOCKER_CONFIG="$work/docker"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/registry.yml" <<YAML
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $work/storage } }
http: { addr: 127.0.0.1:$port }
YAML
docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
registry_pid=$!
until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.05; done

"$wasmplug" keygen "$work/key" >/dev/null
mkdir "$work/src"
"$wasmplug" sign --key "$work/key" "$plugin/line-length.wasm" -o "$work/src/line-length.wasm" >/dev/null
cp "$plugin/plugin.toml" "$work/src/"
size=$(stat -c %s "$work/src/line-length.wasm")

# The artifact as an OCI layout on disk, for skopeo to push.
"$wasmplug" push "$work/src/line-length.wasm" "127.0.0.1:$port/bench/seed:1" >/dev/null
skopeo copy --quiet --src-tls-verify=false "docker://127.0.0.1:$port/bench/seed:1" "oci:$work/layout-src:x" >/dev/null

now() { date +%s%N; }
declare -A times
record() { times[$1]+="$(( ($(now) - $2) / 1000000 )) "; }
median() { tr ' ' '\n' <<<"${times[$1]}" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for round in $(seq "$rounds"); do
    ref="127.0.0.1:$port/bench/line-length-$round:0.1.0"
    cache="$work/cache-$round"
    t=$(now); "$wasmplug" push "$work/src/line-length.wasm" "$ref" >/dev/null; record push "$t"
    t=$(now); WASMPLUG_CACHE_DIR="$cache" "$wasmplug" pull "$ref" -o "$work/pulled-$round/line-length.wasm" >/dev/null; record pull "$t"
    t=$(now); "$wasmplug" verify --key "$work/key.pub" "$work/pulled-$round/line-length.wasm" >/dev/null; record verify "$t"
    t=$(now); WASMPLUG_CACHE_DIR="$cache" "$wasmplug" install --yes "$ref" --dir "$work/plugins-$round" --lock "$work/lock-$round" >/dev/null; record install "$t"
    t=$(now); skopeo copy --quiet --dest-tls-verify=false "oci:$work/layout-src:x" "docker://127.0.0.1:$port/bench/skopeo-$round:1" >/dev/null; record skopeo_push "$t"
    t=$(now); skopeo copy --quiet --src-tls-verify=false "docker://$ref" "oci:$work/layout-$round:x" >/dev/null; record skopeo_pull "$t"
done

kill -9 "$registry_pid"; wait "$registry_pid" 2>/dev/null || true; registry_pid=""
for round in $(seq "$rounds"); do
    rm -rf "$work/plugins-$round"
    t=$(now)
    WASMPLUG_CACHE_DIR="$work/cache-$round" "$wasmplug" install --locked --dir "$work/plugins-$round" --lock "$work/lock-$round" >/dev/null
    record locked "$t"
done

echo "$(basename "$plugin") ($(( size / 1000000 )) MB signed), $rounds rounds, medians in ms (whole processes)"
echo
echo "| step | wasmplug | skopeo |"
echo "| --- | --- | --- |"
echo "| push to a new repository | $(median push) | $(median skopeo_push) |"
echo "| pull, empty cache | $(median pull) | $(median skopeo_pull) |"
echo "| verify the signature | $(median verify) | |"
echo "| push + pull + verify | $(( $(median push) + $(median pull) + $(median verify) )) | |"
echo "| install (pull from warm cache, consent, first compile, place, lock) | $(median install) | |"
echo "| install --locked, warm cache, registry stopped | $(median locked) | |"
