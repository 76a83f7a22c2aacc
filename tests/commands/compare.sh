#!/usr/bin/env bash
# Runs the corpus in tests/commands/cases.toml through `wasmplug run` and
# `wasmtime run` and prints, case by case, both exit statuses and the first
# line of each stderr, then every case whose status or stdout differs.
# Needs the wasmtime CLI 48.0.8 on PATH or in $WASMTIME:
#   cargo install wasmtime-cli@48.0.8 --locked    (25-35 minutes, once)
set -euo pipefail
cd "$(dirname "$0")/../.."
exec cargo test -p wasmplug-cli --test all -- \
    commands::the_corpus_against_wasmtime --ignored --nocapture --test-threads 1
