#!/usr/bin/env bash
# make test: set-up, a fresh test database with the module and its Sales
# bridge installed, then the whole suite through pytest-odoo: the module's
# tests, the bridge's and stock crm's own tests (browser tours included) run
# against that database, so stock crm is tested with both installed.
set -euo pipefail
source "$(dirname "$0")/common.sh"
bash "$ROOT/scripts/setup.sh"
bash "$ROOT/scripts/lint.sh"

DB=${TEST_DB:-opportunity_registration_test}
echo "[test] creating a fresh database $DB with $MODULE, $SALE_BRIDGE and $PORTAL_BRIDGE"
dropdb -h 127.0.0.1 --if-exists "$DB"
odoo -d "$DB" -i "$MODULE,$SALE_BRIDGE,$PORTAL_BRIDGE" --stop-after-init --log-level=warn --log-handler=py.warnings:ERROR

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

# Soak, short: a working day compressed into 2 minutes on two Odoo servers while
# a worker is killed, a server restarted and every database connection
# terminated, invariants sampled every second (benchmarks/soak.py). The
# PostgreSQL restart runs in `make soak` only (it needs a dedicated cluster).
SOAK_DB="${DB}_soak"
dropdb -h 127.0.0.1 --if-exists "$SOAK_DB"
createdb -h 127.0.0.1 -T "$DB" "$SOAK_DB"
echo "[test] soak: ${SOAK_TEST_MINUTES:-2} minutes under faults (worker killed, server restarted, connections terminated)"
soak_status=0
"$VENV/bin/python" benchmarks/soak.py --db "$SOAK_DB" --minutes "${SOAK_TEST_MINUTES:-2}" --reps 4 \
    --faults kill_worker,restart_server,terminate_connections > "$CACHE/soak.log" 2>&1 || soak_status=$?
sed -n '/^## Soak/,$p' "$CACHE/soak.log" | head -70
dropdb -h 127.0.0.1 --if-exists "$SOAK_DB"

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
    "$ROOT/$MODULE/tests" "$ROOT/$SALE_BRIDGE/tests" "$ROOT/$PORTAL_BRIDGE/tests" "$ODOO_ADDONS/crm/tests" "$@" || status=$?
if [ "$uninstall_status" != 0 ]; then
    echo "[test] the uninstall check FAILED (exit $uninstall_status): see $CACHE/uninstall.log"
    [ "$status" != 0 ] || status=$uninstall_status
fi
if [ "$conc_status" != 0 ]; then
    echo "[test] the concurrency run FAILED (exit $conc_status): see $CACHE/concurrency.log"
    [ "$status" != 0 ] || status=$conc_status
fi
if [ "$soak_status" != 0 ]; then
    echo "[test] the soak run FAILED (exit $soak_status): see $CACHE/soak.log"
    [ "$status" != 0 ] || status=$soak_status
fi
exit $status
