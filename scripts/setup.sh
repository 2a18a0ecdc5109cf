#!/usr/bin/env bash
# Idempotent set-up: Debian packages, Odoo 19 (from Debian's odoo-19 package,
# unpacked into a cache outside the repository), the virtual environment,
# PostgreSQL and the generated Odoo configuration. Each step checks first and
# does nothing when its result is already there.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${OPREG_CACHE:-$HOME/.cache/opportunity_registration}
ODOO_HOME="$CACHE/odoo-19"
VENV="$ROOT/.venv"
CONF="$ROOT/.odoo.conf"
PG_VERSION=15
DB_USER=$(id -un)

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        die "'$*' needs root; run it as root or install sudo"; fi
}

mkdir -p "$CACHE" || die "cannot create the cache folder $CACHE"
free_mb=$(df -Pm "$CACHE" | awk 'NR==2 {print $4}')
if [ ! -f "$ODOO_HOME/.complete" ] && [ "${free_mb:-0}" -lt 3000 ]; then
    die "only ${free_mb} MB free under $CACHE; Odoo needs about 3 GB to download and unpack"
fi

# --- Debian packages --------------------------------------------------------
# Fonts and JavaScript libraries Odoo's web client links to, PostgreSQL, a
# headless Chromium for the browser tours, libmagic for python-magic.
DEB_PACKAGES=(postgresql fonts-font-awesome fonts-roboto-unhinted fonts-inconsolata
              fonts-ocr-b libjs-jquery libjs-jquery-form libjs-underscore
              chromium fonts-wqy-microhei libmagic1 python3-venv ca-certificates)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq || die "apt-get update failed: is the Debian package registry reachable?"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        || die "apt-get install ${missing[*]} failed"
fi

# --- Odoo 19 ----------------------------------------------------------------
# Debian ships odoo-19 in sid only. A private apt configuration downloads it
# without touching the system's sources; it is unpacked into a temporary folder
# and renamed into place only once complete, so a half-extracted Odoo is never
# trusted by a later run.
if [ ! -f "$ODOO_HOME/.complete" ]; then
    say "fetching Odoo 19 (Debian package odoo-19, suite sid) into $CACHE"
    APT_DIR="$CACHE/apt-sid"
    mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main" \
        > "$APT_DIR/sources.list"
    APT_OPTS=(-o "Dir::Etc::SourceList=$APT_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache=$APT_DIR/cache" -o Debug::NoLocking=1)
    deb=$(ls "$APT_DIR"/odoo-19_*.deb 2>/dev/null | tail -n 1 || true)
    if [ -z "$deb" ]; then
        apt-get "${APT_OPTS[@]}" update -qq || die "cannot read Debian sid's package lists: is the Debian registry reachable?"
        (cd "$APT_DIR" && apt-get "${APT_OPTS[@]}" download odoo-19) || die "downloading odoo-19 failed"
        deb=$(ls "$APT_DIR"/odoo-19_*.deb | tail -n 1)
    fi
    tmp=$(mktemp -d "$CACHE/odoo-19.partial.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    dpkg-deb -x "$deb" "$tmp" || die "unpacking $deb failed (disk full?)"
    pkg="$tmp/usr/lib/python3/dist-packages"
    version=$(sed -n "s/^version_info = (\([0-9]*\), *\([0-9]*\).*/\1.\2/p" "$pkg/odoo/release.py")
    case "$version" in 19.*) say "Odoo version $version";; *) die "expected Odoo 19.x in $deb, found '$version'";; esac
    # Debian's relative links into font/JS packages point nowhere once unpacked
    # elsewhere: re-point each one to the same path under /.
    while IFS= read -r link; do
        target=$(readlink "$link")
        case "$target" in
            /*) ;;
            *) abs=$(cd "$(dirname "$link")" && realpath -m "$target")
               ln -sfn "/${abs#"$tmp"/}" "$link" ;;
        esac
    done < <(find "$tmp" -type l)
    # Debian's repack drops a file the web client's asset bundle loads.
    selfie="$pkg/odoo/addons/mail/static/lib/selfie_segmentation/selfie_segmentation.js"
    if [ ! -f "$selfie" ]; then
        tgz=$(ls "$CACHE"/mediapipe-selfie_segmentation-*.tgz 2>/dev/null | tail -n 1 || true)
        if [ -z "$tgz" ]; then
            (cd "$CACHE" && npm pack --silent @mediapipe/selfie_segmentation@0.1 >/dev/null) \
                || die "npm pack @mediapipe/selfie_segmentation failed: is the npm registry reachable?"
            tgz=$(ls "$CACHE"/mediapipe-selfie_segmentation-*.tgz | tail -n 1)
        fi
        mkdir -p "$(dirname "$selfie")"
        tar -xzf "$tgz" -O package/selfie_segmentation.js > "$selfie"
    fi
    touch "$tmp/.complete"
    rm -rf "$ODOO_HOME"
    mv "$tmp" "$ODOO_HOME"
    trap - EXIT
fi
ODOO_PKG="$ODOO_HOME/usr/lib/python3/dist-packages"

# --- virtual environment ----------------------------------------------------
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
req_stamp="$VENV/.requirements.sha"
req_sha=$(cat "$ROOT/requirements.txt" "$ROOT/scripts/setup.sh" | sha256sum | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$req_stamp" 2>/dev/null)" != "$req_sha" ]; then
    say "preparing the virtual environment $VENV"
    [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV" || die "cannot create a virtual environment with $PY"
    export PIP_CACHE_DIR="$HOME/.cache/pip" PIP_DISABLE_PIP_VERSION_CHECK=1
    "$VENV/bin/pip" install -q -r "$ROOT/requirements.txt" || die "pip install -r requirements.txt failed: is PyPI reachable?"
    # OCA addons declare odoo==19.0.* which is not on PyPI: install without deps.
    "$VENV/bin/pip" install -q --no-deps "odoo-addon-base_tier_validation==19.0.*" \
        || die "pip install odoo-addon-base_tier_validation failed"
    echo "$ODOO_PKG" > "$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/odoo19.pth"
    echo "$req_sha" > "$req_stamp"
fi
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$ODOO_PKG" > "$SITE/odoo19.pth"
OCA_ADDONS="$SITE/odoo/addons"
[ -d "$OCA_ADDONS/base_tier_validation" ] || die "base_tier_validation not found under $OCA_ADDONS"

# --- PostgreSQL ---------------------------------------------------------------
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
if ! pg_up; then
    if ! pg_lsclusters -h 2>/dev/null | grep -q "^$PG_VERSION main"; then
        say "creating the PostgreSQL $PG_VERSION cluster"
        as_root pg_createcluster "$PG_VERSION" main || die "pg_createcluster failed"
    fi
    say "starting PostgreSQL $PG_VERSION"
    as_root pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start \
        || die "PostgreSQL refused to start: see /var/log/postgresql/postgresql-$PG_VERSION-main.log"
    for _ in $(seq 30); do pg_up && break; sleep 1; done
    pg_up || die "PostgreSQL does not answer on 127.0.0.1:5432"
fi
psql_admin() { (cd / && as_root su postgres -c "psql -qtA -c \"$1\"") ; }
if [ "$DB_USER" = postgres ]; then die "Odoo refuses to run as the postgres role: run as another user"; fi
if ! psql -h 127.0.0.1 -U "$DB_USER" -d postgres -qtAc 'select 1' >/dev/null 2>&1; then
    say "creating the PostgreSQL role $DB_USER"
    psql_admin "CREATE ROLE \\\"$DB_USER\\\" SUPERUSER LOGIN" || die "cannot create the PostgreSQL role $DB_USER"
fi

# --- Odoo configuration ---------------------------------------------------------
cat > "$CONF.tmp" <<EOF
[options]
addons_path = $ODOO_PKG/odoo/addons,$OCA_ADDONS,$ROOT
data_dir = $CACHE/data
db_host = 127.0.0.1
db_port = 5432
db_user = $DB_USER
http_interface = 127.0.0.1
http_port = ${OPREG_HTTP_PORT:-8069}
admin_passwd = admin
list_db = True
EOF
mv "$CONF.tmp" "$CONF"
say "ready: Odoo in $ODOO_HOME, venv in $VENV, configuration in $CONF"
