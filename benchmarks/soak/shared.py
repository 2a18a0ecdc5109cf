"""What the soak's modules share: its constants, amounts, and the harness's own
PostgreSQL connection (never terminated by its faults)."""

import contextlib
import datetime

PASSWORD = "bench-Soak-1"
MONITOR_APP = "opreg-soak-monitor"
FAULTS = ("kill_worker", "restart_server", "terminate_connections", "restart_postgresql")
ACTIVE = ("submitted", "approved")
POOL = ("released", "expired")
CRONS = (
    "ir_cron_registration_expire",
    "ir_cron_registration_warn",
    "ir_cron_registration_escalate",
)
BANDS = [(0.55, 3000, 19000), (0.25, 20000, 49000), (0.12, 50000, 190000), (0.08, 200000, 900000)]


def utc(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).replace(tzinfo=None)


def amount(rng):
    roll = rng.random()
    for share, low, high in BANDS:
        if roll < share:
            return float(rng.randrange(low, high, 500))
        roll -= share
    return 10000.0


class Pg:
    """The harness's connection to the cluster holding ``--db``, under its own
    application name so that the connection-terminating fault spares it."""

    def __init__(self, args):
        self.params = {
            "host": args.pg_host,
            "port": args.pg_port,
            "dbname": args.db,
            "user": args.pg_user,
            "application_name": MONITOR_APP,
            "connect_timeout": 5,
        }

    @contextlib.contextmanager
    def cursor(self):
        import psycopg2

        connection = psycopg2.connect(**self.params)
        try:
            connection.set_session(isolation_level="REPEATABLE READ")
            with connection.cursor() as cr:
                # compiling the checks' plans cost more than running them
                cr.execute("SET jit = off")
                yield cr
            connection.commit()
        finally:
            connection.close()

    def run(self, query, params=None):
        with self.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if cr.description else None


def cron_calls(pg, since=None):
    """How many times each of the module's jobs ran (one ir_cron_progress per run)."""
    return pg.run(
        "SELECT d.name, count(p.id) FROM ir_model_data d"
        " LEFT JOIN ir_cron_progress p ON p.cron_id = d.res_id AND p.create_date >= %s"
        " WHERE d.module = 'opportunity_registration' AND d.name = ANY(%s) GROUP BY d.name",
        [since or datetime.datetime(1970, 1, 1), list(CRONS)],
    )
