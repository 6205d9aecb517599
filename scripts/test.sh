#!/usr/bin/env bash
# Install everything, start the servers the tests use, then run the checks CI runs:
# ruff, mypy (strict), pytest (on SQLite and on the local PostgreSQL; the console in
# headless Chromium, screenshots in artifacts/console/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/services.sh
bash scripts/browser.sh
.venv/bin/ruff check hub adapters tests bench
.venv/bin/ruff format --check hub adapters tests bench
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
