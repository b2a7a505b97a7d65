#!/usr/bin/env bash
# Installs uv into a project-local virtual environment, for `make install` when uv is not
# on PATH. Debian's own Python refuses a system-wide `pip install` (PEP 668,
# externally-managed-environment) and ships venv's pip only in the python3-venv package.
#
# Usage: uv.sh <uv version> <virtual environment directory>
set -euo pipefail

SERVICE_NAME=uv
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

VERSION="${1:?uv version}"
VENV="${2:?virtual environment directory}"

command -v python3 >/dev/null 2>&1 || die "python3 not found: install Python 3.11 (Debian: apt-get install python3 python3-venv)"

make_venv() {
    rm -rf "$VENV"
    python3 -m venv "$VENV" >/dev/null 2>&1
}

if [[ ! -x "$VENV/bin/pip" ]]; then
    log "creating $VENV for uv $VERSION"
    if ! make_venv; then
        rm -rf "$VENV"
        if [[ $EUID -eq 0 ]]; then
            apt_install python3-venv
            make_venv || die "python3 -m venv $VENV failed even with python3-venv installed"
        else
            die "python3 -m venv failed: install Debian's python3-venv first (sudo apt-get install python3-venv), then run make again"
        fi
    fi
fi
log "installing uv $VERSION from the Python package index into $VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "uv==$VERSION"
