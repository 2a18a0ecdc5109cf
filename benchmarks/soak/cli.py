"""The command line and the run's order: servers, preparation, the clients,
the sampler, the faults and the clock for ``--minutes``, then the checks and
the report."""

import argparse
import contextlib
import getpass
import multiprocessing
import os
import random
import tempfile
import threading
import time
import traceback
import uuid

from _common import CONF, Server, free_port, say
from rpc import Admin

from . import __doc__ as DOC
from .faults import Faults
from .invariants import SNAPSHOT, check_ledger, final_sweep, monitor, take_snapshot
from .prepare import age_registrations, clock, prepare, schedule_jobs
from .report import (
    Outcome,
    analyse_logs,
    build_report,
    failures_of,
    load_records,
    load_samples,
    publish,
)
from .roles import client_main
from .shared import CRONS, FAULTS, Pg, cron_calls, utc


def odoo_options():
    """The [options] of the Odoo configuration the servers run with."""
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(CONF)
    return dict(parser["options"]) if parser.has_section("options") else {}


def build_parser():
    parser = argparse.ArgumentParser(description=DOC.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--reps", type=int, default=6)
    parser.add_argument(
        "--portals", type=int, default=2, help="portal users of the partner companies"
    )
    parser.add_argument("--held", type=int, default=3, help="customers each rep holds at start")
    parser.add_argument("--seed", default="20261129")
    parser.add_argument("--workers", type=int, default=4, help="workers of the first server")
    parser.add_argument(
        "--faults", default=",".join(FAULTS), help="comma-separated: %s" % ", ".join(FAULTS)
    )
    conf = odoo_options()
    parser.add_argument("--pg-host", default=conf.get("db_host") or "127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=int(conf.get("db_port") or 5432))
    parser.add_argument(
        "--pg-user", default=conf.get("db_user") or os.environ.get("PGUSER") or getpass.getuser()
    )
    parser.add_argument(
        "--pg-restart",
        help="command restarting the PostgreSQL cluster that holds --db (only that one), "
        "e.g. 'pg_ctlcluster 15 soak restart'; without it the restart fault is skipped",
    )
    parser.add_argument(
        "--cron-on",
        choices=["workers", "threaded"],
        default="workers",
        help="which server runs the scheduled jobs: the prefork one (its cron worker is a "
        "process the server respawns) or the threaded one (in Odoo 19 its cron thread dies "
        "for good when PostgreSQL restarts)",
    )
    parser.add_argument(
        "--recovery-limit",
        type=float,
        default=120.0,
        help="seconds within which a server must answer again after its fault (a restart "
        "loads the registry: 20-60 s on two busy cores)",
    )
    parser.add_argument("--retry-limit", type=float, default=150.0)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--results", help="append the report to this Markdown file")
    parser.add_argument("--label", default="", help="how the database was made, for the report")
    parser.add_argument(
        "--http-ports",
        default=os.environ.get("SOAK_HTTP_PORTS", ""),
        help="the two servers' HTTP ports, e.g. 8097,8098 (default: free ones)",
    )
    parser.add_argument(
        "--gevent-ports",
        default=os.environ.get("SOAK_GEVENT_PORTS", ""),
        help="the two servers' long-polling ports, e.g. 8197,8198 (default: free ones)",
    )
    return parser


def parse_args(argv=None):
    """The arguments, checked; ``args.ports`` the two servers' HTTP and long-polling ports."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.think = (0.2, 1.2)
    args.faults = [f for f in args.faults.split(",") if f]
    if "restart_postgresql" in args.faults and not args.pg_restart:
        args.faults.remove("restart_postgresql")
        say("no --pg-restart command: PostgreSQL will not be restarted")
    args.ports = {}
    for name in ("http_ports", "gevent_ports"):
        try:
            ports = [int(p) for p in getattr(args, name).split(",") if p.strip()]
        except ValueError:
            ports = None
        if ports is None or len(ports) not in (0, 2):
            parser.error("--%s: two port numbers, e.g. 8097,8098" % name.replace("_", "-"))
        args.ports[name] = ports or [None, None]
    unknown = set(args.faults) - set(FAULTS)
    if unknown:
        parser.error("unknown faults: %s" % ", ".join(sorted(unknown)))
    return args


class Soak:
    """One run: its servers, its users, its failures."""

    def __init__(self, args):
        self.args = args
        self.run = uuid.uuid4().hex[:6]
        self.rng = random.Random(args.seed)
        self.logdir = tempfile.mkdtemp(prefix="opreg-soak-")
        self.pg = Pg(args)
        self.servers = []
        self.failures = []
        self.stop = threading.Event()

    def execute(self):
        """The whole run; the report's lines (``self.failures`` filled)."""
        self.start_servers()
        users, start_state = self.prepare()
        ran = self.drive(users, start_state)
        return self.judge(ran)

    def start_servers(self):
        """One prefork server, one threaded; the scheduled jobs on ``--cron-on``."""
        args = self.args
        say(
            "starting two Odoo servers against %s on %s:%d (logs in %s)"
            % (args.db, args.pg_host, args.pg_port, self.logdir)
        )
        schedule_jobs(self.pg)
        prefork_cron = int(args.cron_on == "workers")
        http, gevent = args.ports["http_ports"], args.ports["gevent_ports"]
        kinds = [
            (
                args.workers,
                "workers%d%s" % (args.workers, "+cron" if prefork_cron else ""),
                prefork_cron,
            ),
            (0, "threaded" + ("" if prefork_cron else "+cron"), 1 - prefork_cron),
        ]
        for i, (workers, label, cron_threads) in enumerate(kinds):
            self.servers.append(
                Server(
                    args.db,
                    http[i] or free_port(),
                    workers,
                    self.logdir,
                    label,
                    cron_threads=cron_threads,
                    gevent_port=gevent[i],
                    db_host=args.pg_host,
                    db_port=args.pg_port,
                )
            )
        deadline = time.monotonic() + 180
        for server in self.servers:
            server.wait_ready(deadline)

    def prepare(self):
        """The users and their data; the registrations' state when the run begins."""
        args = self.args
        admin = Admin(self.servers[0], args.db)
        start_state = take_snapshot(self.pg)
        say("preparing users, a team and held customers (run %s)" % self.run)
        users, _team, held = prepare(admin, args, self.run, self.rng)
        args.held_customers = held
        args.rep_ids = [u["id"] for u in users if u["role"] == "rep"]
        args.portal_ids = [u["id"] for u in users if u["role"] == "portal"]
        age_registrations(self.pg, self.run)
        return users, start_state

    def start_clients(self, users, end):
        """One client process per user, on the two servers alternately."""
        ctx = multiprocessing.get_context("fork")
        processes = []
        for i, user in enumerate(users):
            server = self.servers[i % len(self.servers)]
            process = ctx.Process(
                target=client_main,
                args=(
                    user,
                    (server.label, server.url("")),
                    self.args,
                    self.run,
                    i,
                    self.logdir,
                    end,
                ),
            )
            process.start()
            processes.append(process)
        return processes

    def drive(self, users, start_state):
        """The clients, the invariant sampler, the faults and the clock until the end."""
        args = self.args
        duration = args.minutes * 60
        start = time.time()
        end = start + duration
        samples_file = os.path.join(self.logdir, "samples.jsonl")
        monitor_stop = multiprocessing.Event()
        sampler = multiprocessing.Process(
            target=monitor, args=(args, start_state, monitor_stop, samples_file)
        )
        sampler.start()
        crons_before = dict(cron_calls(self.pg))
        processes = self.start_clients(users, end)
        say(
            "%d clients for %.1f minutes; faults: %s"
            % (len(users), args.minutes, ", ".join(args.faults))
        )
        faults = Faults(args, self.servers, self.pg, self.rng)
        injector = threading.Thread(target=faults.run, args=(start, duration, self.stop))
        injector.start()
        threading.Thread(target=clock, args=(args, self.pg, self.run, self.stop)).start()
        for process in processes:
            process.join(timeout=max(1, end - time.time()) + args.retry_limit + 30)
            if process.is_alive():
                self.failures.append("client process %d did not stop" % process.pid)
                process.kill()
        self.stop.set()
        injector.join(timeout=args.recovery_limit + 60)
        finished = time.time()
        say("final checks")
        monitor_stop.set()
        sampler.join(timeout=30)
        return {
            "start_state": start_state,
            "start": start,
            "finished": finished,
            "samples_file": samples_file,
            "crons_before": crons_before,
            "faults": faults.done,
            "clients": len(users),
        }

    def judge(self, ran):
        """The final sweep, the ledger, the jobs and the logs: the report's lines."""
        pg, faults = self.pg, ran["faults"]
        final = final_sweep(pg, ran["start_state"])
        records = load_records(self.logdir)
        ledger, ledger_failures = check_ledger(pg, records, self.run)
        self.failures += ledger_failures
        crons_after = dict(cron_calls(pg))
        last_fault = max((f["end"] for f in faults), default=ran["start"])
        crons_late = dict(cron_calls(pg, utc(last_fault)))
        if ran["finished"] - last_fault >= 150 and not any(crons_late.values()):
            self.failures.append(
                "no scheduled job ran in the %.0f s after the last fault"
                % (ran["finished"] - last_fault)
            )
        outcome = Outcome(
            records=records,
            samples=load_samples(ran["samples_file"]),
            faults=faults,
            start=ran["start"],
            end=ran["finished"],
            clients=ran["clients"],
            final=final,
            ledger=ledger,
            crons={n: crons_after.get(n, 0) - ran["crons_before"].get(n, 0) for n in CRONS},
            crons_late=crons_late,
            logs=analyse_logs(self.servers, faults, 20),
        )
        lines, violations = build_report(outcome)
        self.failures += failures_of(self.args, outcome, violations)
        return lines

    def close(self):
        """Stop the servers it started; drop its snapshot table."""
        self.stop.set()
        for server in self.servers:
            server.stop()
        with contextlib.suppress(Exception):
            self.pg.run("DROP TABLE IF EXISTS %s" % SNAPSHOT)


def main(argv=None):
    args = parse_args(argv)
    soak = Soak(args)
    lines = []
    try:
        lines = soak.execute()
    except Exception as error:
        traceback.print_exc()
        soak.failures.append("harness error: %s: %s" % (type(error).__name__, error))
    finally:
        soak.close()
    verdict = publish(args, lines, soak.failures)
    say("soak: %s (logs in %s)" % (verdict, soak.logdir))
    return 0 if verdict == "PASS" else 1
