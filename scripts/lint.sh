#!/usr/bin/env bash
# make lint: ruff (lint and format check) and pylint-odoo with OCA's mandatory
# checks, configured in pyproject.toml and .pylintrc. make test runs it first.
set -euo pipefail
source "$(dirname "$0")/common.sh"
[ -x "$VENV/bin/ruff" ] || bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
files=$(git ls-files '*.py' 2>/dev/null || find . -name '*.py' -not -path './.venv/*')
echo "[lint] ruff check"
"$VENV/bin/ruff" check $files
echo "[lint] ruff format --check"
"$VENV/bin/ruff" format --check $files
echo "[lint] pylint-odoo"
"$VENV/bin/pylint" --rcfile=.pylintrc "$MODULE" "$SALE_BRIDGE" "$PORTAL_BRIDGE"
echo "[lint] clean"
