#!/usr/bin/env bash
# `make test`: every tier in one pytest run (unit, then integration, then e2e),
# after `make setup` (a prerequisite of `make test`) installed what the tiers need.
# KUBELAB_REQUIRE_ALL=1: a test that would skip for a missing prerequisite fails instead
# (tests/conftest.py), and the run ends with "skipped: N" (zero expected).
set -euo pipefail
cd "$(dirname "$0")/.."

tiers=(tests/unit tests/integration tests/e2e)
if [ -n "${KUBELAB_TIERS:-}" ]; then
  read -r -a tiers <<<"$KUBELAB_TIERS"
fi

export KUBELAB_REQUIRE_ALL=1
exec .venv/bin/pytest -p no:cacheprovider -ra --durations=15 "${tiers[@]}" "$@"
