#!/usr/bin/env python3
"""Submit end to end over JSON-RPC next to stock create, and throughput with --workers=4.

    .venv/bin/python benchmarks/bench_rpc.py --db opportunity_registration_bench [--output RESULTS.md]

Starts one Odoo server with ``--workers=4`` on the benchmark database, creates
salespersons over RPC, then, as those salespersons, through
``/web/dataset/call_kw`` with a web session (what the form's buttons call):

1. latency, one client: stock ``crm.lead.create`` of a complete opportunity of
   a new customer, and the module's ``action_registration_submit`` of such an
   opportunity (created just before, not timed), alternately, N times each;
2. throughput: C client processes at once, each doing M of the same calls,
   stock creates first, then create + submit pairs; calls per second over
   the whole run.

Every call must succeed. The data it creates (new customers, one per call)
stays in the database, like the concurrency harness's.
"""

import argparse
import datetime
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import BENCH_DB, Server, free_port, report, say
from rpc import Admin, JsonRpc

CLIENT_PASSWORD = "bench-Rpc-1"


def connect(url, db, login):
    """A salesperson's web session."""
    client = JsonRpc(url, db, 120)
    client.login(login, CLIENT_PASSWORD)
    return client


def lead_vals(uid, tag):
    return {
        "type": "opportunity",
        "name": "RPC deal %s" % tag,
        "user_id": uid,
        "partner_name": "Rpcbench %s Technologies Co., Ltd." % tag,
        "contact_name": "Wang Fang",
        "email_from": "wang.fang@rpcbench-%s.example.com" % tag,
        "phone": "+86 138 %08d" % (zlib.crc32(tag.encode()) % 100000000),
        "expected_revenue": 12000.0,
        "date_deadline": (datetime.date.today() + datetime.timedelta(days=60)).isoformat(),
        "need_description": "CRM rollout for 80 users",
        "key_person_identified": True,
        "key_person_name": "Wang Fang (COO)",
    }


def timed_create(client, tag):
    start = time.perf_counter()
    client.call("crm.lead", "create", [lead_vals(client.uid, tag)])
    return time.perf_counter() - start


def timed_submit(client, tag):
    lead_ids = client.call("crm.lead", "create", [lead_vals(client.uid, tag)])
    start = time.perf_counter()
    client.call("crm.lead", "action_registration_submit", lead_ids)
    return time.perf_counter() - start


def worker(*, url, db, login, tag, count, what, barrier, results):
    """One client process of the throughput run."""
    try:
        client = connect(url, db, login)
        client.call("crm.lead", "search", [("id", "=", 0)])  # warm the session
        barrier.wait(timeout=120)
        for i in range(count):
            (timed_create if what == "create" else timed_submit)(client, "%s-%d" % (tag, i))
        results.put(("ok", time.time()))
    except Exception as error:
        results.put(("error", "%s: %s" % (type(error).__name__, error)))


def throughput(url, db, logins, run, count, what):
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(len(logins) + 1)
    results = ctx.Queue()
    processes = [
        ctx.Process(
            target=worker,
            kwargs={
                "url": url,
                "db": db,
                "login": login,
                "tag": "%s-%s-%d" % (run, what, i),
                "count": count,
                "what": what,
                "barrier": barrier,
                "results": results,
            },
        )
        for i, login in enumerate(logins)
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=120)
    start = time.time()
    outcomes = [results.get(timeout=600) for _process in processes]
    for process in processes:
        process.join(timeout=10)
    errors = [detail for kind, detail in outcomes if kind != "ok"]
    if errors:
        raise RuntimeError("throughput run %s: %s" % (what, errors[:3]))
    end = max(detail for _kind, detail in outcomes)
    return len(logins) * count / (end - start), end - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=BENCH_DB)
    parser.add_argument("--calls", type=int, default=40, help="latency: timed calls of each kind")
    parser.add_argument("--clients", type=int, default=8, help="throughput: client processes")
    parser.add_argument("--per-client", type=int, default=15, help="throughput: calls per client")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--output")
    args = parser.parse_args()
    run = uuid.uuid4().hex[:6]
    server = Server(
        args.db, free_port(), args.workers, tempfile.mkdtemp(prefix="opreg-rpc-"), "rpc"
    )
    try:
        server.wait_ready(time.monotonic() + 180)
        admin = Admin(server, args.db)
        salesman = admin.ref("sales_team.group_sale_salesman")
        user_ids = admin(
            "res.users",
            "create",
            [
                {
                    "name": "RPC Rep %s-%02d" % (run, i),
                    "login": "rpc-%s-%02d@bench.example.com" % (run, i),
                    "password": CLIENT_PASSWORD,
                    "group_ids": [(6, 0, [salesman])],
                }
                for i in range(args.clients)
            ],
            context={"no_reset_password": True},
        )
        # their sales team: a registration is submitted in a team its owner belongs to
        admin("crm.team", "create", {"name": "RPC %s" % run, "member_ids": [(6, 0, user_ids)]})
        logins = [u["login"] for u in admin("res.users", "read", user_ids, ["login"])]
        url = server.url("")

        say(
            "latency: %d stock creates and %d submits, alternately, one client"
            % (args.calls, args.calls)
        )
        client = connect(url, args.db, logins[0])
        for i in range(3):  # warm-up of every worker's caches
            timed_create(client, "%s-warm-c%d" % (run, i))
            timed_submit(client, "%s-warm-s%d" % (run, i))
        creates, submits = [], []
        for i in range(args.calls):
            creates.append(timed_create(client, "%s-lc-%d" % (run, i)) * 1000)
            submits.append(timed_submit(client, "%s-ls-%d" % (run, i)) * 1000)

        say("throughput: %d clients x %d calls" % (args.clients, args.per_client))
        create_rate, create_seconds = throughput(
            url, args.db, logins, run, args.per_client, "create"
        )
        submit_rate, submit_seconds = throughput(
            url, args.db, logins, run, args.per_client, "submit"
        )
        errors = server.errors()
    finally:
        server.stop()

    def p(values, fraction):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]

    create_median, submit_median = statistics.median(creates), statistics.median(submits)
    lines = [
        "",
        "## Submit over JSON-RPC and throughput (`benchmarks/bench_rpc.py`, %s)"
        % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "",
        "One Odoo server with `--workers=%d` on the benchmark database; salespersons calling "
        "`/web/dataset/call_kw` with a web session, as the form's buttons do. Each call is for a new "
        "customer (small band: approved at once)." % args.workers,
        "",
        "| call (one client, %d each, alternately) | median ms | p90 ms |" % args.calls,
        "|---|---:|---:|",
        "| stock `crm.lead.create` | %.1f | %.1f |" % (create_median, p(creates, 0.9)),
        "| module `action_registration_submit` | %.1f | %.1f |" % (submit_median, p(submits, 0.9)),
        "",
        "| throughput (%d clients at once, %d calls each) | calls/s | seconds |"
        % (args.clients, args.per_client),
        "|---|---:|---:|",
        "| stock `crm.lead.create` | %.1f | %.1f |" % (create_rate, create_seconds),
        "| module: `create` then `action_registration_submit` (a pair counts as one) | %.1f | %.1f |"
        % (submit_rate, submit_seconds),
        "",
        "Target: submit median ≤ stock `create` median over RPC: %.1f ms vs %.1f ms, %s. Server log errors: %d."
        % (
            submit_median,
            create_median,
            "met" if submit_median <= create_median else "**not met**",
            len(errors),
        ),
        "",
    ]
    report(lines, args.output)
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
