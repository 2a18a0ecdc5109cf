#!/usr/bin/env python3
"""A working day on two Odoo servers under faults: nothing may be lost.

    .venv/bin/python benchmarks/soak.py --db DB --minutes 10 \\
        --pg-port 5433 --pg-restart "pg_ctlcluster 15 soak restart"

Against a database that has opportunity_registration installed, this script:

1. starts two Odoo servers on 127.0.0.1 (free ports, or ``--http-ports`` /
   ``--gevent-ports``, by default from ``SOAK_HTTP_PORTS`` /
   ``SOAK_GEVENT_PORTS``, e.g. ``8097,8098``): one with
   ``--workers=4`` that also runs the scheduled actions
   (``--max-cron-threads=1``; ``--cron-on threaded`` moves them to the other),
   one threaded; ``--pg-host`` / ``--pg-port`` point both (and this script's
   own checks) at the PostgreSQL cluster holding ``--db``;
2. prepares, over XML-RPC as admin, a sales team with its three approvers
   (team leader, deputy manager, branch manager), a registration manager and
   ``--reps`` salespersons, each rep already holding a few customers, a
   channel manager and ``--portals`` portal users of two partner companies; the
   expiry, warning and escalation jobs are set to run every minute, and every
   minute the clock moves for a few registrations (a lock whose protection
   ended, a review waiting for days) so that the jobs have work;
3. runs one client process per user over JSON-RPC (web sessions, as the
   browser calls the server) for ``--minutes``, seeded: reps create and submit
   opportunities (a share for customers someone already holds, typed in the
   different ways a customer can be entered), change amounts and customers,
   log follow-ups, withdraw, release, claim from the public pool, win and
   lose; approvers approve and reject; the manager arbitrates and transfers;
   the channel manager reviews the partners' deals first; portal users log in
   over HTTP (a web session, the CSRF token of the form) and register deals on
   ``/my/registrations/new`` (a share for customers someone holds), open their
   list and their deals: a refusal must be the form again with its errors or a
   4xx answer, never a server error, and never tell who holds the customer;
4. injects faults, each at a random moment: SIGKILL of a worker of the
   prefork server in the middle of a request, a full restart of one server,
   ``pg_terminate_backend`` of every server connection, and, with
   ``--pg-restart``, a restart of PostgreSQL itself. Clients retry what failed
   as a real client does (re-send; creations are found by their unique name
   first, a partner's deal by its unique contact in the partner's own list,
   so a retried request never duplicates; a transition refused after
   an unanswered attempt counts as done when its outcome is there);
5. samples the invariants in SQL every second in one snapshot (never two
   active registrations for one customer key and scope; every registration's
   state explained by its lock history and mirrored on its opportunity; no
   approval by someone outside the registration's approvers), and at the end
   checks the client-side ledger against the database (every opportunity
   created is there, once; every deal a partner was told was registered is
   there, once; every acknowledged transition is in the lock history), every
   refusal is a ``UserError`` (on the portal: the form with its errors or a
   4xx), neither server logged a
   traceback but the injected faults' connection errors, the scheduled jobs
   still run after the last fault, and each server answered again within
   ``--recovery-limit`` seconds of its fault;
6. stops its servers (only the processes it started), prints the report
   (``--results FILE`` appends it to a Markdown file) and exits with 0 when
   every check passed, 1 otherwise.
"""

import argparse
import collections
import contextlib
import datetime
import getpass
import html
import json
import multiprocessing
import os
import random
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (
    ADMIN_LOGIN,
    ADMIN_PASSWORD,
    CONF,
    Admin,
    JsonRpc,
    RpcError,
    Server,
    free_port,
    report,
    say,
)

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
# What the server answers while a fault is on: the request is re-sent.
TRANSIENT = re.compile(
    r"psycopg2|OperationalError|InterfaceError|AdminShutdown|terminating connection|"
    r"server closed the connection|connection (?:to server|already closed|refused)|"
    r"could not connect|database system is (?:shutting down|starting up|in recovery)|"
    r"SerializationFailure|could not serialize|deadlock|PoolError|"
    r"Connection ?(?:Refused|Reset|Aborted)|RemoteDisconnected|Read ?timed out|Max retries",
    re.IGNORECASE,
)
BANDS = [(0.55, 3000, 19000), (0.25, 20000, 49000), (0.12, 50000, 190000), (0.08, 200000, 900000)]
# The portal's pages, read as a browser would.
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PORTAL_ERRORS = re.compile(
    r'class="alert alert-danger o_registration_errors"[^>]*>(.*?)</div>\s*</div>', re.S
)
PORTAL_LINK = re.compile(r'href="/my/registrations/(\d+)"')
PORTAL_CREATED = re.compile(r"/my/registrations/(\d+)\?submitted=1")
TAGS = re.compile(r"<[^>]+>")


class ServerFault(Exception):
    """An answer that is no answer: a 5xx, or the session lost."""


def utc(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).replace(tzinfo=None)


def amount(rng):
    roll = rng.random()
    for share, low, high in BANDS:
        if roll < share:
            return float(rng.randrange(low, high, 500))
        roll -= share
    return 10000.0


# ---------------------------------------------------------------------------
# PostgreSQL: the harness's own connection (never terminated by its faults)
# ---------------------------------------------------------------------------


class Pg:
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


# ---------------------------------------------------------------------------
# Invariants, in one snapshot
# ---------------------------------------------------------------------------

KEY_PAIRS = [
    ("customer_key", "customer_key"),
    ("vat_key", "vat_key"),
    ("domain_key", "domain_key"),
    ("phone_key", "phone_key"),
    ("name_key", "customer_key"),
    ("customer_key", "name_key"),
]
# Which states a lock-history event leaves a registration in.
EVENT_STATES = {
    "granted": {"approved"},
    "amount_changed": {"submitted", "approved"},
    "rejected": {"rejected"},
    "withdrawn": {"withdrawn"},
    "expired": {"expired"},
    "released": {"released"},
    "lost": {"released"},
    "won": {"approved", "won"},
}


# Registrations as they were when the run began (the copy's own table, dropped
# at the end): generated data has no lock history and some of its dates lie in
# the future, so the run judges what it changed, from where it started.
SNAPSHOT = "soak_initial_state"
TOUCHED = (
    "r.write_date >= %(since)s AND NOT EXISTS (SELECT 1 FROM soak_initial_state i"
    " WHERE i.id = r.id AND i.write_date = r.write_date)"
)


def take_snapshot(pg):
    """Keep every registration's state; the lock history's last event id; the moment (UTC)."""
    with pg.cursor() as cr:
        cr.execute(
            "DROP TABLE IF EXISTS soak_initial_state;"
            " CREATE UNLOGGED TABLE soak_initial_state"
            " (id int PRIMARY KEY, state varchar, write_date timestamp);"
            " INSERT INTO soak_initial_state SELECT id, state, write_date FROM crm_lead_registration;"
            " SELECT now() at time zone 'UTC', COALESCE(max(id), 0)"
            " FROM crm_lead_registration_event"
        )
        since, event = cr.fetchone()
    return {"since": since, "event": event}


def check_invariants(cr, start):
    """Violations among the registrations the run wrote: a list of strings."""
    violations = []
    scope = (
        "o.company_id = t.company_id"
        " AND (o.product_line_id IS NULL OR t.product_line_id IS NULL"
        "      OR o.product_line_id = t.product_line_id)"
        " AND (o.scope_team_id IS NULL OR t.scope_team_id IS NULL"
        "      OR o.scope_team_id = t.scope_team_id)"
    )
    union = " UNION ".join(
        "SELECT t.id, o.id, '%s' FROM touched t JOIN crm_lead_registration o"
        " ON o.%s = t.%s AND o.id <> t.id AND o.state IN ('submitted', 'approved') AND %s"
        % (left, right, left, scope)
        for left, right in KEY_PAIRS
    )
    cr.execute(
        "WITH touched AS (SELECT * FROM crm_lead_registration r"
        " WHERE state IN ('submitted', 'approved') AND " + TOUCHED + ") " + union,
        start,
    )
    for reg, other, key in cr.fetchall():
        violations.append("two active registrations %d and %d share %s" % (reg, other, key))
    cr.execute(
        """
        SELECT r.id, r.state, l.registration_state, l.registration_id, s.state,
               array_remove(array_agg(e.event ORDER BY e.id), NULL)
          FROM crm_lead_registration r
          JOIN crm_lead l ON l.id = r.lead_id
          LEFT JOIN soak_initial_state s ON s.id = r.id
          LEFT JOIN crm_lead_registration_event e
                 ON e.registration_id = r.id AND (s.id IS NULL OR e.id > %(event)s)
         WHERE """
        + TOUCHED
        + """
         GROUP BY r.id, l.id, s.state
        """,
        start,
    )
    for reg, state, mirrored, current, initial, events in cr.fetchall():
        possible = {initial or "submitted"}
        for event in events:
            possible = EVENT_STATES.get(event, possible)
        if state not in possible:
            violations.append(
                "registration %d is %s but its lock history says %s (%s)"
                % (reg, state, "/".join(sorted(possible)), ",".join(events))
            )
        if current == reg and mirrored != state:
            violations.append(
                "registration %d is %s but its opportunity shows %s" % (reg, state, mirrored)
            )
    cr.execute(
        """
        SELECT r.id, r.approved_by_id, r.user_id, r.approved_band
          FROM crm_lead_registration r
         WHERE r.date_approved >= %(since)s AND r.state = 'approved'
           AND (r.approved_by_id IN (r.user_id, r.submitted_by_id)
                OR (r.approved_by_id IS NULL AND r.approved_band <> 'small')
                OR (r.approved_by_id IS NOT NULL
                    AND EXISTS (SELECT 1 FROM tier_review v
                                 WHERE v.model = 'crm.lead.registration' AND v.res_id = r.id)
                    AND NOT EXISTS (SELECT 1 FROM tier_review v
                         JOIN res_users_tier_review_rel rv ON rv.tier_review_id = v.id
                        WHERE v.model = 'crm.lead.registration' AND v.res_id = r.id
                          AND v.status = 'approved' AND v.done_by = r.approved_by_id
                          AND rv.res_users_id = r.approved_by_id))
                OR (r.approved_by_id IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM tier_review v
                                     WHERE v.model = 'crm.lead.registration' AND v.res_id = r.id)
                    AND r.approved_by_id NOT IN (SELECT g.uid FROM res_groups_users_rel g
                         JOIN ir_model_data d ON d.res_id = g.gid AND d.model = 'res.groups'
                          AND d.module = 'opportunity_registration'
                          AND d.name IN ('group_registration_approver',
                                         'group_registration_manager'))))
        """,
        start,
    )
    for reg, approver, owner, band in cr.fetchall():
        violations.append(
            "registration %d (%s band, owner %s) approved by user %s, not one of its approvers"
            % (reg, band, owner, approver)
        )
    return violations


def monitor(args, start, stop, output):
    """Sample the invariants every second until ``stop``; one JSON line per sample."""
    pg = Pg(args)
    with open(output, "a") as out:
        while not stop.is_set():
            started = time.time()
            sample = {"t": started}
            try:
                with pg.cursor() as cr:
                    sample["violations"] = check_invariants(cr, start)
            except Exception as error:
                sample["missed"] = "%s: %s" % (type(error).__name__, str(error).strip()[:200])
            sample["ms"] = 1000 * (time.time() - started)
            out.write(json.dumps(sample) + "\n")
            out.flush()
            stop.wait(max(0.05, 1.0 - (time.time() - started)))


# ---------------------------------------------------------------------------
# Preparation
# ---------------------------------------------------------------------------


def variants(name):
    """The ways a rep types a customer someone already holds."""
    upper = name.upper()
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)
    bare = re.sub(r"\s*(Co\.,? Ltd\.?|Inc\.?|GmbH|有限公司|股份有限公司)$", "", name)
    return [upper, fullwidth, bare + " Co Ltd", "  %s  " % name.lower(), bare + " Inc."]


def prepare(admin, servers, args, run, rng):
    """Users, a team, held customers; the crons every minute."""
    ref = admin.ref
    salesman = ref("sales_team.group_sale_salesman")
    all_leads = ref("sales_team.group_sale_salesman_all_leads")
    sale_manager = ref("sales_team.group_sale_manager")
    reg_user = ref("opportunity_registration.group_registration_user")
    reg_approver = ref("opportunity_registration.group_registration_approver")
    reg_manager = ref("opportunity_registration.group_registration_manager")
    portal = ref("base.group_portal")
    roles = (
        [("rep", [salesman, reg_user])] * args.reps
        + [
            ("leader", [all_leads, reg_user, reg_approver]),
            ("deputy", [all_leads, reg_user, reg_approver]),
            ("branch", [all_leads, reg_user, reg_approver]),
            ("manager", [sale_manager, reg_user, reg_manager]),
            ("channel", [salesman, reg_user]),
        ]
        + [("portal", [portal])] * args.portals
    )
    user_ids = admin(
        "res.users",
        "create",
        [
            {
                "name": "Soak %s %s %02d" % (run, role, i),
                "login": "soak-%s-%s-%02d@soak.example.com" % (run, role, i),
                "email": "soak-%s-%s-%02d@soak.example.com" % (run, role, i),
                "group_ids": [(6, 0, groups)],
            }
            | ({"password": PASSWORD} if i == 0 else {})
            for i, (role, groups) in enumerate(roles)
        ],
        context={"no_reset_password": True},
    )
    # one password hash (about a second of CPU each) for all of them
    Pg(args).run(
        "UPDATE res_users SET password = (SELECT password FROM res_users WHERE id = %s)"
        " WHERE id = ANY(%s)",
        [user_ids[0], user_ids[1:]],
    )
    users = [
        {"role": role, "id": uid, "login": "soak-%s-%s-%02d@soak.example.com" % (run, role, i)}
        for i, ((role, _groups), uid) in enumerate(zip(roles, user_ids, strict=True))
    ]
    by_role = {u["role"]: u["id"] for u in users}
    reps = [u["id"] for u in users if u["role"] == "rep"]
    team = admin(
        "crm.team",
        "create",
        {
            "name": "Soak %s" % run,
            "use_opportunities": True,
            "user_id": by_role["leader"],
            "deputy_manager_id": by_role["deputy"],
            "branch_manager_id": by_role["branch"],
            "channel_manager_id": by_role["channel"],
            "crm_team_member_ids": [(0, 0, {"user_id": uid}) for uid in reps],
        },
    )
    # two partner companies of the team's channel, each portal user in one of them
    resellers = admin(
        "res.partner",
        "create",
        [
            {
                "name": "Soak %s Reseller %s Ltd" % (run, letter),
                "is_company": True,
                "registration_team_id": team,
            }
            for letter in "AB"
        ],
    )
    portal_users = [u for u in users if u["role"] == "portal"]
    if portal_users:
        rows = admin("res.users", "read", [u["id"] for u in portal_users], ["partner_id"])
        for i, row in enumerate(rows):
            reseller = resellers[i % len(resellers)]
            admin("res.partner", "write", [row["partner_id"][0]], {"parent_id": reseller})
            portal_users[i]["reseller"] = reseller
    # customers every rep already holds: small amounts, approved at once
    held, leads = [], []
    for uid in reps:
        for k in range(args.held):
            name = "Soak %s Held %d-%d Technology Co., Ltd." % (run, uid, k)
            domain = "held-%s-%d-%d.example.com" % (run, uid, k)
            phone = "+86 21 %04d %04d" % (uid % 10000, rng.randrange(10000))
            held.append({"name": name, "domain": domain, "phone": phone, "user": uid})
            leads.append(
                lead_values(run, "held-%d-%d" % (uid, k), name, domain, phone, 8000.0)
                | {"user_id": uid, "team_id": team}
            )
    partners = admin(
        "res.partner",
        "create",
        [{"name": h["name"], "is_company": True, "email": "info@" + h["domain"]} for h in held],
    )
    for h, values, partner in zip(held, leads, partners, strict=True):
        h["partner"] = values["partner_id"] = partner
    # submitted by the administrator (a registration manager) for their owners
    admin("crm.lead", "action_registration_submit", admin("crm.lead", "create", leads))
    # customers the database already protects (the bench data), typed by our reps
    with contextlib.suppress(Exception):
        for name, domain in Pg(args).run(
            "SELECT customer_name, domain_key FROM crm_lead_registration"
            " WHERE state = 'approved' AND customer_name IS NOT NULL"
            " ORDER BY id LIMIT %s",
            [args.held * args.reps],
        ):
            held.append({"name": name, "domain": domain, "phone": None, "partner": None})
    return users, team, held


def schedule_jobs(pg):
    """The module's sweeps every minute; stock lead enrichment (a paid external
    service) off. Before the servers start, so that their cron thread obeys."""
    pg.run(
        "UPDATE ir_cron SET active = false WHERE id IN (SELECT res_id FROM ir_model_data"
        " WHERE module = 'crm_iap_enrich' AND model = 'ir.cron')"
    )
    pg.run(
        "UPDATE ir_cron SET active = true, interval_number = 1, interval_type = 'minutes',"
        " nextcall = now() at time zone 'UTC' WHERE id IN (SELECT res_id FROM ir_model_data"
        " WHERE module = 'opportunity_registration' AND name = ANY(%s))",
        [list(CRONS)],
    )


def lead_values(run, marker, name, domain, phone, value):
    """A complete opportunity; without a company domain, a free-mail contact (never a key)."""
    return {
        "name": "Soak %s %s" % (run, marker),
        "type": "opportunity",
        "partner_name": name,
        "email_from": "buyer@%s" % domain if domain else "buyer.%s.%s@qq.com" % (run, marker),
        "phone": phone or False,
        "expected_revenue": value,
        "date_deadline": (datetime.date.today() + datetime.timedelta(days=45)).isoformat(),
        "need_description": "Soak: a need described by the rep",
        "key_person_identified": True,
        "key_person_name": "Buyer",
    }


def age_registrations(pg, run):
    """Time passes: a few locks end, a few reviews wait for days (the jobs' work)."""
    pg.run(
        """
        UPDATE crm_lead_registration SET protection_end_date = current_date - 1
         WHERE id IN (SELECT r.id FROM crm_lead_registration r JOIN crm_lead l ON l.id = r.lead_id
                       WHERE r.state = 'approved' AND l.name LIKE %(run)s ORDER BY random() LIMIT 2);
        UPDATE crm_lead_registration SET protection_end_date = current_date + 3
         WHERE id IN (SELECT r.id FROM crm_lead_registration r JOIN crm_lead l ON l.id = r.lead_id
                       WHERE r.state = 'approved' AND NOT r.expiry_warned AND l.name LIKE %(run)s
                       ORDER BY random() LIMIT 2);
        UPDATE crm_lead_registration
           SET date_review_requested = date_review_requested - interval '5 days'
         WHERE id IN (SELECT r.id FROM crm_lead_registration r JOIN crm_lead l ON l.id = r.lead_id
                       WHERE r.state = 'submitted' AND l.name LIKE %(run)s
                       ORDER BY random() LIMIT 2);
        """,
        {"run": "Soak %s %%" % run},
    )


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------


class GiveUp(Exception):
    pass


class Unanswered(Exception):
    """An attempt that got no answer: it is sent again."""


class Client:
    """One user's session: requests timed and logged, re-sent as a real client does."""

    def __init__(self, user, server, args, run, index, logdir):
        self.user = user
        self.uid = user["id"]
        self.server = server
        self.args = args
        self.run = run
        self.rng = random.Random("%s-%d" % (args.seed, index))
        self.log = open(os.path.join(logdir, "client-%02d.jsonl" % index), "a")
        self.counter = 0
        self.rpc = None
        self.csrf = None  # the portal form's token, valid for the session
        self.seen = []  # the partner's registrations last listed
        self.end = time.time() + args.retry_limit

    def record(self, kind, start, outcome, error=None):
        entry = {
            "t": start,
            "end": time.time(),
            "kind": kind,
            "role": self.user["role"],
            "server": self.server[0],
            "outcome": outcome,
        }
        if error:
            entry["error"] = error[:600]
        self.log.write(json.dumps(entry) + "\n")
        self.log.flush()

    def ledger(self, **entry):
        self.record("ledger", time.time(), "ledger", json.dumps(entry))

    def connect(self):
        self.rpc = JsonRpc(self.server[1], self.args.db, self.args.timeout)
        self.csrf = None
        self.rpc.login(self.user["login"], PASSWORD)

    def resend(self, kind, attempt, done, gave_effect=None):
        """Send ``attempt(unanswered)`` until it answers, as a real client
        would: again after each attempt that raises ``Unanswered``, backing
        off up to 3 s, giving up at the deadline (at the end of the run, soon).
        An unanswered attempt that took effect meanwhile (``done()``) ends it,
        with ``gave_effect``."""
        deadline = time.monotonic() + min(self.args.retry_limit, self.end + 30 - time.time())
        unanswered = False
        delay = 0.3
        while True:
            try:
                return attempt(unanswered)
            except Unanswered:
                pass
            unanswered = True
            if time.monotonic() > deadline:
                self.record(kind, time.time(), "gave_up")
                raise GiveUp(kind)
            time.sleep(delay)
            delay = min(delay * 2, 3.0)
            if done and self.check(done):
                self.record(kind, time.time(), "ok_retried")
                return gave_effect

    def call(self, kind, model, method, *args, done=None, **kwargs):
        """One request, re-sent until answered; ``done()`` tells whether an
        unanswered attempt already took effect (then a refusal is the
        idempotent outcome)."""

        def attempt(unanswered):
            start = time.time()
            try:
                if self.rpc is None:
                    self.connect()
                result = self.rpc.call(model, method, *args, **kwargs)
                self.record(kind, start, "ok_retried" if unanswered else "ok")
                return result
            except RpcError as error:
                if error.kind != "application_error":
                    if unanswered and done and self.check(done):
                        self.record(kind, start, "ok_retried")
                        return None
                    self.record(kind, start, "refused", "%s: %s" % (error.name, error.message))
                    raise
                text = "%s: %s" % (error.name, error.message)
                if "SessionExpired" in (error.name or ""):
                    self.rpc = None
                elif not TRANSIENT.search(text):
                    self.record(kind, start, "application_error", text)
                    raise GiveUp(text) from error
                self.record(kind, start, "transient", text)
            except Exception as error:  # the connection: refused, reset, timed out
                self.record(kind, start, "transient", "%s: %s" % (type(error).__name__, error))
                if isinstance(error, RuntimeError):  # login refused while the DB restarts
                    self.rpc = None
            raise Unanswered

        return self.resend(kind, attempt, done)

    def check(self, done):
        try:
            return bool(done())
        except Exception:
            return False

    def act(self, kind, model, method, *args, done=None, **kwargs):
        """A user action: a refusal is an answer, not a failure."""
        try:
            return True, self.call(kind, model, method, *args, done=done, **kwargs)
        except RpcError:
            return False, None

    # reading ------------------------------------------------------------

    def my_leads(self, states):
        return self.call(
            "read_pipeline",
            "crm.lead",
            "search_read",
            [
                ("user_id", "=", self.uid),
                ("registration_state", "in", list(states)),
                ("name", "like", "Soak %s " % self.run),
            ],
            fields=["id", "registration_state", "expected_revenue", "registration_id"],
            limit=40,
            order="id desc",
        )

    def lead_state(self, lead_id):
        # a search, not a read: a pool opportunity is not readable before it is claimed
        rows = self.rpc.call(
            "crm.lead", "search_read", [("id", "=", lead_id)], ["registration_state", "user_id"]
        )
        return rows[0]["registration_state"] if rows else None

    # rep ----------------------------------------------------------------

    def create_lead(self, values):
        """Create, idempotently: an unanswered creation is looked up by its unique name."""
        name = values["name"]

        def found():
            ids = self.rpc.call("crm.lead", "search", [("name", "=", name)])
            return ids and ids[0]

        ok, lead_id = self.act("create", "crm.lead", "create", values, done=found)
        if not ok:  # refused, e.g. another contact for an account someone holds
            return None
        lead_id = lead_id or found()
        if not lead_id:
            raise GiveUp("created %s but cannot find it" % name)
        self.ledger(created=lead_id, name=name)
        return lead_id

    def submit(self, lead_id, kind="submit"):
        started = time.time()

        def done():
            return self.lead_state(lead_id) in ACTIVE

        ok, _result = self.act(kind, "crm.lead", "action_registration_submit", [lead_id], done=done)
        if ok:
            self.ledger(ack="submit", lead=lead_id, uid=self.uid, t=started)
        return ok

    def new_customer(self):
        self.counter += 1
        marker = "%d-%d" % (self.uid, self.counter)
        domain = "c%s-%s.example.com" % (self.run, marker)
        phone = "+86 755 %04d %04d" % (self.uid % 10000, self.counter)
        name = "Soak %s Customer %s Co., Ltd." % (self.run, marker)
        values = lead_values(self.run, marker, name, domain, phone, amount(self.rng))
        lead_id = self.create_lead(values)
        if lead_id:
            self.submit(lead_id, "create_submit")

    def held_customer(self):
        """A customer someone holds, typed another way: the server decides who owns it."""
        held = self.rng.choice(self.args.held_customers)
        self.counter += 1
        marker = "%d-%d" % (self.uid, self.counter)
        way = self.rng.choice(["name", "name", "domain", "phone", "partner", "contact"])
        values = lead_values(self.run, marker, None, None, None, amount(self.rng))
        if way == "name":
            values["partner_name"] = self.rng.choice(variants(held["name"]))
        elif way == "domain" and held["domain"]:
            values["partner_name"] = "Soak %s Other %s" % (self.run, marker)
            values["email_from"] = "someone.else@%s" % held["domain"]
        elif way == "phone" and held["phone"]:
            values["partner_name"] = "Soak %s Another %s" % (self.run, marker)
            values["phone"] = held["phone"].replace(" ", "")
        elif way == "partner" and held["partner"]:
            values["partner_id"] = held["partner"]
            values.pop("partner_name")
        else:
            # the company typed into the Contact field: a person record with its name
            ok, person = self.act(
                "create_contact", "res.partner", "create", {"name": held["name"].upper()}
            )
            if not ok:
                return
            values["partner_id"] = person
            values.pop("partner_name")
        lead_id = self.create_lead(values)
        if lead_id:
            self.submit(lead_id, "submit_held_customer")

    def change_amount(self):
        leads = self.my_leads(("draft", "submitted", "approved"))
        if leads:
            lead = self.rng.choice(leads)
            self.act(
                "change_amount",
                "crm.lead",
                "write",
                [lead["id"]],
                {"expected_revenue": amount(self.rng)},
            )

    def change_customer(self):
        leads = self.my_leads(("draft", "submitted", "approved"))
        if leads:
            lead = self.rng.choice(leads)
            self.counter += 1
            self.act(
                "change_customer",
                "crm.lead",
                "write",
                [lead["id"]],
                {
                    "partner_name": "Soak %s Renamed %d-%d Ltd"
                    % (self.run, self.uid, self.counter),
                    "email_from": "boss@r%s-%d-%d.example.com" % (self.run, self.uid, self.counter),
                },
            )

    def follow_up(self):
        leads = self.my_leads(("approved",))
        if leads:
            lead = self.rng.choice(leads)
            self.act(
                "follow_up",
                "crm.lead",
                "message_post",
                [lead["id"]],
                body="Soak: called the buyer, next meeting planned",
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )

    def transition(self, kind, states, method, event, after, **kwargs):
        leads = self.my_leads(states)
        if not leads:
            return
        lead = self.rng.choice(leads)
        started = time.time()
        ok, _result = self.act(
            kind,
            "crm.lead",
            method,
            [lead["id"]],
            done=lambda: self.lead_state(lead["id"]) in after,
            **kwargs,
        )
        if ok and event:
            self.ledger(ack=event, lead=lead["id"], uid=self.uid, t=started)

    def claim(self):
        # the pool shows customers; an entry's id is its opportunity's
        pool = self.call(
            "read_pool",
            "crm.lead.pool",
            "search_read",
            [
                ("customer_name", "like", "Soak %s " % self.run),
                ("previous_user_id", "!=", self.uid),
            ],
            fields=["id"],
            limit=20,
        )
        if pool:
            lead_id = self.rng.choice(pool)["id"]
            started = time.time()
            ok, _result = self.act(
                "claim",
                "crm.lead",
                "action_registration_claim",
                [lead_id],
                done=lambda: self.lead_state(lead_id) in ACTIVE,
            )
            if ok:
                self.ledger(ack="submit", lead=lead_id, uid=self.uid, t=started)

    def rep_step(self):
        roll = self.rng.random()
        if roll < 0.24:
            self.new_customer()
        elif roll < 0.36:
            self.held_customer()
        elif roll < 0.48:
            self.change_amount()
        elif roll < 0.53:
            self.change_customer()
        elif roll < 0.66:
            self.follow_up()
        elif roll < 0.72:
            self.transition(
                "withdraw",
                ("submitted",),
                "action_registration_withdraw",
                "withdrawn",
                ("withdrawn",),
                reason="Soak: the customer postponed",
            )
        elif roll < 0.76:
            self.transition(
                "release",
                ("approved",),
                "action_registration_release",
                "released",
                ("released",),
                reason="Soak: not a fit",
            )
        elif roll < 0.82:
            self.claim()
        elif roll < 0.88:
            self.transition(
                "resubmit",
                ("draft", "rejected", "withdrawn", "expired", "released"),
                "action_registration_submit",
                "submit",
                ACTIVE,
            )
        elif roll < 0.90:
            self.transition("win", ("approved",), "action_set_won", None, ("won", "approved"))
        elif roll < 0.92:
            self.transition("lose", ("approved", "submitted"), "action_set_lost", None, POOL)
        else:
            self.my_leads(("draft", "submitted", "approved"))

    # approver -------------------------------------------------------------

    def approver_step(self):
        regs = self.call(
            "read_queue",
            "crm.lead.registration",
            "search_read",
            [("state", "=", "submitted"), ("approver_ids", "in", [self.uid])],
            fields=["id", "lead_id", "submitted_by_id", "date_channel_reviewed"],
            limit=20,
        )
        if not regs:
            return
        reg = self.rng.choice(regs)
        # a partner's deal first passes its channel review, then its band's
        channel = (
            reg["submitted_by_id"]
            and reg["submitted_by_id"][0] in self.args.portal_ids
            and not reg["date_channel_reviewed"]
        )

        def decided(state):
            rows = self.rpc.call(
                "crm.lead.registration", "read", [reg["id"]], ["state", "date_channel_reviewed"]
            )
            if state == "channel_reviewed":
                return rows and bool(rows[0]["date_channel_reviewed"])
            return rows and rows[0]["state"] == state

        started = time.time()
        if self.rng.random() < 0.8:
            kind, event = "approve", "granted"
            if channel:
                kind, event = "channel_review", "channel_reviewed"
            if self.rng.random() < 0.5:
                model, method, ids = "crm.lead.registration", "action_approve", [reg["id"]]
            else:
                model, method, ids = "crm.lead", "action_registration_approve", [reg["lead_id"][0]]
            ok, _r = self.act(
                kind,
                model,
                method,
                ids,
                done=lambda: decided("approved" if event == "granted" else event),
            )
        else:
            kind, event = "reject", "rejected"
            ok, _r = self.act(
                kind,
                "crm.lead.registration",
                "action_reject",
                [reg["id"]],
                done=lambda: decided("rejected"),
                reason="Soak: budget not confirmed",
            )
        if ok:
            self.ledger(ack=event, registration=reg["id"], uid=self.uid, t=started)

    # manager --------------------------------------------------------------

    def manager_step(self):
        since = utc(time.time() - 300).strftime("%Y-%m-%d %H:%M:%S")
        refused = self.call(
            "read_conflicts",
            "crm.lead.registration.event",
            "search_read",
            [("event", "=", "conflict_refused"), ("date", ">=", since)],
            fields=["user_id"],
            limit=30,
        )
        challengers = self.call(
            "read_conflicts",
            "crm.lead",
            "search_read",
            [
                ("user_id", "in", list({r["user_id"][0] for r in refused if r["user_id"]})),
                ("registration_state", "=", "draft"),
                ("name", "like", "Soak %s " % self.run),
            ],
            fields=["id", "user_id"],
            limit=20,
        )
        roll = self.rng.random()
        if challengers and roll < 0.6:
            lead = self.rng.choice(challengers)
            decision = self.rng.choice(["keep", "give_to_challenger", "transfer_user", "extend"])
            values = {
                "lead_id": lead["id"],
                "decision": decision,
                "reason": "Soak arbitration: %s" % decision,
            }
            if decision == "transfer_user":
                values["new_user_id"] = self.rng.choice(self.args.rep_ids)
            if decision == "extend":
                values["extension_end_date"] = (
                    datetime.date.today() + datetime.timedelta(days=200)
                ).isoformat()
            ok, wizard = self.act(
                "arbitrate",
                "crm.lead.registration.arbitration",
                "create",
                values,
                context={"active_id": lead["id"]},
            )
            if ok and wizard:
                self.act(
                    "arbitrate", "crm.lead.registration.arbitration", "action_confirm", [wizard]
                )
        else:
            regs = self.call(
                "read_registrations",
                "crm.lead.registration",
                "search_read",
                [("state", "=", "approved"), ("lead_id.name", "like", "Soak %s " % self.run)],
                fields=["id", "user_id"],
                limit=20,
            )
            if regs:
                reg = self.rng.choice(regs)
                self.act(
                    "transfer",
                    "crm.lead.registration",
                    "action_transfer",
                    [reg["id"]],
                    user=self.rng.choice(self.args.rep_ids),
                    reason="Soak: territory change",
                )

    # portal partner --------------------------------------------------------

    def http(self, method, path, data=None):
        """One request of the browser: no redirect followed, so that a lost
        session (sent to the login page) and a registration's number show."""
        response = self.rpc.session.request(
            method,
            self.server[1] + path,
            data=data,
            timeout=self.args.timeout,
            allow_redirects=False,
        )
        location = response.headers.get("Location", "")
        if response.is_redirect and "/web/login" in location:
            self.rpc = self.csrf = None
            raise ServerFault("session lost: sent to %s" % location[:100])
        if response.status_code == 404 and "No database is selected" in response.text:
            raise ServerFault("HTTP 404: the server answered without its database")
        if response.status_code >= 500:
            raise ServerFault(
                "HTTP %d: %s"
                % (response.status_code, " ".join(TAGS.sub(" ", response.text).split())[:300])
            )
        return response

    def page(self, kind, path, form=None, done=None):
        """A portal page (GET, or POST of ``form`` with the session's CSRF
        token), re-sent until answered like ``call``. Returns the response and
        the errors the page lists (a refusal), or ``(None, None)`` when an
        unanswered attempt turned out to have taken effect (``done``)."""

        def attempt(unanswered):
            start = time.time()
            try:
                if self.rpc is None:
                    self.connect()
                data = None
                if form is not None:
                    if self.csrf is None:
                        self.portal_form()
                    data = dict(form, csrf_token=self.csrf)
                    start = time.time()
                response = self.http("POST" if form is not None else "GET", path, data)
                if response.status_code == 400 and "CSRF" in response.text:
                    self.csrf = None  # a new session, a new token
                    raise ServerFault("HTTP 400: invalid CSRF token")
                errors = None
                if response.status_code >= 400:
                    errors = "HTTP %d" % response.status_code
                elif match := PORTAL_ERRORS.search(response.text):
                    errors = " ".join(html.unescape(TAGS.sub(" ", match.group(1))).split())
                if errors and unanswered and done and self.check(done):
                    self.record(kind, start, "ok_retried")
                    return None, None
                if errors:
                    # a partner never learns who holds the customer
                    leaked = re.search(
                        r"Soak %s (?:rep|leader|deputy|branch|manager|channel) \d\d" % self.run,
                        errors,
                    )
                    outcome = "application_error" if leaked else "refused"
                    self.record(kind, start, outcome, ("leaks a user: " if leaked else "") + errors)
                else:
                    self.record(kind, start, "ok_retried" if unanswered else "ok")
                return response, errors
            except GiveUp:
                raise
            except Exception as error:  # 5xx, the session lost, the connection
                self.record(kind, start, "transient", "%s: %s" % (type(error).__name__, error))
                if isinstance(error, RuntimeError):  # login refused while the DB restarts
                    self.rpc = self.csrf = None
            raise Unanswered

        return self.resend(kind, attempt, done, gave_effect=(None, None))

    def portal_form(self):
        response, _errors = self.page("portal_form", "/my/registrations/new")
        match = CSRF.search(response.text)
        if not match:
            raise GiveUp("no CSRF token on the registration form")
        self.csrf = match.group(1)

    def portal_find(self, company, contact):
        """The partner's registration of one attempt, found as the partner would:
        searched in their list, recognised by its contact on its page."""
        response = self.http("GET", "/my/registrations?" + urlencode({"search": company[:100]}))
        for reg_id in dict.fromkeys(PORTAL_LINK.findall(response.text)):
            detail = self.http("GET", "/my/registrations/%s" % reg_id)
            if contact in detail.text:
                return int(reg_id)
        return None

    def portal_register(self, kind, company, email, phone):
        """A deal registered on the portal form; its contact names the attempt."""
        self.counter += 1
        contact = "Soak %s contact %d-%d" % (self.run, self.uid, self.counter)
        form = {
            "company_name": company,
            "vat": "",
            "contact_name": contact,
            "email": email or "",
            "phone": phone or "",
            "need": "Soak: a need the partner describes",
            "budget": "%d" % amount(self.rng),
            "date_deadline": (datetime.date.today() + datetime.timedelta(days=60)).isoformat(),
            "key_person": "Buyer",
            "notes": "",
        }
        self.portal_form()
        started = time.time()
        found = []

        def done():
            found[:] = [self.portal_find(company.strip(), contact)]
            return found[0]

        response, errors = self.page(kind, "/my/registrations/new", form=form, done=done)
        if errors:
            return None
        if response is None:
            reg_id = found and found[0]
        else:
            match = PORTAL_CREATED.search(response.headers.get("Location", ""))
            reg_id = match and int(match.group(1))
        if not reg_id:
            raise GiveUp("registered %s but no registration to show" % company)
        self.ledger(portal=reg_id, uid=self.uid, contact=contact, t=started)
        return reg_id

    def portal_new_customer(self):
        marker = "%d-%d" % (self.uid, self.counter + 1)
        self.portal_register(
            "portal_register",
            "Soak %s Portal %s Co., Ltd." % (self.run, marker),
            "buyer@p%s-%s.example.com" % (self.run, marker),
            "+86 757 %04d %04d" % (self.uid % 10000, self.counter + 1),
        )

    def portal_held_customer(self):
        """A customer someone already holds, typed by a partner: refused, saying
        only until when, unless its lock ended meanwhile."""
        held = self.rng.choice(self.args.held_customers)
        marker = "%d-%d" % (self.uid, self.counter + 1)
        other = "Soak %s Partner %s Co., Ltd." % (self.run, marker)
        way = self.rng.choice(["name", "name", "domain", "phone"])
        if way == "domain" and held["domain"]:
            company, email, phone = other, "someone.else@%s" % held["domain"], None
        elif way == "phone" and held["phone"]:
            company, email, phone = other, None, held["phone"].replace(" ", "")
        else:  # the name only: a free-mail contact is never a customer key
            company = self.rng.choice(variants(held["name"]))
            email, phone = "buyer.%s.%s@qq.com" % (self.run, marker), None
        self.portal_register("portal_register_held_customer", company, email, phone)

    def portal_list(self):
        query = {
            "filterby": self.rng.choice(["all", "all", "submitted", "approved", "rejected"]),
            "sortby": self.rng.choice(["date", "name", "protection"]),
        }
        path = "/my/registrations" + ("/page/2" if self.rng.random() < 0.1 else "")
        response, errors = self.page("portal_list", path + "?" + urlencode(query))
        if response is not None and not errors:
            self.seen = PORTAL_LINK.findall(response.text) or self.seen

    def portal_detail(self):
        if not self.seen:
            return self.portal_list()
        self.page("portal_detail", "/my/registrations/%s" % self.rng.choice(self.seen))

    def portal_step(self):
        roll = self.rng.random()
        if roll < 0.35:
            self.portal_new_customer()
        elif roll < 0.55:
            self.portal_held_customer()
        elif roll < 0.85:
            self.portal_list()
        else:
            self.portal_detail()

    def loop(self, deadline):
        self.end = deadline
        step = {
            "rep": self.rep_step,
            "manager": self.manager_step,
            "portal": self.portal_step,
        }.get(self.user["role"], self.approver_step)
        while time.time() < deadline:
            try:
                step()
            except GiveUp:
                pass
            except Exception as error:
                self.record(
                    "client", time.time(), "client_error", "%s: %s" % (type(error).__name__, error)
                )
            time.sleep(self.rng.uniform(*self.args.think))


def client_main(user, server, args, run, index, logdir, deadline):
    Client(user, server, args, run, index, logdir).loop(deadline)


# ---------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------


class Faults:
    """Inject each fault once at a random moment and time each server's recovery."""

    def __init__(self, args, servers, pg, rng):
        self.args = args
        self.servers = servers
        self.pg = pg
        self.rng = rng
        self.done = []

    def plan(self, start, duration):
        kinds = list(self.args.faults)
        self.rng.shuffle(kinds)
        slots = len(kinds)
        window = (0.15 * duration, 0.8 * duration)
        width = (window[1] - window[0]) / max(1, slots)
        return [
            (start + window[0] + i * width + self.rng.uniform(0, width * 0.5), kind)
            for i, kind in enumerate(kinds)
        ]

    def run(self, start, duration, stop):
        for at, kind in self.plan(start, duration):
            if stop.wait(max(0, at - time.time())):
                return
            try:
                fault = getattr(self, kind)()
            except Exception as error:
                fault = {"kind": kind, "error": "%s: %s" % (type(error).__name__, error)}
                say("fault %s could not be injected: %s" % (kind, fault["error"]))
            fault.setdefault("kind", kind)
            fault.setdefault("at", time.time())
            self.recover(fault)
            self.done.append(fault)

    def recover(self, fault):
        """Seconds until each affected server answers a database request again,
        the servers watched side by side. A server whose process exited (Odoo's
        prefork master gives up when PostgreSQL refuses its periodic registry
        check) is started again, as its service manager would, and said so."""
        fault["recovery"] = {}
        waiting = list(fault.get("servers", []))
        deadline = time.monotonic() + self.args.recovery_limit + 30
        while waiting and time.monotonic() < deadline:
            for server in list(waiting):
                if server.process.poll() is not None:
                    code = server.process.returncode
                    say(
                        "server %s exited (code %s) after %s: started again"
                        % (server.label, code, fault["kind"])
                    )
                    fault.setdefault("exited", []).append("%s (exit %s)" % (server.label, code))
                    server.start()
                    continue
                with contextlib.suppress(Exception):
                    rpc = JsonRpc(server.url(""), self.args.db, 5)
                    rpc.login(ADMIN_LOGIN, ADMIN_PASSWORD)
                    rpc.call("crm.lead.registration", "search_count", [])
                    fault["recovery"][server.label] = time.time() - fault["at"]
                    waiting.remove(server)
            time.sleep(0.25)
        for server in waiting:
            fault["recovery"][server.label] = None
        fault["end"] = time.time()
        say(
            "fault %s (%s): recovered %s"
            % (fault["kind"], fault.get("target", ""), fault["recovery"])
        )

    def kill_worker(self):
        """SIGKILL one worker of the prefork server in the middle of a request
        (its transaction open) when one is caught within a few seconds."""
        server = self.servers[0]
        workers = [pid for pid in server.children() if b"\0gevent\0" not in read_cmdline(pid)]
        if not workers:
            raise RuntimeError("no worker to kill")
        busy = []
        deadline = time.monotonic() + 5
        with self.pg.cursor() as cr:
            while not busy and time.monotonic() < deadline:
                cr.execute(
                    "SELECT client_port FROM pg_stat_activity WHERE datname = %s"
                    " AND state IN ('active', 'idle in transaction')",
                    [self.args.db],
                )
                ports = {port for (port,) in cr.fetchall()}
                cr.connection.rollback()
                busy = [pid for pid in workers if local_ports(pid) & ports]
                if not busy:
                    time.sleep(0.02)
        pid = self.rng.choice(busy or workers)
        at = time.time()
        os.kill(pid, signal.SIGKILL)
        state = "in the middle of a request" if busy else "idle"
        say("fault: SIGKILL worker %d of %s (%s)" % (pid, server.label, state))
        return {
            "at": at,
            "servers": [server],
            "target": "worker %d of %s, %s" % (pid, server.label, state),
        }

    def restart_server(self):
        server = self.rng.choice(self.servers)
        at = time.time()
        say("fault: restarting server %s" % server.label)
        server.stop()
        stopped = time.time() - at
        server.start()
        return {
            "at": at,
            "servers": [server],
            "target": "server %s (stopped in %.1f s, then started)" % (server.label, stopped),
        }

    def terminate_connections(self):
        at = time.time()
        rows = self.pg.run(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid() AND application_name <> %s",
            [self.args.db, MONITOR_APP],
        )
        say("fault: pg_terminate_backend on %d connections" % len(rows))
        return {"at": at, "servers": list(self.servers), "target": "%d connections" % len(rows)}

    def restart_postgresql(self):
        at = time.time()
        say("fault: %s" % self.args.pg_restart)
        subprocess.run(shlex.split(self.args.pg_restart), check=True, timeout=120)
        return {"at": at, "servers": list(self.servers), "target": self.args.pg_restart}


def local_ports(pid):
    """Local TCP ports of a process's sockets (its connections to PostgreSQL among them)."""
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            with contextlib.suppress(OSError):
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
        ports = set()
        for table in ("tcp", "tcp6"):
            with open("/proc/%d/net/%s" % (pid, table)) as handle:
                for line in handle.readlines()[1:]:
                    fields = line.split()
                    if fields[9] in inodes:
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        return ports
    except OSError:
        return set()


def read_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def clock(args, pg, run, stop):
    """Every minute: a few registrations age (see age_registrations), and the
    module's jobs are due and the servers' cron thread woken (the NOTIFY Odoo
    itself sends when a job is triggered), so that they run every minute."""
    import psycopg2

    pause = 5  # the first tick soon: a server's cron worker first sleeps a minute
    while not stop.wait(pause):
        pause = 60
        with contextlib.suppress(Exception):
            age_registrations(pg, run)
            pg.run(
                "UPDATE ir_cron SET nextcall = now() at time zone 'UTC' WHERE id IN"
                " (SELECT res_id FROM ir_model_data WHERE module = 'opportunity_registration'"
                " AND name = ANY(%s))",
                [list(CRONS)],
            )
            connection = psycopg2.connect(**dict(pg.params, dbname="postgres"))
            try:
                with connection.cursor() as cr:
                    cr.execute("SELECT pg_notify('cron_trigger', %s)", [args.db])
                connection.commit()
            finally:
                connection.close()


# ---------------------------------------------------------------------------
# Checks at the end and the report
# ---------------------------------------------------------------------------


def percentile(values, share):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(share * (len(values) - 1))))]


def load_records(logdir):
    records = []
    for name in sorted(os.listdir(logdir)):
        if name.startswith("client-"):
            with open(os.path.join(logdir, name)) as handle:
                records.extend(json.loads(line) for line in handle if line.strip())
    return records


def in_window(ts, faults, margin):
    return any(f["at"] - 1 <= ts <= f["end"] + margin for f in faults)


def check_ledger(pg, records, run):
    """Every opportunity created is there once; every acknowledged transition is logged."""
    failures = []
    entries = [json.loads(r["error"]) for r in records if r["kind"] == "ledger"]
    created = {e["created"]: e["name"] for e in entries if "created" in e}
    with pg.cursor() as cr:
        cr.execute("SELECT id FROM crm_lead WHERE id = ANY(%s)", [list(created)])
        present = {row[0] for row in cr.fetchall()}
        # a partner's deal is named after the customer typed: its contact names the attempt
        cr.execute(
            "SELECT name, count(*) FROM crm_lead WHERE name LIKE %s AND channel_partner_id IS NULL"
            " GROUP BY name HAVING count(*) > 1",
            ["Soak %s %%" % run],
        )
        duplicates = cr.fetchall()
        cr.execute(
            "SELECT contact_name, count(*) FROM crm_lead WHERE contact_name LIKE %s"
            " GROUP BY contact_name HAVING count(*) > 1",
            ["Soak %s contact %%" % run],
        )
        duplicates += cr.fetchall()
        portal = [e for e in entries if "portal" in e]
        lost_portal = []
        for e in portal:
            cr.execute(
                "SELECT 1 FROM crm_lead_registration r JOIN crm_lead l ON l.id = r.lead_id"
                " WHERE r.id = %s AND r.submitted_by_id = %s AND l.contact_name = %s",
                [e["portal"], e["uid"], e["contact"]],
            )
            if not cr.fetchone():
                lost_portal.append(e)
        cr.execute("SELECT count(*) FROM crm_lead WHERE name LIKE %s", ["Soak %s %%" % run])
        (in_db,) = cr.fetchone()
        lost_acks = []
        for e in entries:
            if "ack" not in e:
                continue
            since = utc(e["t"] - 5)
            if e["ack"] == "submit":
                cr.execute(
                    "SELECT 1 FROM crm_lead_registration WHERE lead_id = %s"
                    " AND submitted_by_id = %s AND date_submitted >= %s",
                    [e["lead"], e["uid"], since],
                )
            elif e["ack"] == "channel_reviewed":
                # or, the channel manager having passed it meanwhile, the
                # approver's decision on its band
                cr.execute(
                    "SELECT 1 FROM crm_lead_registration WHERE id = %(reg)s"
                    " AND channel_reviewed_by_id = %(uid)s AND date_channel_reviewed >= %(since)s"
                    " UNION ALL SELECT 1 FROM crm_lead_registration_event"
                    " WHERE registration_id = %(reg)s AND event = 'granted' AND user_id = %(uid)s"
                    " AND date >= %(since)s",
                    {"reg": e["registration"], "uid": e["uid"], "since": since},
                )
            elif "registration" in e:
                cr.execute(
                    "SELECT 1 FROM crm_lead_registration_event WHERE registration_id = %s"
                    " AND event = %s AND user_id = %s AND date >= %s",
                    [e["registration"], e["ack"], e["uid"], since],
                )
            else:
                cr.execute(
                    "SELECT 1 FROM crm_lead_registration_event WHERE lead_id = %s"
                    " AND event = %s AND user_id = %s AND date >= %s",
                    [e["lead"], e["ack"], e["uid"], since],
                )
            if not cr.fetchone():
                lost_acks.append(e)
    lost = sorted(set(created) - present)
    if lost:
        failures.append("%d opportunities created but missing: %s" % (len(lost), lost[:10]))
    if lost_portal:
        failures.append(
            "%d deals registered on the portal but missing: %s"
            % (len(lost_portal), lost_portal[:5])
        )
    if duplicates:
        failures.append("%d opportunities created twice: %s" % (len(duplicates), duplicates[:5]))
    if lost_acks:
        failures.append(
            "%d acknowledged transitions not in the database: %s" % (len(lost_acks), lost_acks[:5])
        )
    acks = collections.Counter(e["ack"] for e in entries if "ack" in e)
    summary = (
        "%d opportunities created (all %d present, %d with the run's names in the database), "
        "%d deals registered on the portal (%d present), "
        "%d duplicates; acknowledged transitions found: %s of %d (%s)"
        % (
            len(created),
            len(present),
            in_db,
            len(portal),
            len(portal) - len(lost_portal),
            len(duplicates),
            sum(acks.values()) - len(lost_acks),
            sum(acks.values()),
            dict(acks),
        )
    )
    return summary, failures


def analyse_logs(servers, faults, margin):
    """Server log errors: the injected faults' connection errors, statements
    PostgreSQL refused (Odoo logs each before retrying or answering it as a
    ``ValidationError``), or unexplained (tracebacks and the rest)."""
    explained, refused, unexplained = collections.Counter(), collections.Counter(), []
    for server in servers:
        for record in server.log_records():
            head = record.splitlines()[0]
            if " ERROR " not in head and " CRITICAL " not in head:
                continue
            try:
                ts = (
                    datetime.datetime.strptime(head[:19], "%Y-%m-%d %H:%M:%S")
                    .replace(tzinfo=datetime.UTC)
                    .timestamp()
                )
            except ValueError:
                ts = 0
            if TRANSIENT.search(record) and in_window(ts, faults, margin):
                explained[server.label] += 1
            elif " timed out" in head and any(f["at"] <= ts for f in faults):
                # Odoo's record of a job run a fault interrupted (it ran again next time)
                explained[server.label] += 1
            elif " odoo.sql_db: bad query: " in head and "Traceback" not in record:
                error = re.search(r"^ERROR: +(.*)$", record, re.MULTILINE)
                detail = error.group(1) if error else head
                table = re.search(r'(?:INSERT INTO|UPDATE|FROM) "?(\w+)"?', record)
                refused["%s (%s)" % (detail[:90], table.group(1) if table else "?")] += 1
            elif (
                "ir_cron: Job '" in head
                and "Job 'Opportunity Registration" not in head
                and "SerializationFailure" in record
            ):
                # a stock job (e.g. the mail queue) that met a concurrent update:
                # Odoo runs it again at its next run; the module's own jobs must not
                job = re.search(r"Job '([^']+)'", head).group(1)
                refused["stock job %s, run again by Odoo: serialization failure" % job] += 1
            else:
                unexplained.append("%s: %s" % (server.label, record[:1500]))
        try:
            with open(server.log + ".stderr", errors="replace") as handle:
                stderr = handle.read()
        except OSError:
            stderr = ""
        # "Exception in thread X:" heads its traceback; a bare traceback stands alone
        for chunk in re.split(r"\n(?=Exception in thread|(?<!:\n)Traceback)", "\n" + stderr)[1:]:
            unexplained.append("%s (stderr): %s" % (server.label, chunk.strip()[-1500:]))
    return explained, refused, unexplained


def build_report(args, records, samples, faults, start, end, extra):
    requests = [r for r in records if r["kind"] not in ("ledger", "client")]
    first = min((f["at"] for f in faults), default=end)

    def phase(r):
        if r["t"] < first:
            return "before"
        return "during" if in_window(r["t"], faults, 10) else "after"

    lines = []
    kinds = collections.defaultdict(list)
    for r in requests:
        kinds[r["kind"]].append(r)
    answered = [r for r in requests if r["outcome"] in ("ok", "ok_retried", "refused")]
    seconds = end - start
    spans = collections.Counter()
    for second in range(int(start), int(end)):
        spans[
            "before" if second < first else "during" if in_window(second, faults, 10) else "after"
        ] += 1
    answered_by = collections.Counter(
        phase(r) for r in requests if r["outcome"] in ("ok", "ok_retried", "refused")
    )
    lines += [
        "throughput (answered requests per second): "
        + ", ".join(
            "%s %.1f"
            % (name if name != "during" else "during faults", answered_by[name] / spans[name])
            for name in ("before", "during", "after")
            if spans[name]
        ),
    ]
    lines += [
        "duration %.0f s, %d requests (%d answered: %.1f/s), %d client processes, %d faults"
        % (
            seconds,
            len(requests),
            len(answered),
            len(answered) / seconds,
            extra["clients"],
            len(faults),
        ),
        "",
        "| request | sent | ok | refused (UserError) | re-sent | p50/p95/p99 ms before | during faults | after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind in sorted(kinds, key=lambda k: -len(kinds[k])):
        rows = kinds[kind]
        outcomes = collections.Counter(r["outcome"] for r in rows)
        cells = []
        for name in ("before", "during", "after"):
            ms = [
                1000 * (r["end"] - r["t"])
                for r in rows
                if r["outcome"] in ("ok", "refused") and phase(r) == name
            ]
            cells.append(
                "/".join("%.0f" % percentile(ms, q) for q in (0.5, 0.95, 0.99)) if ms else "-"
            )
        lines.append(
            "| %s | %d | %d | %d | %d | %s |"
            % (
                kind,
                len(rows),
                outcomes["ok"] + outcomes["ok_retried"],
                outcomes["refused"],
                outcomes["transient"],
                " | ".join(cells),
            )
        )
    errors = collections.Counter()
    for r in requests:
        if r["outcome"] not in ("ok", "ok_retried"):
            name = (r.get("error") or "").split(":")[0][:60]
            errors[(r["outcome"], name)] += 1
    lines += ["", "errors by kind:"]
    lines += ["  %5d x %s %s" % (n, outcome, name) for (outcome, name), n in errors.most_common(12)]
    lines += ["", "| fault | at (s) | target | recovery (s) |", "|---|---|---|---|"]
    for f in faults:
        lines.append(
            "| %s | %.0f | %s | %s |"
            % (
                f["kind"],
                f["at"] - start,
                (f.get("target") or f.get("error"))
                + (
                    "; exited, started again: %s" % ", ".join(f["exited"])
                    if f.get("exited")
                    else ""
                ),
                ", ".join(
                    "%s %s" % (label, "%.1f" % s if s is not None else "NO ANSWER")
                    for label, s in f.get("recovery", {}).items()
                ),
            )
        )
    taken = [s for s in samples if "violations" in s]
    violations = [v for s in taken for v in s["violations"]]
    lines += [
        "",
        "invariant samples: %d taken (one snapshot each, %.0f ms median), %d missed while "
        "PostgreSQL was unreachable, %d violations"
        % (
            len(taken),
            percentile([s["ms"] for s in taken], 0.5) or 0,
            len(samples) - len(taken),
            len(violations),
        ),
    ]
    lines += ["  " + v for v in sorted(set(violations))[:10]]
    lines += extra["lines"]
    return lines, violations


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
    args = parser.parse_args()
    args.think = (0.2, 1.2)
    args.faults = [f for f in args.faults.split(",") if f]
    if "restart_postgresql" in args.faults and not args.pg_restart:
        args.faults.remove("restart_postgresql")
        say("no --pg-restart command: PostgreSQL will not be restarted")
    ports = {}
    for name in ("http_ports", "gevent_ports"):
        try:
            ports[name] = [int(p) for p in getattr(args, name).split(",") if p.strip()]
        except ValueError:
            parser.error("--%s: two port numbers, e.g. 8097,8098" % name.replace("_", "-"))
        if len(ports[name]) not in (0, 2):
            parser.error("--%s: two port numbers, e.g. 8097,8098" % name.replace("_", "-"))
        ports[name] = ports[name] or [None, None]
    unknown = set(args.faults) - set(FAULTS)
    if unknown:
        parser.error("unknown faults: %s" % ", ".join(sorted(unknown)))
    run = uuid.uuid4().hex[:6]
    rng = random.Random(args.seed)
    logdir = tempfile.mkdtemp(prefix="opreg-soak-")
    pg = Pg(args)
    servers, failures, lines = [], [], []
    stop = threading.Event()
    try:
        say(
            "starting two Odoo servers against %s on %s:%d (logs in %s)"
            % (args.db, args.pg_host, args.pg_port, logdir)
        )
        schedule_jobs(pg)
        common = {"db_host": args.pg_host, "db_port": args.pg_port}
        prefork_cron = int(args.cron_on == "workers")
        servers.append(
            Server(
                args.db,
                ports["http_ports"][0] or free_port(),
                args.workers,
                logdir,
                "workers%d%s" % (args.workers, "+cron" if prefork_cron else ""),
                cron_threads=prefork_cron,
                gevent_port=ports["gevent_ports"][0],
                **common,
            )
        )
        servers.append(
            Server(
                args.db,
                ports["http_ports"][1] or free_port(),
                0,
                logdir,
                "threaded" + ("" if prefork_cron else "+cron"),
                cron_threads=1 - prefork_cron,
                gevent_port=ports["gevent_ports"][1],
                **common,
            )
        )
        deadline = time.monotonic() + 180
        for server in servers:
            server.wait_ready(deadline)
        admin = Admin(servers[0], args.db)
        start_state = take_snapshot(pg)
        say("preparing users, a team and held customers (run %s)" % run)
        users, _team, held = prepare(admin, servers, args, run, rng)
        args.held_customers = held
        args.rep_ids = [u["id"] for u in users if u["role"] == "rep"]
        args.portal_ids = [u["id"] for u in users if u["role"] == "portal"]
        age_registrations(pg, run)
        duration = args.minutes * 60
        start = time.time()
        end = start + duration
        samples_file = os.path.join(logdir, "samples.jsonl")
        monitor_stop = multiprocessing.Event()
        sampler = multiprocessing.Process(
            target=monitor, args=(args, start_state, monitor_stop, samples_file)
        )
        sampler.start()
        crons_before = dict(cron_calls(pg))
        ctx = multiprocessing.get_context("fork")
        processes = []
        for i, user in enumerate(users):
            server = servers[i % len(servers)]
            process = ctx.Process(
                target=client_main,
                args=(user, (server.label, server.url("")), args, run, i, logdir, end),
            )
            process.start()
            processes.append(process)
        say(
            "%d clients for %.1f minutes; faults: %s"
            % (len(users), args.minutes, ", ".join(args.faults))
        )
        faults = Faults(args, servers, pg, rng)
        injector = threading.Thread(target=faults.run, args=(start, duration, stop))
        injector.start()
        ticker = threading.Thread(target=clock, args=(args, pg, run, stop))
        ticker.start()
        for process in processes:
            process.join(timeout=max(1, end - time.time()) + args.retry_limit + 30)
            if process.is_alive():
                failures.append("client process %d did not stop" % process.pid)
                process.kill()
        stop.set()
        injector.join(timeout=args.recovery_limit + 60)
        finished = time.time()
        say("final checks")
        monitor_stop.set()
        sampler.join(timeout=30)
        final = []
        for _attempt in range(30):
            try:
                with pg.cursor() as cr:
                    final = check_invariants(cr, start_state)
                break
            except Exception:
                time.sleep(1)
        records = load_records(logdir)
        with open(samples_file) as handle:
            samples = [json.loads(line) for line in handle if line.strip()]
        ledger_summary, ledger_failures = check_ledger(pg, records, run)
        failures += ledger_failures
        crons_after = dict(cron_calls(pg))
        last_fault = max((f["end"] for f in faults.done), default=start)
        crons_late = dict(cron_calls(pg, utc(last_fault)))
        if finished - last_fault >= 150 and not any(crons_late.values()):
            failures.append(
                "no scheduled job ran in the %.0f s after the last fault" % (finished - last_fault)
            )
        explained, refused, unexplained = analyse_logs(servers, faults.done, 20)
        extra_lines = [
            "final sweep over every registration written during the run: %d violations"
            % len(final),
            "ledger: " + ledger_summary,
            "scheduled jobs run during the soak (expiry, warning, escalation): %s"
            % {name: crons_after.get(name, 0) - crons_before.get(name, 0) for name in CRONS}
            + ", after the last fault: %s" % crons_late,
            "server log: %d connection errors and interrupted jobs from the injected faults %s, %d statements "
            "refused by PostgreSQL and logged by Odoo (retried, or answered as ValidationError), "
            "%d other errors (tracebacks)"
            % (sum(explained.values()), dict(explained), sum(refused.values()), len(unexplained)),
        ]
        extra_lines += ["  %4d x %s" % (n, what) for what, n in refused.most_common(8)]
        extra_lines += ["  " + u.splitlines()[0][:300] for u in unexplained[:5]]
        lines, violations = build_report(
            args,
            records,
            samples,
            faults.done,
            start,
            finished,
            {"clients": len(users), "lines": extra_lines},
        )
        if violations or final:
            failures.append("%d invariant violations" % (len(violations) + len(final)))
            failures += ["  " + v for v in sorted(set(final))[:10]]
        bad = [
            r for r in records if r["outcome"] in ("application_error", "client_error", "gave_up")
        ]
        late = [
            r
            for r in records
            if r["outcome"] == "transient" and not in_window(r["end"], faults.done, 20)
        ]
        for r in bad[:5] + late[:5]:
            failures.append(
                "%s %s on %s: %s"
                % (r["outcome"], r["kind"], r["server"], (r.get("error") or "")[-500:])
            )
        if len(bad) + len(late) > 10:
            failures.append("... %d unexplained errors in all" % (len(bad) + len(late)))
        if unexplained:
            failures.append("%d unexplained errors in the server logs" % len(unexplained))
            failures += ["  " + u[:1200] for u in unexplained[:3]]
        for fault in faults.done:
            if fault.get("error"):
                failures.append("fault %s not injected: %s" % (fault["kind"], fault["error"]))
            for label, seconds in fault.get("recovery", {}).items():
                if seconds is None or seconds > args.recovery_limit:
                    failures.append(
                        "%s did not answer within %.0f s after %s"
                        % (label, args.recovery_limit, fault["kind"])
                    )
        missing = set(args.faults) - {f["kind"] for f in faults.done}
        if missing:
            failures.append("faults not injected: %s" % ", ".join(sorted(missing)))
    except Exception as error:
        import traceback

        traceback.print_exc()
        failures.append("harness error: %s: %s" % (type(error).__name__, error))
    finally:
        stop.set()
        for server in servers:
            server.stop()
        with contextlib.suppress(Exception):
            pg.run("DROP TABLE IF EXISTS %s" % SNAPSHOT)
    verdict = "PASS" if not failures else "FAIL"
    heading = [
        "",
        "## Soak (`benchmarks/soak.py --minutes %g`): %s" % (args.minutes, verdict),
        "",
        "Two Odoo servers (one `--workers=%d`, one threaded; the scheduled jobs every minute on "
        "the %s one) "
        "on %s (PostgreSQL %s:%d), %d reps, 3 approvers, a manager and a channel manager over "
        "JSON-RPC, %d portal users over HTTP, faults: %s. %s"
        % (
            args.workers,
            "prefork" if args.cron_on == "workers" else "threaded",
            args.label or args.db,
            args.pg_host,
            args.pg_port,
            args.reps,
            args.portals,
            ", ".join(args.faults),
            datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        ),
        "",
    ]
    body = lines + (["", "failures:"] + ["  - " + f for f in failures] if failures else [])
    report(heading + ["```"] + body + ["```", ""], args.results)
    say("soak: %s (logs in %s)" % (verdict, logdir))
    return 0 if not failures else 1


def odoo_options():
    """The [options] of the Odoo configuration the servers run with."""
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(CONF)
    return dict(parser["options"]) if parser.has_section("options") else {}


def cron_calls(pg, since=None):
    """How many times each of the module's jobs ran (one ir_cron_progress per run)."""
    return pg.run(
        "SELECT d.name, count(p.id) FROM ir_model_data d"
        " LEFT JOIN ir_cron_progress p ON p.cron_id = d.res_id AND p.create_date >= %s"
        " WHERE d.module = 'opportunity_registration' AND d.name = ANY(%s) GROUP BY d.name",
        [since or datetime.datetime(1970, 1, 1), list(CRONS)],
    )


if __name__ == "__main__":
    sys.exit(main())
