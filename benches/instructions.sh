#!/usr/bin/env bash
# Instructions per call on each path, counted by callgrind: the same on every
# run, unlike times on a shared machine. Each path runs twice, with 1,000 and
# 11,000 calls; the difference over 10,000 is one call without the set-up.
# Only the calling thread is counted (wasmplug's epoch ticker and loading
# threads are left out).
#
# benches/instructions.sh [PATH...]   (raw raw-async blocking async by default)
# FUNC=greet benches/instructions.sh   greet("world") instead of add(1, 2)
# FUNC=log benches/instructions.sh raw blocking async
#                                     the hostile guest's run("log hi"), which calls log
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
bin="$(cargo bench -p wasmplug-benches --bench instructions --no-run 2>&1 |
    sed -n 's/.*Executable benches\/instructions.rs (\(.*\))/\1/p' | tail -1)"
[ -x "$bin" ] || { echo "the instructions bench did not build" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

count() {
    valgrind --tool=callgrind --separate-threads=yes \
        --callgrind-out-file="$out/cg.out" "$bin" "$1" "$2" "${FUNC:-add}" >/dev/null 2>&1
    awk '/^totals:/ { print $2 }' "$out/cg.out-01"
    rm -f "$out"/cg.out*
}

printf '%-10s %s\n' path "instructions per call of ${FUNC:-add}"
for path in "${@:-raw raw-async blocking async}"; do
    for p in $path; do
        few="$(count "$p" 1000)"
        many="$(count "$p" 11000)"
        printf '%-10s %d\n' "$p" $(((many - few) / 10000))
    done
done
