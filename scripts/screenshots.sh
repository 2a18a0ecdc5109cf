#!/usr/bin/env bash
# make screenshots: the demo database and a server (as make run), then
# headless Chromium captures every screen of the README in English and
# Chinese into docs/screenshots/; the server is stopped afterwards.
#   DB    database (default opportunity_registration, as make run)
#   PORT  HTTP port (default 8069)
set -euo pipefail
source "$(dirname "$0")/common.sh"
DB=${DB:-opportunity_registration}
PORT=${PORT:-8069}
export DB PORT

setsid bash "$ROOT/scripts/run.sh" > "$CACHE/screenshots-server.log" 2>&1 &
server=$!
trap 'kill -- -"$server" 2>/dev/null || true' EXIT
echo "[screenshots] waiting for Odoo on port $PORT (database $DB)"
for _ in $(seq 1 600); do
    if curl -sf -o /dev/null "http://127.0.0.1:$PORT/web/login?db=$DB"; then
        break
    fi
    if ! kill -0 "$server" 2>/dev/null; then
        tail -20 "$CACHE/screenshots-server.log"
        exit 1
    fi
    sleep 1
done
"$VENV/bin/python" "$ROOT/scripts/screenshots.py" --url "http://127.0.0.1:$PORT" --db "$DB" \
    --out "$ROOT/docs/screenshots"
