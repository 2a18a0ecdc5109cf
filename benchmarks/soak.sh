#!/usr/bin/env bash
# make soak: a working day on two Odoo servers under faults (benchmarks/soak.py),
# on a dedicated PostgreSQL cluster so that restarting PostgreSQL never touches
# the cluster your other databases live in.
#
#   SOAK_MINUTES     length of the run (default 10)
#   SOAK_SOURCE      database copied for the run (default opportunity_registration_bench,
#                    when it holds the generated data); otherwise SOAK_LEADS opportunities
#                    are generated into SOAK_GENERATED_DB (once; default
#                    opportunity_registration_bench_soak)
#   SOAK_LEADS       opportunities of the generated database (default 100000)
#   SOAK_CLUSTER     the dedicated cluster's name (default soak), created when missing
#   SOAK_PG_PORT     its port (default 5433); it listens on localhost only
#   SOAK_DB          the database in it (default opportunity_registration_soak, replaced each run)
#   SOAK_RESULTS     where the report is appended (default benchmarks/RESULTS.md)
#   SOAK_HTTP_PORTS, SOAK_GEVENT_PORTS
#                    the two Odoo servers' HTTP and long-polling ports, e.g. 8097,8098
#                    (default: free ports)
#
# What it does to your machine: creates (once) the PostgreSQL cluster
# "$PG_VERSION/$SOAK_CLUSTER" on port $SOAK_PG_PORT (localhost, trusted local
# connections), copies the source database into it, restarts that cluster once
# during the run (pg_ctlcluster ... restart), and leaves it running. Remove it
# with `pg_dropcluster --stop 15 soak`. The main cluster on port 5432 is only
# read (pg_dump).
set -euo pipefail
source "$(dirname "$0")/../scripts/common.sh"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"

MINUTES=${SOAK_MINUTES:-10}
SOURCE=${SOAK_SOURCE:-opportunity_registration_bench}
LEADS=${SOAK_LEADS:-100000}
CLUSTER=${SOAK_CLUSTER:-soak}
PORT=${SOAK_PG_PORT:-5433}
DB=${SOAK_DB:-opportunity_registration_soak}
PG_VERSION=$(pg_lsclusters -h | awk '$2 == "main" {print $1; exit}')
PG_VERSION=${PG_VERSION:-15}
DB_USER=$(awk -F' *= *' '$1 == "db_user" {print $2}' "$CONF")
PY="$VENV/bin/python"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
soak_psql() { psql -h 127.0.0.1 -p "$PORT" "$@"; }

echo "[soak] PostgreSQL will be restarted once during the run: the dedicated cluster" \
    "$PG_VERSION/$CLUSTER on port $PORT (created if missing), never the main cluster on 5432"

# --- the dedicated cluster ----------------------------------------------------
if ! pg_lsclusters -h | awk '{print $1 "/" $2}' | grep -qx "$PG_VERSION/$CLUSTER"; then
    echo "[soak] creating the PostgreSQL cluster $PG_VERSION/$CLUSTER on port $PORT"
    as_root pg_createcluster "$PG_VERSION" "$CLUSTER" -p "$PORT" -- --auth-local=trust --auth-host=trust
    as_root sed -i "s/^#\?listen_addresses.*/listen_addresses = 'localhost'/" \
        "/etc/postgresql/$PG_VERSION/$CLUSTER/postgresql.conf"
fi
if ! pg_isready -q -h 127.0.0.1 -p "$PORT"; then
    as_root pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$CLUSTER" start
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p "$PORT" && break; sleep 1; done
fi
if ! soak_psql -U "$DB_USER" -d postgres -qtAc 'select 1' >/dev/null 2>&1; then
    (cd / && as_root su postgres -c "psql -p $PORT -qtA -c 'CREATE ROLE \"$DB_USER\" SUPERUSER LOGIN'")
fi

# --- the source database (main cluster), then its copy in the dedicated one ----
generated() {
    module_installed "$1" && [ -n "$(psql -h 127.0.0.1 -d "$1" -qtAc "SELECT value FROM ir_config_parameter
        WHERE key = 'opportunity_registration.bench_generated'" 2>/dev/null)" ]
}
if db_exists "$SOURCE" && generated "$SOURCE"; then
    label="a copy of $SOURCE"
else
    SOURCE=${SOAK_GENERATED_DB:-opportunity_registration_bench_soak}
    if ! (db_exists "$SOURCE" && generated "$SOURCE"); then
        echo "[soak] generating $SOURCE ($LEADS opportunities)"
        scale=$((LEADS / 1000))
        "$PY" benchmarks/generate.py --db "$SOURCE" --leads "$LEADS" --companies $((scale * 50)) \
            --prospects $((scale * 160)) --users 200 --teams 10 --registrations $((scale * 100)) --force
    fi
    label="a copy of the generated $SOURCE"
fi
count=$(psql -h 127.0.0.1 -d "$SOURCE" -qtAc "SELECT count(*) FROM crm_lead")
echo "[soak] copying $SOURCE ($count opportunities) into $DB on port $PORT"
dropdb -h 127.0.0.1 -p "$PORT" --if-exists "$DB"
createdb -h 127.0.0.1 -p "$PORT" "$DB"
pg_dump -h 127.0.0.1 -p 5432 -Fc "$SOURCE" | pg_restore -h 127.0.0.1 -p "$PORT" -d "$DB" --no-owner
soak_psql -d "$DB" -qc "ANALYZE"
echo "[soak] upgrading $MODULE in $DB"
odoo -d "$DB" --db_port="$PORT" -u "$MODULE" --stop-after-init --log-level=warn

"$PY" benchmarks/soak.py --db "$DB" --minutes "$MINUTES" --pg-port "$PORT" \
    --pg-restart "pg_ctlcluster --skip-systemctl-redirect $PG_VERSION $CLUSTER restart" \
    --label "$label ($count opportunities)" --results "${SOAK_RESULTS:-benchmarks/RESULTS.md}"
