"""The database made ready for the run, over XML-RPC as admin: users, a team,
partner companies, customers the reps already hold; the scheduled jobs every
minute, and the clock that gives them work."""

import contextlib
import datetime
import re

from .shared import CRONS, PASSWORD, Pg


def variants(name):
    """The ways a rep types a customer someone already holds."""
    upper = name.upper()
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)
    bare = re.sub(r"\s*(Co\.,? Ltd\.?|Inc\.?|GmbH|有限公司|股份有限公司)$", "", name)
    return [upper, fullwidth, bare + " Co Ltd", "  %s  " % name.lower(), bare + " Inc."]


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


def prepare(admin, args, run, rng):
    """Users, a team, held customers: ``(users, team, held)``."""
    users = create_users(admin, args, run)
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
    place_portal_users(admin, run, team, [u for u in users if u["role"] == "portal"])
    held = hold_customers(admin, args, run, rng, team, reps)
    return users, team, held


def create_users(admin, args, run):
    """The run's users, one password hash for all: ``[{role, id, login}]``."""
    ref = admin.ref
    salesman = ref("sales_team.group_sale_salesman")
    all_leads = ref("sales_team.group_sale_salesman_all_leads")
    reg_user = ref("opportunity_registration.group_registration_user")
    approver = [all_leads, reg_user, ref("opportunity_registration.group_registration_approver")]
    roles = (
        [("rep", [salesman, reg_user])] * args.reps
        + [
            ("leader", approver),
            ("deputy", approver),
            ("branch", approver),
            (
                "manager",
                [
                    ref("sales_team.group_sale_manager"),
                    reg_user,
                    ref("opportunity_registration.group_registration_manager"),
                ],
            ),
            ("channel", [salesman, reg_user]),
        ]
        + [("portal", [ref("base.group_portal")])] * args.portals
    )
    logins = [
        "soak-%s-%s-%02d@soak.example.com" % (run, role, i) for i, (role, _g) in enumerate(roles)
    ]
    user_ids = admin(
        "res.users",
        "create",
        [
            {
                "name": "Soak %s %s %02d" % (run, role, i),
                "login": logins[i],
                "email": logins[i],
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
    return [
        {"role": role, "id": uid, "login": login}
        for (role, _groups), uid, login in zip(roles, user_ids, logins, strict=True)
    ]


def place_portal_users(admin, run, team, portal_users):
    """Two partner companies of the team's channel, enrolled (the portal's
    registration pages refuse any other), each portal user in one of them."""
    resellers = admin(
        "res.partner",
        "create",
        [
            {
                "name": "Soak %s Reseller %s Ltd" % (run, letter),
                "is_company": True,
                "is_channel_partner": True,
                "registration_team_id": team,
            }
            for letter in "AB"
        ],
    )
    if portal_users:
        rows = admin("res.users", "read", [u["id"] for u in portal_users], ["partner_id"])
        for i, row in enumerate(rows):
            reseller = resellers[i % len(resellers)]
            admin("res.partner", "write", [row["partner_id"][0]], {"parent_id": reseller})
            portal_users[i]["reseller"] = reseller


def hold_customers(admin, args, run, rng, team, reps):
    """Customers every rep already holds (small amounts, approved at once), then
    customers the database already protects (the bench data), for reps to type."""
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
    with contextlib.suppress(Exception):
        for name, domain in Pg(args).run(
            "SELECT customer_name, domain_key FROM crm_lead_registration"
            " WHERE state = 'approved' AND customer_name IS NOT NULL"
            " ORDER BY id LIMIT %s",
            [args.held * args.reps],
        ):
            held.append({"name": name, "domain": domain, "phone": None, "partner": None})
    return held


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
