#!/usr/bin/env bash
# make bench: the 1M-opportunity database (generated once), the conflict/submit
# benchmark next to stock Odoo, then the concurrency harness; the figures go to
# benchmarks/RESULTS.md. One heavy step at a time (the machine has 2 cores).
#   BENCH_DB       database (default opportunity_registration_bench)
#   BENCH_RUNS     measured runs per conflict-check case (default 200)
#   BENCH_CLIENTS  simultaneous submissions in the concurrency run (default 50)
#   BENCH_REGENERATE=1  drop and rebuild the database
set -euo pipefail
source "$(dirname "$0")/../scripts/common.sh"
bash "$ROOT/scripts/setup.sh"

DB=${BENCH_DB:-opportunity_registration_bench}
LEADS=${BENCH_LEADS:-1000000}
PY="$VENV/bin/python"
cd "$ROOT"

generated=0
if db_exists "$DB" && module_installed "$DB"; then
    generated=$(psql -h 127.0.0.1 -d "$DB" -qtAc \
        "SELECT value FROM ir_config_parameter WHERE key = 'opportunity_registration.bench_generated'" || true)
    count=$(psql -h 127.0.0.1 -d "$DB" -qtAc "SELECT count(*) FROM crm_lead")
    [ -n "$generated" ] && [ "$count" -ge "$LEADS" ] || generated=0
fi
if [ "${BENCH_REGENERATE:-0}" = 1 ] || [ "${generated:-0}" = 0 ]; then
    echo "[bench] generating $DB ($LEADS opportunities)"
    "$PY" benchmarks/generate.py --db "$DB" --leads "$LEADS" --force
else
    echo "[bench] reusing $DB ($count opportunities); upgrading $MODULE"
    odoo -d "$DB" -u "$MODULE" --stop-after-init --log-level=warn
fi

echo "[bench] conflict check, submit, install"
"$PY" benchmarks/bench_conflict.py --db "$DB" --runs "${BENCH_RUNS:-200}" --output benchmarks/RESULTS.md

echo "[bench] cron sweeps"
"$PY" benchmarks/bench_cron.py --db "$DB" --output benchmarks/RESULTS.md
echo "[bench] funnel metrics"
"$PY" benchmarks/bench_funnel.py --db "$DB" --output benchmarks/RESULTS.md
echo "[bench] forecast and KPI metrics"
"$PY" benchmarks/bench_forecast.py --db "$DB" --output benchmarks/RESULTS.md
echo "[bench] screens: kanban, list, form, filters and the module's lists, as a rep and a manager"
"$PY" benchmarks/bench_screens.py --db "$DB" --output benchmarks/RESULTS.md

status=0
echo "[bench] submit over JSON-RPC and throughput with --workers=4"
"$PY" benchmarks/bench_rpc.py --db "$DB" --output benchmarks/RESULTS.md || status=$?
# The partner's portal pages write their own data (10,000 other partners'
# registrations): measured on a copy, dropped after.
PORTAL_DB="${DB}_portal"
dropdb -h 127.0.0.1 --if-exists "$PORTAL_DB"
createdb -h 127.0.0.1 -T "$DB" "$PORTAL_DB"
echo "[bench] partner portal pages next to stock /my/home"
"$PY" benchmarks/bench_portal.py --db "$PORTAL_DB" --others 10000 --output benchmarks/RESULTS.md || status=$?
dropdb -h 127.0.0.1 --if-exists "$PORTAL_DB"
for protocol in jsonrpc xmlrpc; do
    echo "[bench] concurrency over $protocol"
    "$PY" benchmarks/concurrency.py --db "$DB" --clients "${BENCH_CLIENTS:-50}" --protocol "$protocol" \
        --results benchmarks/RESULTS.md || status=$?
done
echo "[bench] results in benchmarks/RESULTS.md"
exit $status
