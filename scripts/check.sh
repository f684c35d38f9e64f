#!/usr/bin/env bash
# `make check`: the static checks CI runs before the test tiers — ruff (lint), mypy (types,
# strict on lab/), import-linter (the layers in docs/components.md). Any finding fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
echo "check: ruff";          "$bin/ruff" check lab tests bench
echo "check: mypy";          "$bin/mypy"
echo "check: import layers"; "$bin/lint-imports" --no-cache
