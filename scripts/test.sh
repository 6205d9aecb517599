#!/usr/bin/env bash
# Install everything, then run the checks CI runs: ruff, mypy (strict), pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check hub adapters tests bench
.venv/bin/ruff format --check hub adapters tests bench
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
