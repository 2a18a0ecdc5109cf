"""Cron sweeps over the benchmark database: expiry warnings, expiry, weekly
follow-up reminders, escalation.

Each sweep runs in a transaction that is rolled back, on a realistic share of
the 100,000 active locks made due (protection ending or neglected), so the
database is left as it was. Prints a Markdown table and appends it to
RESULTS.md with --output.
"""

import argparse
import time

from _common import BENCH_DB, environment, report, say


def _due(env, share, column, value, state="approved"):
    """Make ``share`` of the registrations in ``state`` due, in SQL."""
    env.cr.execute(
        f"""
        UPDATE crm_lead_registration SET {column} = %s
         WHERE id IN (SELECT id FROM crm_lead_registration
                       WHERE state = %s ORDER BY id LIMIT %s)
        """,
        [value, state, share],
    )
    return env.cr.rowcount


def measure(db, due):
    rows = []
    for label, column, delta, method, state in [
        ("warn owners before expiry", "protection_end_date", 3, "_cron_warn_expiry", "approved"),
        ("expire ended locks", "protection_end_date", -1, "_cron_expire", "approved"),
        ("expire neglected locks", "last_follow_up_date", -60, "_cron_expire", "approved"),
        (
            "remind the weekly follow-up",
            "date_approved",
            -30,
            "_cron_remind_follow_up",
            "approved",
        ),
        (
            "escalate reviews pending too long",
            "date_review_requested",
            -30,
            "_cron_escalate",
            "submitted",
        ),
    ]:
        with environment(db, commit=False) as env:
            env.cr.execute(
                "SELECT count(*) FROM crm_lead_registration WHERE state IN ('submitted', 'approved')"
            )
            (active,) = env.cr.fetchone()
            env.cr.execute("SELECT count(*) FROM crm_lead")
            (leads,) = env.cr.fetchone()
            env.cr.execute("SELECT current_date + %s", [delta])
            (value,) = env.cr.fetchone()
            made_due = _due(env, due, column, value, state)
            before = env.cr.sql_log_count
            start = time.perf_counter()
            done = getattr(env["crm.lead.registration"], method)()
            env.flush_all()
            elapsed = time.perf_counter() - start
            queries = [env.cr.sql_log_count - before]
            say(
                "%s: %d of %d due, %.2f s, %d queries"
                % (label, len(done), made_due, elapsed, queries[0])
            )
            rows.append((label, leads, active, len(done), elapsed, queries[0]))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default=BENCH_DB)
    parser.add_argument(
        "--due",
        type=int,
        default=2000,
        help="locks made due for each sweep (a busy day at 100,000 locks)",
    )
    parser.add_argument("--output")
    args = parser.parse_args()
    rows = measure(args.db, args.due)
    lines = [
        "",
        "## Cron sweeps (`benchmarks/bench_cron.py`, %s)"
        % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "",
        "Each sweep in a rolled-back transaction; stock Odoo has no equivalent job.",
        "",
        "| sweep | opportunities | active locks | processed | seconds | queries | target ≤ 10 s |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for label, leads, active, done, elapsed, queries in rows:
        lines.append(
            "| %s | %d | %d | %d | %.2f | %d | %s |"
            % (label, leads, active, done, elapsed, queries, "yes" if elapsed <= 10 else "**no**")
        )
    report(lines, args.output)


if __name__ == "__main__":
    main()
