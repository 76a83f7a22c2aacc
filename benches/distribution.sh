#!/usr/bin/env bash
# Distribution end to end on a loopback registry (CNCF distribution, as the
# tests start it), with the 18 MB Python plugin (examples/linter's
# `line-length`, signed): push to a new repository, pull on a machine with
# an empty cache, verify the signature, install (first load: compiles),
# and `install --locked` from the warm cache with the registry stopped, so
# that it can make no request. skopeo moving the same kind of artifact is
# the peer. Whole processes of the release CLI, wall clock, medians over
# the rounds; RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0.
#
# benches/distribution.sh [ROUNDS]      (5 by default)
# Needs docker-registry and skopeo (scripts/test-servers.sh) and the plugin
# built by ./examples/run.sh. Every round pushes components no registry has
# seen (each signed with a key of its own), so that neither client can skip
# the upload: skopeo otherwise mounts blobs it remembers from other
# repositories.
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
size=$(stat -c %s "$plugin/line-length.wasm")

# A component no registry has: the plugin signed by a new key, KEY.
signed() { # KEY OUT
    "$wasmplug" keygen "$1" >/dev/null
    mkdir -p "$(dirname "$2")"
    "$wasmplug" sign --key "$1" "$plugin/line-length.wasm" -o "$2" >/dev/null
}

# Moves FILE into the layout's blobs; prints its descriptor's digest and size.
blob() { # BLOBS FILE
    local digest
    digest=$(sha256sum "$2" | cut -d' ' -f1)
    printf '"digest":"sha256:%s","size":%s' "$digest" "$(stat -c %s "$2")"
    mv "$2" "$1/$digest"
}

# An OCI image layout in DIR holding COMPONENT in the CNCF Wasm layout,
# tagged x, as other tools write it.
oci_layout() { # DIR COMPONENT
    local dir=$1 blobs=$1/blobs/sha256 layer config manifest
    mkdir -p "$blobs"
    cp "$2" "$dir/layer"
    layer=$(blob "$blobs" "$dir/layer")
    printf '{"created":"2026-01-01T00:00:00Z","architecture":"wasm","os":"wasip2","layerDigests":["sha256:%s"]}' \
        "$(sha256sum "$2" | cut -d' ' -f1)" >"$dir/config"
    config=$(blob "$blobs" "$dir/config")
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.wasm.config.v0+json",%s},"layers":[{"mediaType":"application/wasm",%s}]}' \
        "$config" "$layer" >"$dir/manifest"
    manifest=$(blob "$blobs" "$dir/manifest")
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",%s,"annotations":{"org.opencontainers.image.ref.name":"x"}}]}' \
        "$manifest" >"$dir/index.json"
    echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
}

now() { date +%s%N; }
declare -A times
record() { times[$1]+="$(( ($(now) - $2) / 1000000 )) "; }
median() { tr ' ' '\n' <<<"${times[$1]}" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for round in $(seq "$rounds"); do
    ref="127.0.0.1:$port/bench/line-length-$round:0.1.0"
    peer="docker://127.0.0.1:$port/bench/skopeo-$round:1"
    cache="$work/cache-$round"
    signed "$work/key-$round" "$work/src-$round/line-length.wasm"
    cp "$plugin/plugin.toml" "$work/src-$round/"
    signed "$work/peer-key-$round" "$work/peer-$round.wasm"
    oci_layout "$work/layout-src-$round" "$work/peer-$round.wasm"

    t=$(now); "$wasmplug" push "$work/src-$round/line-length.wasm" "$ref" >/dev/null; record push "$t"
    t=$(now); WASMPLUG_CACHE_DIR="$cache" "$wasmplug" pull "$ref" -o "$work/pulled-$round/line-length.wasm" >/dev/null; record pull "$t"
    t=$(now); "$wasmplug" verify --key "$work/key-$round.pub" "$work/pulled-$round/line-length.wasm" >/dev/null; record verify "$t"
    t=$(now); WASMPLUG_CACHE_DIR="$cache" "$wasmplug" install --yes "$ref" --dir "$work/plugins-$round" --lock "$work/lock-$round" >/dev/null; record install "$t"
    t=$(now); skopeo copy --quiet --dest-tls-verify=false "oci:$work/layout-src-$round:x" "$peer" >/dev/null; record skopeo_push "$t"
    t=$(now); skopeo copy --quiet --src-tls-verify=false "$peer" "oci:$work/layout-$round:x" >/dev/null; record skopeo_pull "$t"
done

kill -9 "$registry_pid"; wait "$registry_pid" 2>/dev/null || true; registry_pid=""
for round in $(seq "$rounds"); do
    rm -rf "$work/plugins-$round"
    t=$(now)
    WASMPLUG_CACHE_DIR="$work/cache-$round" "$wasmplug" install --locked --dir "$work/plugins-$round" --lock "$work/lock-$round" >/dev/null
    record locked "$t"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; }
echo "$(basename "$plugin") ($(( size / 1000000 )) MB, signed), $rounds rounds, medians in ms (whole processes)"
echo
echo "| step | wasmplug | skopeo | wasmplug ÷ skopeo |"
echo "| --- | --- | --- | --- |"
echo "| push to a new repository | $(median push) | $(median skopeo_push) | $(ratio "$(median push)" "$(median skopeo_push)") |"
echo "| pull, empty cache | $(median pull) | $(median skopeo_pull) | $(ratio "$(median pull)" "$(median skopeo_pull)") |"
echo "| verify the signature | $(median verify) | | |"
echo "| push + pull + verify | $(( $(median push) + $(median pull) + $(median verify) )) | | |"
echo "| install (consent, first compile, place, lock; blobs cached by the pull) | $(median install) | | |"
echo "| install --locked, warm cache, registry stopped | $(median locked) | | |"
