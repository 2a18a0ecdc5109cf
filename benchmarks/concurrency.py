#!/usr/bin/env python3
"""Many salespersons submit the same customer at the same instant, over RPC.

    .venv/bin/python benchmarks/concurrency.py --db DB --clients 50

Against a database that has opportunity_registration installed, this script:

1. starts two Odoo servers on free ports of 127.0.0.1 against that database:
   one with ``--workers=4`` (prefork) and one threaded, both with
   ``--max-cron-threads=0``;
2. creates, over XML-RPC as admin, a new customer company and N salespersons
   (group *Sales / User: Own Documents Only*), each owning one opportunity of
   that customer, complete enough to be submitted;
3. starts N client processes, each logged in as its own salesperson and
   talking to one of the two servers (alternately), releases them together
   with a barrier, and lets each call ``action_registration_submit`` on its
   opportunity;
4. checks: exactly one active registration (submitted or approved) for that
   customer; every other call refused with a clear Odoo ``UserError`` /
   ``ValidationError`` (XML-RPC fault code 2) whose message names the owner;
   no HTTP error, no application error (fault code 1: a traceback), no
   timeout; every opportunity still there;
5. stops its servers (only the processes it started), prints a summary and
   exits with 0 when every check passed, 1 otherwise.

Everything is bounded in time (``--timeout``). ``--results FILE`` appends the
summary to a Markdown file (``benchmarks/RESULTS.md`` in ``make bench``).
"""

import argparse
import collections
import dataclasses
import datetime
import multiprocessing
import os
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import HOST, Server, free_port, say
from rpc import Admin, HttpError, JsonRpc, RpcError, XmlRpc

CLIENT_PASSWORD = "bench-Concurrency-1"


def prepare(admin, clients, run_id, amount):
    """A customer company, N salespersons and one opportunity each."""
    salesman = admin.ref("sales_team.group_sale_salesman")
    customer_name = "Concurrency %s Technologies Co., Ltd." % run_id
    partner_id = admin("res.partner", "create", {"name": customer_name, "is_company": True})
    user_ids = admin(
        "res.users",
        "create",
        [
            {
                "name": "Conc Rep %s-%02d" % (run_id, i),
                "login": "conc-%s-%02d@bench.example.com" % (run_id, i),
                "password": CLIENT_PASSWORD,
                "group_ids": [(6, 0, [salesman])],
            }
            for i in range(clients)
        ],
        context={"no_reset_password": True},
    )
    # the reps' sales team: a registration is submitted in a team its owner belongs to
    admin(
        "crm.team",
        "create",
        {"name": "Concurrency %s" % run_id, "member_ids": [(6, 0, user_ids)]},
    )
    deadline = (datetime.date.today() + datetime.timedelta(days=60)).isoformat()
    lead_ids = admin(
        "crm.lead",
        "create",
        [
            {
                "name": "Concurrency deal %s-%02d" % (run_id, i),
                "type": "opportunity",
                "partner_id": partner_id,
                "partner_name": customer_name,
                "user_id": user_id,
                "email_from": "buyer%02d@concurrency-%s.example.com" % (i, run_id),
                "phone": "+86 139 %04d %04d" % (i, int(run_id[:4], 16) % 10000),
                "expected_revenue": amount,
                "date_deadline": deadline,
                "need_description": "Same customer, submitted by %d reps at once" % clients,
                "key_person_identified": True,
                "key_person_name": "Buyer",
            }
            for i, user_id in enumerate(user_ids)
        ],
    )
    users = admin("res.users", "read", user_ids, ["login", "name"])
    return partner_id, customer_name, users, lead_ids


@dataclasses.dataclass
class Job:
    """One client process's part in a race: who calls what, on which server."""

    index: int
    url: str
    login: str
    lead_id: int
    method: str = "action_registration_submit"
    args: list | None = None

    def __post_init__(self):
        if self.args is None:
            self.args = [[self.lead_id]]


def race(servers, users, lead_ids, args, calls=None):
    """Release one client process per user at once, alternating servers; their outcomes."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(len(users))
    results = ctx.Queue()
    processes = []
    for i, (user, lead_id) in enumerate(zip(users, lead_ids, strict=True)):
        job = Job(i, servers[i % len(servers)].url(""), user["login"], lead_id)
        if calls:
            job.method, job.args = calls[i]
        process = ctx.Process(target=client, args=(job, args, barrier, results))
        process.start()
        processes.append(process)
    outcomes = []
    end = time.monotonic() + args.timeout + 30
    while len(outcomes) < len(users) and time.monotonic() < end:
        try:
            outcomes.append(results.get(timeout=max(0.1, end - time.monotonic())))
        except Exception:
            break
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
    return outcomes


def prepare_rekey(admin, users, run_id):
    """Each salesperson holds an approved registration of a customer of their own."""
    deadline = (datetime.date.today() + datetime.timedelta(days=60)).isoformat()
    lead_ids = admin(
        "crm.lead",
        "create",
        [
            {
                "name": "Re-key deal %s-%02d" % (run_id, i),
                "type": "opportunity",
                "partner_name": "Rekey %s Customer %02d Ltd" % (run_id, i),
                "user_id": user["id"],
                "email_from": "buyer@rekey-%s-%02d.example.com" % (run_id, i),
                "phone": "+86 138 %04d %04d" % (i, int(run_id[:4], 16) % 10000),
                "expected_revenue": 5000,  # small band: approved automatically
                "date_deadline": deadline,
                "need_description": "A customer of its own, then all change to one e-mail domain",
            }
            for i, user in enumerate(users)
        ],
    )
    admin("crm.lead", "action_registration_submit", lead_ids)
    return lead_ids


def client(job, args, barrier, results):
    """One salesperson: log in, wait for the others, then make the call (submit
    by default) over ``--protocol``: JSON-RPC with a web session, as the form's
    button calls it, or XML-RPC with the password on every call."""
    outcome = {"index": job.index, "login": job.login, "lead_id": job.lead_id, "url": job.url}
    try:
        rpc = (JsonRpc if args.protocol == "jsonrpc" else XmlRpc)(job.url, args.db, args.timeout)
        rpc.login(job.login, CLIENT_PASSWORD)
        if rpc.protocol == "jsonrpc":
            # warm the session and the worker before the race
            rpc.call("crm.lead", "read", [job.lead_id], ["name"])
        barrier.wait(timeout=args.timeout)
        outcome["released"] = time.time()
        start = time.perf_counter()
        try:
            rpc.call("crm.lead", job.method, *job.args)
            outcome["kind"] = "ok"
        except RpcError as error:
            outcome["kind"] = error.kind
            outcome["code"] = error.name
            outcome["message"] = error.message
            if error.kind == "application_error":
                outcome["message"] = "%s: %s" % (error.name, error.message)
        except HttpError as error:
            outcome["kind"] = "http_error"
            outcome["message"] = str(error)
        outcome["seconds"] = time.perf_counter() - start
    except Exception as error:
        outcome["kind"] = "client_error"
        outcome["message"] = "%s: %s" % (type(error).__name__, error)
    results.put(outcome)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4, help="workers of the first server")
    parser.add_argument(
        "--amount",
        type=float,
        default=12000.0,
        help="expected revenue (12,000: small band, approved at once)",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for each phase")
    parser.add_argument(
        "--protocol",
        choices=["jsonrpc", "xmlrpc"],
        default="jsonrpc",
        help="jsonrpc: web session and /web/dataset/call_kw, as the form's button "
        "(default); xmlrpc: /xmlrpc/2/object with the password on every call",
    )
    parser.add_argument("--results", help="append the summary to this Markdown file")
    args = parser.parse_args()
    if args.clients < 2:
        parser.error("at least 2 clients")
    run_id = uuid.uuid4().hex[:8]
    logdir = tempfile.mkdtemp(prefix="opreg-concurrency-")
    servers = []
    failures = []
    summary = []
    try:
        say("starting two Odoo servers on %s (logs in %s)" % (HOST, logdir))
        servers.append(
            Server(args.db, free_port(), args.workers, logdir, "workers%d" % args.workers)
        )
        servers.append(Server(args.db, free_port(), 0, logdir, "threaded"))
        deadline = time.monotonic() + args.timeout
        for server in servers:
            server.wait_ready(deadline)
        admin = Admin(servers[0], args.db)
        say(
            "preparing %d salespersons and opportunities of one customer (run %s)"
            % (args.clients, run_id)
        )
        partner_id, customer_name, users, lead_ids = prepare(
            admin, args.clients, run_id, args.amount
        )

        say(
            "%d clients released together against %s"
            % (args.clients, ", ".join("%s:%d" % (s.label, s.port) for s in servers))
        )
        outcomes = race(servers, users, lead_ids, args)
        if len(outcomes) < args.clients:
            failures.append(
                "%d clients did not answer within %d s"
                % (args.clients - len(outcomes), args.timeout + 30)
            )

        # --- checks -------------------------------------------------------
        kinds = collections.Counter(o["kind"] for o in outcomes)
        regs = admin(
            "crm.lead.registration",
            "search_read",
            [("lead_id", "in", lead_ids), ("state", "in", ["submitted", "approved"])],
            fields=["name", "state", "user_id", "lead_id", "protection_end_date", "customer_key"],
        )
        present = admin(
            "crm.lead", "search_count", [("id", "in", lead_ids)], context={"active_test": False}
        )
        winners = [o for o in outcomes if o["kind"] == "ok"]
        owner = regs[0]["user_id"][1] if len(regs) == 1 else None
        if len(regs) != 1:
            failures.append(
                "%d active registrations for the customer (expected exactly 1): %s"
                % (len(regs), [(r["name"], r["user_id"][1]) for r in regs])
            )
        if len(winners) != 1:
            failures.append("%d successful submissions (expected exactly 1)" % len(winners))
        if present != args.clients:
            failures.append("%d of %d opportunities left" % (present, args.clients))
        unexpected = [o for o in outcomes if o["kind"] not in ("ok", "user_error")]
        for o in unexpected:
            failures.append(
                "client %d (%s via %s): %s: %s"
                % (o["index"], o["login"], o["url"], o["kind"], (o.get("message") or "")[-600:])
            )
        refusals = [o for o in outcomes if o["kind"] == "user_error"]
        unclear = [o for o in refusals if owner and owner not in o.get("message", "")]
        for o in unclear[:5]:
            failures.append(
                "refusal without the owner's name (%s): %s" % (owner, o["message"][:300])
            )
        if len(unclear) > 5:
            failures.append("... %d refusals in all do not name the owner" % len(unclear))
        messages = collections.Counter(
            (o.get("message") or "").replace(owner or "\0", "<owner>").splitlines()[0][:160]
            if o.get("message")
            else ""
            for o in refusals
        )
        logged = admin(
            "crm.lead.registration.event",
            "search_count",
            [
                ("event", "=", "conflict_refused"),
                ("registration_id", "in", [r["id"] for r in regs]),
            ],
        )
        if logged != len(refusals):
            failures.append(
                "%d refusals but %d conflict_refused events in the lock history"
                % (len(refusals), logged)
            )

        # Arbitration in one transaction: the manager gives the customer to a
        # challenger, which releases the holder and submits the challenger's
        # opportunity; the committed holder must not block that submission.
        arbitration = "not run"
        if len(regs) == 1 and refusals:
            challenger = next(lead_id for lead_id in lead_ids if lead_id != regs[0]["lead_id"][0])
            wizard = admin(
                "crm.lead.registration.arbitration",
                "create",
                {
                    "lead_id": challenger,
                    "decision": "give_to_challenger",
                    "reason": "Concurrency harness: the challenger has the customer's signed NDA",
                },
                context={"active_id": challenger},
            )
            try:
                admin("crm.lead.registration.arbitration", "action_confirm", [wizard])
                after = admin(
                    "crm.lead.registration",
                    "search_read",
                    [("lead_id", "in", lead_ids), ("state", "in", ["submitted", "approved"])],
                    fields=["lead_id", "state"],
                )
                arbitration = "customer given to the challenger: %s" % [
                    (r["lead_id"][0], r["state"]) for r in after
                ]
                if [r["lead_id"][0] for r in after] != [challenger]:
                    failures.append(
                        "after arbitration, active registrations %s (expected only lead %d)"
                        % (after, challenger)
                    )
            except RpcError as error:
                arbitration = "refused"
                failures.append(
                    "arbitration giving the customer to lead %d failed: %s"
                    % (challenger, error.message.strip().splitlines()[-1][:300])
                )
        # Re-keying races too: every salesperson holds a customer of their own,
        # then all change their opportunity's e-mail to one new company domain
        # at once. The same serialized check decides: exactly one keeps it.
        rekey_leads = prepare_rekey(admin, users, run_id)
        domain = "rekey-target-%s.example.com" % run_id
        rekey = race(
            servers,
            users,
            rekey_leads,
            args,
            calls=[
                ("write", [[lead_id], {"email_from": "boss%02d@%s" % (i, domain)}])
                for i, lead_id in enumerate(rekey_leads)
            ],
        )
        rekey_kinds = collections.Counter(o["kind"] for o in rekey)
        rekey_holders = admin(
            "crm.lead.registration",
            "search_count",
            [("domain_key", "=", domain), ("state", "in", ["submitted", "approved"])],
        )
        if rekey_kinds.get("ok") != 1 or rekey_holders != 1:
            failures.append(
                "re-key race: %s, %d registrations hold %s (expected 1 and 1)"
                % (dict(rekey_kinds), rekey_holders, domain)
            )
        for o in rekey:
            if o["kind"] not in ("ok", "user_error"):
                failures.append(
                    "re-key client %d: %s: %s"
                    % (o["index"], o["kind"], (o.get("message") or "")[-600:])
                )
        durations = sorted(o["seconds"] for o in outcomes if "seconds" in o)
        released = [o["released"] for o in outcomes if "released" in o]
        server_errors = {s.label: s.errors() for s in servers}
        for label, lines in server_errors.items():
            if lines:
                failures.append("%d errors in the log of server %s" % (len(lines), label))

        summary = (
            [
                "clients: %d (%s), customer %r"
                % (
                    args.clients,
                    ", ".join(
                        "%d on %s" % (sum(1 for o in outcomes if o["url"] == s.url("")), s.label)
                        for s in servers
                    ),
                    customer_name,
                ),
                "outcomes: %s" % dict(kinds),
                "active registrations for the customer: %d %s"
                % (
                    len(regs),
                    [
                        (r["name"], r["state"], r["user_id"][1], r["protection_end_date"])
                        for r in regs
                    ],
                ),
                "opportunities still there: %d of %d" % (present, args.clients),
                "refusals in the lock history: %d of %d" % (logged, len(refusals)),
                "arbitration over RPC (release + submit in one transaction): %s" % arbitration,
                "re-key race (all change their e-mail to one domain at once): %s, %d holder(s)"
                % (dict(rekey_kinds), rekey_holders),
                "protocol: %s; calls released within %.0f ms of each other"
                % (args.protocol, 1000 * (max(released) - min(released)) if released else 0),
                "call durations: min %.2f s, median %.2f s, max %.2f s"
                % (durations[0], durations[len(durations) // 2], durations[-1])
                if durations
                else "no durations",
                "refusal messages (owner replaced by <owner>):",
            ]
            + ["  %3d x %s" % (n, m) for m, n in messages.most_common(5)]
            + [
                "server log errors: %s"
                % {label: len(lines) for label, lines in server_errors.items()},
            ]
        )
        for label, lines in server_errors.items():
            summary += ["  %s: %s" % (label, line[:300]) for line in lines[:5]]
    except Exception as error:
        failures.append("harness error: %s: %s" % (type(error).__name__, error))
    finally:
        for server in servers:
            server.stop()
    verdict = "PASS" if not failures else "FAIL"
    print(
        "\n".join(
            ["", "=== concurrency: %s ===" % verdict]
            + summary
            + (["failures:"] + ["  - " + f for f in failures] if failures else [])
        )
    )
    if args.results:
        with open(args.results, "a") as results_file:
            results_file.write(
                "\n".join(
                    [
                        "",
                        "## Concurrency (`benchmarks/concurrency.py --clients %d --protocol %s`): %s"
                        % (args.clients, args.protocol, verdict),
                        "",
                        "Two Odoo servers on one database (one with `--workers=%d`, one threaded), %d client "
                        "processes released by a barrier, each submitting its own opportunity of the same new "
                        "customer over %s as its own salesperson. %s"
                        % (
                            args.workers,
                            args.clients,
                            args.protocol.upper(),
                            datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                        ),
                        "",
                        "```",
                    ]
                    + summary
                    + (["failures:"] + ["  - " + f for f in failures] if failures else [])
                    + ["```", ""]
                )
            )
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
