#!/usr/bin/env bash
# make test: set-up, a fresh test database with the module installed, then
# the whole suite through pytest-odoo: the module's tests and stock crm's own
# tests (browser tours included) run against that database, so stock crm is
# tested with this module installed.
set -euo pipefail
source "$(dirname "$0")/common.sh"
bash "$ROOT/scripts/setup.sh"
bash "$ROOT/scripts/lint.sh"

DB=${TEST_DB:-opportunity_registration_test}
echo "[test] creating a fresh database $DB with $MODULE"
dropdb -h 127.0.0.1 --if-exists "$DB"
odoo -d "$DB" -i "$MODULE" --stop-after-init --log-level=warn --log-handler=py.warnings:ERROR

cd "$ROOT"
# Concurrency: two Odoo servers (one with 4 workers) and 50 client processes
# submit the same customer at once over JSON-RPC, then all re-key their own
# registrations to one customer at once. It commits data, so it runs
# on a copy of the fresh database.
CONC_DB="${DB}_concurrency"
dropdb -h 127.0.0.1 --if-exists "$CONC_DB"
createdb -h 127.0.0.1 -T "$DB" "$CONC_DB"
echo "[test] concurrency: ${CONCURRENCY_CLIENTS:-50} simultaneous submissions over two servers"
conc_status=0
"$VENV/bin/python" benchmarks/concurrency.py --db "$CONC_DB" --clients "${CONCURRENCY_CLIENTS:-50}" \
    --timeout 180 > "$CACHE/concurrency.log" 2>&1 || conc_status=$?
sed -n '/^clients:/,$p' "$CACHE/concurrency.log" | head -20
dropdb -h 127.0.0.1 --if-exists "$CONC_DB"

# Uninstall: fill a copy of the fresh database, uninstall the module, then
# run stock CRM's flow (create, convert, win, lose, merge, views) on it.
UNINSTALL_DB="${DB}_uninstall"
dropdb -h 127.0.0.1 --if-exists "$UNINSTALL_DB"
createdb -h 127.0.0.1 -T "$DB" "$UNINSTALL_DB"
uninstall_status=0
"$VENV/bin/python" scripts/uninstall_check.py --db "$UNINSTALL_DB" > "$CACHE/uninstall.log" 2>&1 || uninstall_status=$?
grep '^\[uninstall\]' "$CACHE/uninstall.log" || tail -20 "$CACHE/uninstall.log"
dropdb -h 127.0.0.1 --if-exists "$UNINSTALL_DB"

echo "[test] running the suite"
status=0
"$VENV/bin/pytest" -p no:cacheprovider -q \
    --odoo-config="$CONF" --odoo-database="$DB" --odoo-http \
    -W ignore::DeprecationWarning \
    "$ROOT/$MODULE/tests" "$ODOO_ADDONS/crm/tests" "$@" || status=$?
if [ "$uninstall_status" != 0 ]; then
    echo "[test] the uninstall check FAILED (exit $uninstall_status): see $CACHE/uninstall.log"
    [ "$status" != 0 ] || status=$uninstall_status
fi
if [ "$conc_status" != 0 ]; then
    echo "[test] the concurrency run FAILED (exit $conc_status): see $CACHE/concurrency.log"
    [ "$status" != 0 ] || status=$conc_status
fi
exit $status
