#!/usr/bin/env bash
# make test: set-up, a fresh test database with the module installed, then
# the whole suite through pytest-odoo: the module's tests and stock crm's own
# tests (browser tours included) run against that database, so stock crm is
# tested with this module installed.
set -euo pipefail
source "$(dirname "$0")/common.sh"
bash "$ROOT/scripts/setup.sh"

DB=${TEST_DB:-opportunity_registration_test}
echo "[test] creating a fresh database $DB with $MODULE"
dropdb -h 127.0.0.1 --if-exists "$DB"
odoo -d "$DB" -i "$MODULE" --stop-after-init --log-level=warn --log-handler=py.warnings:ERROR

echo "[test] running the suite"
cd "$ROOT"
status=0
"$VENV/bin/pytest" -p no:cacheprovider -q \
    --odoo-config="$CONF" --odoo-database="$DB" --odoo-http \
    -W ignore::DeprecationWarning \
    "$ROOT/$MODULE/tests" "$ODOO_ADDONS/crm/tests" "$@" || status=$?
exit $status
