#!/usr/bin/env bash
# make fuzz: the model-based attacker (opportunity_registration_portal/tests/test_attacker.py)
# alone, for longer than in `make test`: set-up, a fresh database, then the
# state machine for FUZZ_SECONDS (default 30 minutes) with a seed taken from
# the clock and printed, so that a failure replays with ATTACKER_SEED=<seed>.
set -euo pipefail
source "$(dirname "$0")/common.sh"
bash "$ROOT/scripts/setup.sh"

DB=${FUZZ_DB:-opportunity_registration_fuzz}
SEED=${ATTACKER_SEED:-$(date +%s)}
echo "[fuzz] creating a fresh database $DB with $MODULE, $SALE_BRIDGE and $PORTAL_BRIDGE"
dropdb -h 127.0.0.1 --if-exists "$DB"
odoo -d "$DB" -i "$MODULE,$SALE_BRIDGE,$PORTAL_BRIDGE" --stop-after-init --log-level=warn --log-handler=py.warnings:ERROR

echo "[fuzz] seed $SEED for ${FUZZ_SECONDS:-1800} s (replay: ATTACKER_SEED=$SEED make fuzz)"
cd "$ROOT"
status=0
ATTACKER_SEED=$SEED ATTACKER_SECONDS=${FUZZ_SECONDS:-1800} ATTACKER_EXAMPLES=${ATTACKER_EXAMPLES:-1000000} \
    "$VENV/bin/pytest" -p no:cacheprovider -q -s \
    --odoo-config="$CONF" --odoo-database="$DB" --odoo-http \
    -W ignore::DeprecationWarning \
    "$ROOT/$PORTAL_BRIDGE/tests/test_attacker.py" "$@" || status=$?
echo "[fuzz] seed $SEED: exit $status"
exit $status
