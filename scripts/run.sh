#!/usr/bin/env bash
# make run: set-up, a database with the module and demo data (created once,
# upgraded when the module's files changed), then Odoo on 127.0.0.1:8069.
set -euo pipefail
source "$(dirname "$0")/common.sh"
bash "$ROOT/scripts/setup.sh"

DB=${DB:-opportunity_registration}
PORT=${PORT:-8069}
stamp="$CACHE/run-$DB.sha"
sha=$(find "$ROOT/$MODULE" -type f -not -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)

if ! db_exists "$DB" || ! module_installed "$DB"; then
    echo "[run] creating database $DB with $MODULE and demo data (about a minute)"
    odoo -d "$DB" -i "$MODULE" --with-demo --stop-after-init --log-level=warn --log-handler=py.warnings:ERROR
    echo "$sha" > "$stamp"
elif [ "$(cat "$stamp" 2>/dev/null)" != "$sha" ]; then
    echo "[run] reusing database $DB; upgrading $MODULE (its files changed)"
    odoo -d "$DB" -u "$MODULE" --stop-after-init --log-level=warn --log-handler=py.warnings:ERROR
    echo "$sha" > "$stamp"
else
    echo "[run] reusing database $DB"
fi

# the demo story (teams, customers, registrations in every state, stage
# history), loaded once; it keeps its marker in the database
"$VENV/bin/python" "$ROOT/scripts/demo.py" --db "$DB"

cat <<MSG

  Odoo is starting on http://127.0.0.1:$PORT
  database: $DB   login: admin   password: admin
  demo users (password demo): zhang.wei (rep, 中文), james.miller (rep),
  wang.lei (team leader, approver), emma.clark (team leader, approver),
  partner.demo (channel partner, on the portal: /my/registrations)
  Stop it with Ctrl+C.

MSG
exec "$VENV/bin/python" "$ODOO_HOME/usr/bin/odoo" -c "$CONF" -d "$DB" --db-filter="^$DB\$" \
    --http-port="$PORT" --http-interface=127.0.0.1
