#!/usr/bin/env bash
# Installs the real servers and clients the tests start on 127.0.0.1:
# CNCF distribution, an OCI registry (Debian's `docker-registry`), and
# skopeo, an OCI client independent of wasmplug. Idempotent.
#
# The package's own service would listen on every interface with its
# default config; it is kept from starting (policy-rc.d) and disabled. The
# tests run their own registry with a config of their own.
set -euo pipefail

packages=()
command -v docker-registry >/dev/null || packages+=(docker-registry)
command -v skopeo >/dev/null || packages+=(skopeo)
[ ${#packages[@]} -eq 0 ] && exit 0

command -v apt-get >/dev/null || {
    echo "missing: ${packages[*]}; install them with your package manager" >&2
    exit 1
}
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$guard" >/dev/null
    $sudo chmod +x "$guard"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}"
[ -z "$guard" ] || $sudo rm -f "$guard"
if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    $sudo systemctl disable --now docker-registry 2>/dev/null || true
fi
