"""Shared by the benchmark scripts: paths, the Odoo launcher, an environment."""

import contextlib
import os
import re
import statistics
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


def _section_key(heading):
    """A section's heading without its date and verdict: the same benchmark
    run again replaces its section instead of adding one."""
    heading = re.sub(r",? \d{4}-\d\d-\d\d \d\d:\d\d UTC", "", heading.strip())
    return re.sub(r": (PASS|FAIL)$", "", heading)


def split_sections(text):
    """``(preamble, [(key, section text), ...])`` of a Markdown file cut at its ``## `` headings."""
    parts = re.split(r"(?m)^(?=## )", text)
    preamble = "" if parts[0].startswith("## ") else parts.pop(0)
    return preamble, [(_section_key(part.splitlines()[0]), part) for part in parts]


def report(lines, output=None):
    """Print a Markdown section and put it in ``output`` (RESULTS.md), in place
    of the same benchmark's previous section if there is one."""
    text = "\n".join(lines) + "\n"
    print(text)
    if not output:
        return
    old = open(output, encoding="utf-8").read() if os.path.exists(output) else ""
    preamble, sections = split_sections(old)
    new_preamble, new_sections = split_sections(text)
    for key, section in new_sections:
        keys = [existing for existing, _text in sections]
        if key in keys:
            sections[keys.index(key)] = (key, section)
        else:
            sections.append((key, section))
    body = "".join(section.rstrip("\n") + "\n\n" for _k, section in sections)
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(preamble.rstrip("\n") + "\n\n" + new_preamble.strip("\n") + body)


# ---------------------------------------------------------------------------
# Odoo servers the harnesses start (their clients: rpc.py)
# ---------------------------------------------------------------------------

HOST = "127.0.0.1"


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """One Odoo server process (group), started and stopped by its harness only.

    ``db_host`` / ``db_port`` point it at another PostgreSQL cluster than the
    configuration's; ``cron_threads`` runs the scheduled actions in it;
    ``gevent_port`` is its long-polling port (a free one by default).
    """

    def __init__(
        self,
        db,
        port,
        workers,
        logdir,
        label,
        *,
        cron_threads=0,
        db_host=None,
        db_port=None,
        gevent_port=None,
    ):
        self.db = db
        self.port = port
        self.workers = workers
        self.label = label
        self.log = os.path.join(logdir, "odoo-%s.log" % label)
        self.args = [
            "-d",
            db,
            "--db-filter=^%s$" % db,
            "--http-interface=%s" % HOST,
            "--http-port=%d" % port,
            "--gevent-port=%d" % (gevent_port or free_port()),
            "--workers=%d" % workers,
            "--max-cron-threads=%d" % cron_threads,
            "--log-level=warn",
            "--logfile=%s" % self.log,
            "--limit-time-real=120",
            "--limit-time-cpu=60",
        ]
        if db_host:
            self.args.append("--db_host=%s" % db_host)
        if db_port:
            self.args.append("--db_port=%d" % int(db_port))
        self.process = None
        self.start()

    def start(self):
        # what does not reach the log file (a thread dying, say) lands here
        with open(self.log + ".stderr", "a") as stderr:
            self.process = subprocess.Popen(
                odoo_command(*self.args),
                stdout=stderr,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def url(self, path):
        return "http://%s:%d%s" % (HOST, self.port, path)

    def wait_ready(self, deadline):
        import xmlrpc.client

        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    "Odoo server %s exited (code %s): see %s"
                    % (self.label, self.process.returncode, self.log)
                )
            try:
                xmlrpc.client.ServerProxy(self.url("/xmlrpc/2/common")).version()
                return
            except (OSError, xmlrpc.client.Error):
                time.sleep(0.5)
        raise TimeoutError("Odoo server %s did not answer in time: see %s" % (self.label, self.log))

    def children(self):
        """PIDs of the processes its main process forked (prefork workers)."""
        pid = self.process.pid
        try:
            with open("/proc/%d/task/%d/children" % (pid, pid)) as handle:
                return [int(child) for child in handle.read().split()]
        except OSError:
            return []

    def stop(self):
        import signal

        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(timeout=10)

    def log_records(self):
        """Its log as records: each line with a timestamp opens one, tracebacks included."""
        import re

        records = []
        try:
            with open(self.log, errors="replace") as log:
                for line in log:
                    if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", line) or not records:
                        records.append(line.rstrip())
                    else:
                        records[-1] += "\n" + line.rstrip()
        except OSError:
            pass
        return records

    def errors(self):
        """ERROR / CRITICAL lines of its log (tracebacks)."""
        return [
            record.splitlines()[0]
            for record in self.log_records()
            if " ERROR " in record.splitlines()[0] or " CRITICAL " in record.splitlines()[0]
        ]


def median_and_worst(function, runs, env=None):
    """Milliseconds (median, worst) of ``runs`` calls after one warm-up call;
    with ``env``, each call starts from an empty ORM cache."""
    samples = []
    for index in range(runs + 1):
        if env is not None:
            env.invalidate_all()
        start = time.perf_counter()
        function()
        if index:
            samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)
