# Shared by the project's scripts: paths and the Odoo launcher.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${OPREG_CACHE:-$HOME/.cache/opportunity_registration}
ODOO_HOME="$CACHE/odoo-19"
ODOO_ADDONS="$ODOO_HOME/usr/lib/python3/dist-packages/odoo/addons"
VENV="$ROOT/.venv"
CONF="$ROOT/.odoo.conf"
MODULE=opportunity_registration
# The bridge to Sales (auto-installed with sale_crm): actual revenue from confirmed orders.
SALE_BRIDGE=opportunity_registration_sale
# The partner portal (auto-installed with portal, which crm brings): channel
# partners' pages, uploads and e-mails.
PORTAL_BRIDGE=opportunity_registration_portal

odoo() {
    "$VENV/bin/python" "$ODOO_HOME/usr/bin/odoo" -c "$CONF" "$@"
}

db_exists() {
    psql -h 127.0.0.1 -d postgres -qtAc "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1
}

module_installed() {
    psql -h 127.0.0.1 -d "$1" -qtAc \
        "SELECT 1 FROM ir_module_module WHERE name = '$MODULE' AND state = 'installed'" 2>/dev/null | grep -q 1
}
