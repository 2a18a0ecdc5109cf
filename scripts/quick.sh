#!/usr/bin/env bash
# make quick: the developer's loop. The add-ons' own tests on a test database
# that is kept between runs (created once, then upgraded), without the
# concurrency run, the soak, the uninstall check and stock crm's suite, and
# with a short attacker. `make test` (and CI) still runs everything.
#   QUICK_DB         database (default opportunity_registration_quick)
#   QUICK_FRESH=1    drop and recreate it
#   ATTACKER_SECONDS the attacker's budget (default 20 here; 150 in make test)
#   make quick TESTS="opportunity_registration/tests/test_registration_locks.py"
#                    only those test files (pytest paths, node ids allowed)
set -euo pipefail
source "$(dirname "$0")/common.sh"
bash "$ROOT/scripts/setup.sh" >/dev/null

DB=${QUICK_DB:-opportunity_registration_quick}
MODULES="$MODULE,$SALE_BRIDGE,$PORTAL_BRIDGE"
if [ "${QUICK_FRESH:-0}" = 1 ]; then
    dropdb -h 127.0.0.1 --if-exists "$DB"
fi
if db_exists "$DB" && module_installed "$DB"; then
    echo "[quick] upgrading $MODULES on $DB"
    odoo -d "$DB" -u "$MODULES" --stop-after-init --log-level=warn --log-handler=py.warnings:ERROR
else
    echo "[quick] creating $DB with $MODULES"
    dropdb -h 127.0.0.1 --if-exists "$DB"
    odoo -d "$DB" -i "$MODULES" --stop-after-init --log-level=warn --log-handler=py.warnings:ERROR
fi

cd "$ROOT"
# shellcheck disable=SC2086
targets=${TESTS:-"$MODULE/tests $SALE_BRIDGE/tests $PORTAL_BRIDGE/tests"}
echo "[quick] running $targets"
ATTACKER_SECONDS=${ATTACKER_SECONDS:-20} "$VENV/bin/pytest" -p no:cacheprovider -q \
    --odoo-config="$CONF" --odoo-database="$DB" --odoo-http \
    -W ignore::DeprecationWarning $targets
