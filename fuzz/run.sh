#!/usr/bin/env bash
# Runs the fuzz targets for SECONDS each (60 if not given) on stable Rust,
# with a 2 GiB memory cap and a 10 s limit per input; exits non-zero on the
# first finding, whose input libFuzzer saves under fuzz/artifacts/.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Each run starts from the seeds in a fresh corpus, so SECONDS bounds it;
# WASMPLUG_FUZZ_CORPUS=DIR keeps corpora in DIR/TARGET across runs instead.
# See fuzz/README.md for long runs and ASan.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(load component_from_wit dynamic_call manifest_policy)
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/wasmplug-target}"
guests="$CARGO_TARGET_DIR/guests"

# The test plugins: the echo fixture of dynamic_call and the seeds of load.
rustup target add wasm32-wasip1 wasm32-wasip2 >/dev/null
(
    cd ../tests/plugins
    cargo build --release --quiet --target-dir "$guests" --target wasm32-wasip2
    cargo build --release --quiet --target-dir "$guests" --target wasm32-wasip1 -p command -p programs
)
export WASMPLUG_FUZZ_ECHO="$guests/wasm32-wasip2/release/echo.wasm"
seeds="$(mktemp -d)"
fresh="$(mktemp -d)"
summary="$(mktemp)"
trap 'rm -rf "$seeds" "$fresh" "$summary"' EXIT
corpora="${WASMPLUG_FUZZ_CORPUS:-$fresh}"
mkdir -p "$seeds/load"
for target in wasm32-wasip1 wasm32-wasip2; do
    for wasm in "$guests/$target/release/"*.wasm; do
        cp "$wasm" "$seeds/load/$target-$(basename "$wasm")"
    done
done
cp -r seeds/manifest_policy "$seeds/manifest_policy"

cargo fuzz build --sanitizer none -O

# A libFuzzer statistic of the run logged in $log.
stat() { grep -oE "^stat::$1:\s+[0-9]+" "$log" | awk '{print $2}' || true; }
for target in "${targets[@]}"; do
    mkdir -p "$corpora/$target"
    inputs=("$corpora/$target")
    [ -d "$seeds/$target" ] && inputs+=("$seeds/$target")
    options=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1)
    [ -f "dicts/$target.dict" ] && options+=(-dict="dicts/$target.dict")
    # Targets that build their input with `arbitrary` need some length to
    # reach anything: start long rather than growing from a few bytes.
    case "$target" in
    component_from_wit | dynamic_call) options+=(-max_len=8192 -len_control=0) ;;
    esac
    echo "== $target: $seconds s"
    log="$(mktemp)"
    set +e
    cargo fuzz run --sanitizer none -O "$target" "${inputs[@]}" -- "${options[@]}" 2>&1 | tee "$log" |
        grep -vE '^#[0-9]+\s+(NEW|REDUCE|pulse)|NEW_FUNC|^INFO|^WARNING' |
        sed '/Recommended dictionary/,/End of recommended dictionary/d' | cut -c1-400
    status=${PIPESTATUS[0]}
    set -e
    cov="$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}' || true)"
    printf '%-20s %10s execs %8s/s  cov %8s  peak %s MB\n' "$target" "$(stat number_of_executed_units)" \
        "$(stat average_exec_per_sec)" "${cov:-?}" "$(stat peak_rss_mb)" >>"$summary"
    rm -f "$log"
    if [ "$status" -ne 0 ]; then
        cat "$summary"
        echo "fuzz target $target found a failure: its input is in fuzz/artifacts/$target/" >&2
        exit "$status"
    fi
done
cat "$summary"
