"""Shared by the benchmark scripts: paths, the Odoo launcher, an environment."""

import contextlib
import os
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("OPREG_CACHE", os.path.expanduser("~/.cache/opportunity_registration"))
ODOO_HOME = os.path.join(CACHE, "odoo-19")
ODOO_BIN = os.path.join(ODOO_HOME, "usr", "bin", "odoo")
CONF = os.path.join(ROOT, ".odoo.conf")
PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
MODULE = "opportunity_registration"
BENCH_DB = "opportunity_registration_bench"


def load_identity():
    """The module's pure customer_identity helpers, imported without Odoo."""
    import importlib.util

    path = os.path.join(ROOT, MODULE, "models", "customer_identity.py")
    spec = importlib.util.spec_from_file_location("opreg_customer_identity", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def odoo_command(*args):
    return [PYTHON, ODOO_BIN, "-c", CONF, *args]


def run_odoo(*args, check=True):
    """Run the Odoo launcher to completion; return the elapsed seconds."""
    start = time.perf_counter()
    subprocess.run(odoo_command(*args), check=check)
    return time.perf_counter() - start


_config_done = False


def load_config(db):
    global _config_done
    import odoo
    import odoo.tools.config

    if not _config_done:
        odoo.tools.config.parse_config(["-c", CONF, "-d", db, "--log-level=warn"])
        _config_done = True


@contextlib.contextmanager
def environment(db, uid=None, commit=True):
    """An Odoo environment on ``db`` (superuser by default)."""
    load_config(db)
    import odoo.api
    import odoo.modules.registry

    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, uid or odoo.SUPERUSER_ID, {})
        yield env
        if commit:
            cr.commit()
        else:
            cr.rollback()


def db_exists(db):
    load_config(db)
    import odoo.sql_db

    with odoo.sql_db.db_connect("postgres").cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db])
        return bool(cr.fetchone())


def stamp():
    return time.strftime("%H:%M:%S")


def say(message):
    print("[%s] %s" % (stamp(), message), flush=True)


def report(lines, output=None):
    """Print a Markdown section and append it to ``output`` (RESULTS.md)."""
    text = "\n".join(lines) + "\n"
    print(text)
    if output:
        with open(output, "a", encoding="utf-8") as handle:
            handle.write(text)
