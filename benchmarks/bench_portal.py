#!/usr/bin/env python3
"""The partner's portal pages next to stock /my/home, with other partners' registrations.

    .venv/bin/python benchmarks/bench_portal.py --db DB [--others 10000] [--runs 30] [--output RESULTS.md]

Prepares, once per database (marked by a system parameter), a channel manager,
a partner company with a portal user and ``--others`` registrations of 100
other partner companies (opportunities through the ORM, registrations and
their mirror with set-based SQL, each with its own customer key), then starts
one threaded Odoo server on a free port of 127.0.0.1 and, as the portal user
with a web session, times alternately, ``--runs`` times each:

1. stock ``GET /my/home`` (the baseline the issue compares with);
2. ``GET /my/registrations`` (the partner's list, the other partners'
   registrations in the same table);
3. ``GET /my/registrations/<id>`` (detail page);
4. ``POST /my/registrations/new`` of a new customer (the whole engine:
   completeness, customer keys, serialized lock, channel review).

Medians and 95th percentiles go to RESULTS.md; the list page's median must stay
within twice /my/home's (the script exits 1 otherwise). The data stays in the
database: run it on a copy, never on a shared read-only database.
"""

import argparse
import datetime
import os
import re
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import Server, environment, free_port, report, say
from rpc import JsonRpc

PARAM = "opportunity_registration.bench_portal_prepared"
PORTAL_LOGIN = "bench_portal_partner"
PORTAL_PASSWORD = "bench-portal-partner"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def prepare(db, others):
    """The partner, its portal user and the other partners' registrations, once."""
    with environment(db) as env:
        Param = env["ir.config_parameter"]
        if Param.get_param(PARAM) == str(others):
            say("reusing the portal data set")
            return
        company = env.company
        manager = env["res.users"].search([("login", "=", "bench_channel_manager")])
        if not manager:
            manager = env["res.users"].create(
                {
                    "name": "Bench Channel Manager",
                    "login": "bench_channel_manager",
                    "group_ids": [(4, env.ref("sales_team.group_sale_salesman").id)],
                }
            )
        company.registration_channel_manager_id = manager
        # enrolled: the portal's registration pages refuse any other partner company
        partner = env["res.partner"].create(
            {"name": "Bench Reseller", "is_company": True, "is_channel_partner": True}
        )
        user = env["res.users"].search([("login", "=", PORTAL_LOGIN)])
        if not user:
            user = env["res.users"].create(
                {
                    "name": "Bench Partner User",
                    "login": PORTAL_LOGIN,
                    "password": PORTAL_PASSWORD,
                    "group_ids": [(6, 0, [env.ref("base.group_portal").id])],
                }
            )
        user.partner_id.parent_id = partner
        resellers = env["res.partner"].create(
            [{"name": "Bench Other Reseller %s" % i, "is_company": True} for i in range(100)]
        )
        say("creating %s opportunities of other partners" % others)
        leads = (
            env["crm.lead"]
            .with_context(tracking_disable=True, mail_create_nolog=True)
            .create(
                [
                    {
                        "name": "Bench portal deal %s" % i,
                        "type": "opportunity",
                        "partner_name": "Bench Portal Customer %s %s" % (i, uuid.uuid4().hex[:6]),
                        "user_id": manager.id,
                        "channel_partner_id": resellers[i % 100].id,
                        "registration_source": "partner",
                        "expected_revenue": 10000,
                    }
                    for i in range(others)
                ]
            )
        )
        env.flush_all()
        say("registering them with set-based SQL")
        env.cr.execute(
            """
            INSERT INTO crm_lead_registration
                   (name, lead_id, company_id, user_id, user_name, state, channel_partner_id,
                    customer_name, customer_key, amount, band, date_submitted, date_approved,
                    protection_end_date, submitted_by_id, create_uid, create_date,
                    write_uid, write_date)
            SELECT 'BENCH/PORTAL/' || l.id, l.id, l.company_id, l.user_id, %s, 'approved',
                   l.channel_partner_id, l.partner_name, 'bench-portal-' || l.id, 10000,
                   'small', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC',
                   CURRENT_DATE + 90, l.user_id, 1, now() AT TIME ZONE 'UTC', 1,
                   now() AT TIME ZONE 'UTC'
              FROM crm_lead l WHERE l.id = ANY(%s)
            """,
            [manager.name, leads.ids],
        )
        leads._sync_registration()
        Param.set_param(PARAM, str(others))
        env.cr.execute("ANALYZE crm_lead_registration")


def timed(client, method, path, data=None):
    start = time.perf_counter()
    response = client.http(method, path, data, follow=True)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError("%s %s: HTTP %s" % (method, path, response.status_code))
    return elapsed, response


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--others", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--output")
    args = parser.parse_args()
    prepare(args.db, args.others)
    logdir = tempfile.mkdtemp(prefix="bench-portal-")
    server = Server(args.db, free_port(), 0, logdir, "portal")
    try:
        server.wait_ready(time.monotonic() + 120)
        client = JsonRpc(server.url(""), args.db, 120)
        client.login(PORTAL_LOGIN, PORTAL_PASSWORD)
        closing = (datetime.date.today() + datetime.timedelta(days=60)).isoformat()
        timings = {"home": [], "list": [], "detail": [], "submit": []}
        for run in range(args.runs + 1):
            home, _ = timed(client, "GET", "/my/home")
            listed, page = timed(client, "GET", "/my/registrations")
            _, form = timed(client, "GET", "/my/registrations/new")
            data = {
                "csrf_token": CSRF.search(form.text).group(1),
                "company_name": "Bench Portal New Customer %s" % uuid.uuid4().hex,
                "contact_name": "Ms Bench",
                "phone": "+86 21 %08d" % (run + int(time.time()) % 10**7),
                "need": "Benchmark need",
                "budget": "10000",
                "date_deadline": closing,
            }
            submit, answer = timed(client, "POST", "/my/registrations/new", data)
            if "o_registration_submitted" not in answer.text:
                raise RuntimeError("the submission was refused: %s" % answer.text[-500:])
            detail_path = answer.url[len(server.url("")) :]
            detail, _ = timed(client, "GET", detail_path)
            if run:  # the first round warms the caches
                for key, value in (
                    ("home", home),
                    ("list", listed),
                    ("detail", detail),
                    ("submit", submit),
                ):
                    timings[key].append(value * 1000)
        errors = server.errors()
    finally:
        server.stop()

    def row(label, values):
        values = sorted(values)
        p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
        return "| %s | %.1f | %.1f |" % (label, statistics.median(values), p95)

    ratio = statistics.median(timings["list"]) / statistics.median(timings["home"])
    lines = [
        "",
        "## Partner portal pages (%s, %s other partners' registrations, %s runs)"
        % (datetime.date.today().isoformat(), args.others, args.runs),
        "",
        "| page | median ms | p95 ms |",
        "|---|---|---|",
        row("stock `GET /my/home`", timings["home"]),
        row("`GET /my/registrations` (list)", timings["list"]),
        row("`GET /my/registrations/<id>` (detail)", timings["detail"]),
        row("`POST /my/registrations/new` (submit)", timings["submit"]),
        "",
        "List page / stock home page: %.2f× (limit 2×). Server errors: %s." % (ratio, len(errors)),
    ]
    report(lines, args.output)
    if errors:
        print("\n".join(errors[:20]))
    return 0 if ratio <= 2 and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
