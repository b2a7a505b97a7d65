#!/usr/bin/env bash
# Tools for checking deploy/k8s without a cluster: kustomize (built from its Go module)
# and KEDA's CRDs (from the KEDA Go module's sources), under .local/tools.
#
# Usage: k8s-tools.sh        installs what is missing, then prints nothing
#        k8s-tools.sh paths  also prints the kustomize binary and the CRD folder
#
# Idempotent: each pinned version is fetched once. Needs Go (installed from Debian's
# packages when missing).
set -euo pipefail

SERVICE_NAME=k8s-tools
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

KUSTOMIZE_VERSION=v5.8.1
KEDA_VERSION=v2.18.3

TOOLS="$YIWANG_LOCAL/tools"
KUSTOMIZE_DIR="$TOOLS/kustomize-$KUSTOMIZE_VERSION"
KEDA_DIR="$TOOLS/keda-$KEDA_VERSION"

if ! command -v go >/dev/null 2>&1; then
    apt_install golang-go
fi
# This machine's own Go, never a downloaded toolchain.
export GOTOOLCHAIN=local GOFLAGS=-mod=mod

if [[ ! -x "$KUSTOMIZE_DIR/kustomize" ]]; then
    log "building kustomize $KUSTOMIZE_VERSION"
    mkdir -p "$KUSTOMIZE_DIR"
    GOBIN="$KUSTOMIZE_DIR" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
fi

if [[ ! -s "$KEDA_DIR/keda.sh_scaledobjects.yaml" ]]; then
    log "fetching KEDA $KEDA_VERSION CRDs"
    dir=$(go mod download -json "github.com/kedacore/keda/v2@$KEDA_VERSION" \
        | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [[ -d "$dir/config/crd/bases" ]] || die "KEDA module has no config/crd/bases"
    mkdir -p "$KEDA_DIR"
    cp "$dir"/config/crd/bases/keda.sh_*.yaml "$KEDA_DIR/"
fi

if [[ "${1:-}" == paths ]]; then
    echo "KUSTOMIZE=$KUSTOMIZE_DIR/kustomize"
    echo "KEDA_CRDS=$KEDA_DIR"
fi
