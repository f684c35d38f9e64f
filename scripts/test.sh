#!/usr/bin/env bash
# `make test`: every tier in one pytest run (unit, then integration, then e2e),
# after the host set-up has installed what the tiers need.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/host-setup.sh

# kubectl discovery caches and vagrant state must not leak between runs.
export KUBELAB_TEST_RUN_ID="${KUBELAB_TEST_RUN_ID:-$(date +%s)}"

tiers=(tests/unit tests/integration tests/e2e)
if [ -n "${KUBELAB_TIERS:-}" ]; then
  read -r -a tiers <<<"$KUBELAB_TIERS"
fi

exec .venv/bin/pytest -p no:cacheprovider -ra --durations=15 "${tiers[@]}" "$@"
