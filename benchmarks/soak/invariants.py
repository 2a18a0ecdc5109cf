"""The invariants in SQL: sampled every second in one snapshot while the run
goes on, swept once more at the end, and the clients' ledger checked against
the database."""

import collections
import json
import time

from .shared import Pg, utc

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


SCOPE = (
    "o.company_id = t.company_id"
    " AND (o.product_line_id IS NULL OR t.product_line_id IS NULL"
    "      OR o.product_line_id = t.product_line_id)"
    " AND (o.scope_team_id IS NULL OR t.scope_team_id IS NULL"
    "      OR o.scope_team_id = t.scope_team_id)"
)


def check_invariants(cr, start):
    """Violations among the registrations the run wrote: a list of strings."""
    return shared_keys(cr, start) + unexplained_states(cr, start) + foreign_approvals(cr, start)


def shared_keys(cr, start):
    """Two active registrations sharing a customer key in overlapping scopes."""
    union = " UNION ".join(
        "SELECT t.id, o.id, '%s' FROM touched t JOIN crm_lead_registration o"
        " ON o.%s = t.%s AND o.id <> t.id AND o.state IN ('submitted', 'approved') AND %s"
        % (left, right, left, SCOPE)
        for left, right in KEY_PAIRS
    )
    cr.execute(
        "WITH touched AS (SELECT * FROM crm_lead_registration r"
        " WHERE state IN ('submitted', 'approved') AND " + TOUCHED + ") " + union,
        start,
    )
    return [
        "two active registrations %d and %d share %s" % (reg, other, key)
        for reg, other, key in cr.fetchall()
    ]


def unexplained_states(cr, start):
    """A state its lock history does not lead to, or that its opportunity does not mirror."""
    violations = []
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
    return violations


def foreign_approvals(cr, start):
    """An approval by its owner or submitter, or by someone whose review it was not."""
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
    return [
        "registration %d (%s band, owner %s) approved by user %s, not one of its approvers"
        % (reg, band, owner, approver)
        for reg, approver, owner, band in cr.fetchall()
    ]


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


def final_sweep(pg, start):
    """The same checks once more after the run, PostgreSQL given 30 s to be back."""
    for _attempt in range(30):
        try:
            with pg.cursor() as cr:
                return check_invariants(cr, start)
        except Exception:
            time.sleep(1)
    return []


# ---------------------------------------------------------------------------
# The ledger: what the clients were told, found in the database
# ---------------------------------------------------------------------------


def duplicates(cr, run):
    """Opportunities of the run created twice: by name, a partner's deal by its contact."""
    # a partner's deal is named after the customer typed: its contact names the attempt
    cr.execute(
        "SELECT name, count(*) FROM crm_lead WHERE name LIKE %s AND channel_partner_id IS NULL"
        " GROUP BY name HAVING count(*) > 1",
        ["Soak %s %%" % run],
    )
    found = cr.fetchall()
    cr.execute(
        "SELECT contact_name, count(*) FROM crm_lead WHERE contact_name LIKE %s"
        " GROUP BY contact_name HAVING count(*) > 1",
        ["Soak %s contact %%" % run],
    )
    return found + cr.fetchall()


def portal_deal_found(cr, entry):
    cr.execute(
        "SELECT 1 FROM crm_lead_registration r JOIN crm_lead l ON l.id = r.lead_id"
        " WHERE r.id = %s AND r.submitted_by_id = %s AND l.contact_name = %s",
        [entry["portal"], entry["uid"], entry["contact"]],
    )
    return bool(cr.fetchone())


def ack_found(cr, e):
    """An acknowledged transition, in the registrations or the lock history."""
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
    return bool(cr.fetchone())


def check_ledger(pg, records, run):
    """Every opportunity created is there once; every acknowledged transition is logged."""
    failures = []
    entries = [json.loads(r["error"]) for r in records if r["kind"] == "ledger"]
    created = {e["created"]: e["name"] for e in entries if "created" in e}
    portal = [e for e in entries if "portal" in e]
    with pg.cursor() as cr:
        cr.execute("SELECT id FROM crm_lead WHERE id = ANY(%s)", [list(created)])
        present = {row[0] for row in cr.fetchall()}
        twice = duplicates(cr, run)
        lost_portal = [e for e in portal if not portal_deal_found(cr, e)]
        cr.execute("SELECT count(*) FROM crm_lead WHERE name LIKE %s", ["Soak %s %%" % run])
        (in_db,) = cr.fetchone()
        lost_acks = [e for e in entries if "ack" in e and not ack_found(cr, e)]
    lost = sorted(set(created) - present)
    if lost:
        failures.append("%d opportunities created but missing: %s" % (len(lost), lost[:10]))
    if lost_portal:
        failures.append(
            "%d deals registered on the portal but missing: %s"
            % (len(lost_portal), lost_portal[:5])
        )
    if twice:
        failures.append("%d opportunities created twice: %s" % (len(twice), twice[:5]))
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
            len(twice),
            sum(acks.values()) - len(lost_acks),
            sum(acks.values()),
            dict(acks),
        )
    )
    return summary, failures
