#!/usr/bin/env bash
# Tools for the gateway benchmark: wrk (load generator) and nginx (reference proxy).
#
# Usage: bench-tools.sh
#
# Installs the Debian packages that are missing, quietly; does nothing when both
# commands are already present. The package index is refreshed only if the first
# install attempt fails (see apt_install in common.sh).
set -euo pipefail

SERVICE_NAME=bench-tools
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

# nginx lives in /usr/sbin, which is not always on a non-root PATH.
export PATH="$PATH:/usr/sbin:/sbin"

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || missing+=(nginx)

if ((${#missing[@]})); then
    apt_install "${missing[@]}"
fi
