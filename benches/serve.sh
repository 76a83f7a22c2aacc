#!/usr/bin/env bash
# `wasmplug serve` against `wasmtime serve` on the same wasi:http handler,
# side by side: requests per second and p99 latency from `hey` on
# 127.0.0.1, servers alternating round by round, medians over the rounds.
# wasmplug runs with its default limits (5 s CPU, 10 s deadline per
# request, epoch ticks every 10 ms); wasmtime with its defaults and -Scli
# (the handlers import wasi:cli, as Rust's standard library does).
#
# benches/serve.sh [ROUNDS]             (5 by default; 10 s of load each)
# HANDLERS="p2 p3"                      (the WASI 0.2 handler, the 0.3 one, or both)
# WASMTIME=/path/to/wasmtime            (48.0.8; `cargo install wasmtime-cli@48.0.8 --locked`)
# CONCURRENCY=50 SECONDS_PER_RUN=10     (what hey sends)
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0
rounds="${1:-5}"
concurrency="${CONCURRENCY:-50}"
seconds="${SECONDS_PER_RUN:-10}"
wasmtime="${WASMTIME:-$(command -v wasmtime || echo /opt/wasmtime-48/bin/wasmtime)}"
command -v hey >/dev/null || { echo "needs hey (apt-get install hey)" >&2; exit 1; }
[ -x "$wasmtime" ] || { echo "needs the wasmtime CLI 48.0.8: set WASMTIME" >&2; exit 1; }
"$wasmtime" --version | grep -q '^wasmtime 48\.' || echo "warning: $("$wasmtime" --version) is not 48.x" >&2

target="${CARGO_TARGET_DIR:-target}"
cargo build --release --workspace --bins --quiet
wasmplug="$target/release/wasmplug"
guests="$(realpath -m "$target")/guests"
(cd tests/plugins && cargo build --release --quiet --target wasm32-wasip2 \
    --target-dir "$guests" -p http-handler -p p3-http-handler)
cache="$(mktemp -d)"
trap 'rm -rf "$cache"; kill $(jobs -p) 2>/dev/null || true' EXIT
export WASMPLUG_CACHE_DIR="$cache"

port=18080
start() {
    case "$1" in
        wasmplug) "$wasmplug" serve --addr "127.0.0.1:$port" "$component" 2>/dev/null & ;;
        wasmtime) "$wasmtime" serve -Scli --addr "127.0.0.1:$port" "$component" 2>/dev/null & ;;
    esac
    server=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/" >/dev/null && return 0
        sleep 0.1
    done
    echo "$1 did not start" >&2
    exit 1
}

# One run: "requests/s p99-ms".
load() {
    hey -z "${seconds}s" -c "$concurrency" "http://127.0.0.1:$port/" |
        awk '/Requests\/sec/ { rps = $2 } /99% in/ { p99 = $3 * 1000 } END { printf "%.0f %.2f\n", rps, p99 }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Rounds of both servers on `$component`, then the medians and ratios.
compare() {
    declare -A rps p99
    for round in $(seq "$rounds"); do
        for name in wasmplug wasmtime; do
            start "$name"
            hey -n 2000 -c "$concurrency" "http://127.0.0.1:$port/" >/dev/null
            read -r r p < <(load)
            rps[$name]+="$r "
            p99[$name]+="$p "
            kill "$server"; wait "$server" 2>/dev/null || true
            echo "round $round $name: $r requests/s, p99 $p ms" >&2
            port=$((port + 1))
        done
    done

    printf '%-10s %12s %10s\n' server "requests/s" "p99 ms"
    for name in wasmplug wasmtime; do
        r="$(tr ' ' '\n' <<<"${rps[$name]}" | grep . | median)"
        p="$(tr ' ' '\n' <<<"${p99[$name]}" | grep . | median)"
        printf '%-10s %12.0f %10.2f\n' "$name" "$r" "$p"
        declare "med_rps_$name=$r" "med_p99_$name=$p"
    done
    awk -v a="$med_rps_wasmplug" -v b="$med_rps_wasmtime" -v c="$med_p99_wasmplug" -v d="$med_p99_wasmtime" \
        'BEGIN { printf "wasmplug/wasmtime: requests/s %.2fx, p99 %.2fx\n", a / b, c / d }'
}

for handler in ${HANDLERS:-p2 p3}; do
    case "$handler" in
        p2) component="$guests/wasm32-wasip2/release/http_handler.wasm" ;;
        p3) component="$guests/wasm32-wasip2/release/p3_http_handler.wasm" ;;
        *) echo "unknown handler $handler: p2 or p3" >&2; exit 1 ;;
    esac
    echo "== $handler: $(basename "$component"), hey -c $concurrency, ${seconds} s x $rounds rounds"
    compare
done
