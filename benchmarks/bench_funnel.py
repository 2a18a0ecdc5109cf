"""Funnel metrics over the benchmark database: whole company and one team.

Gives the stage history a realistic shape first (once): every opportunity's
path through the pipeline stages up to its current one, in set-based SQL, so
that pass rates and days in stage come from several stays per opportunity.
Measured as a sales manager (record rules applied), 1 warm-up + N runs.
"""

import argparse
import time

from _common import BENCH_DB, environment, median_and_worst, report, say


def shape_history(env):
    """Replace single open stays by a path through the earlier stages."""
    env.cr.execute("SELECT count(*), count(DISTINCT lead_id) FROM crm_lead_stage_history")
    rows, leads = env.cr.fetchone()
    if rows > leads * 1.5:
        return rows
    env.cr.execute("SELECT id FROM crm_stage ORDER BY sequence, id")
    stages = [row[0] for row in env.cr.fetchall()]
    env.cr.execute("""
        WITH ordered AS (
            SELECT id, row_number() OVER (ORDER BY sequence, id) AS rank FROM crm_stage
        ), path AS (
            SELECT h.lead_id, h.team_id, h.salesperson_id, h.company_id, h.lead_won, h.lead_open,
                   o.id AS stage_id, o.rank, cur.rank AS current_rank, l.create_date
              FROM crm_lead_stage_history h
              JOIN crm_lead l ON l.id = h.lead_id
              JOIN ordered cur ON cur.id = h.stage_id
              JOIN ordered o ON o.rank < cur.rank
             WHERE h.date_out IS NULL
        )
        INSERT INTO crm_lead_stage_history
            (lead_id, stage_id, date_in, date_out, days_in_stage, is_passed, is_first_entry,
             stage_passed, lead_won, lead_open, team_id, salesperson_id, company_id,
             create_date, write_date)
        SELECT lead_id, stage_id,
               create_date + (rank - 1) * interval '9 days',
               create_date + rank * interval '9 days', 9, true, true, true,
               lead_won, lead_open, team_id, salesperson_id, company_id, now(), now()
          FROM path
    """)
    say("stage history shaped: %d stays added over %d stages" % (env.cr.rowcount, len(stages)))
    env.cr.execute("ANALYZE crm_lead_stage_history")
    env.cr.execute("SELECT count(*) FROM crm_lead_stage_history")
    return env.cr.fetchone()[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default=BENCH_DB)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--output")
    args = parser.parse_args()
    with environment(args.db) as env:
        stays = shape_history(env)
    with environment(args.db, commit=False) as env:
        manager = env.ref("base.user_admin")
        History = env["crm.lead.stage.history"].with_user(manager)
        env.cr.execute(
            "SELECT team_id FROM crm_lead GROUP BY team_id ORDER BY count(*) DESC LIMIT 1"
        )
        (team_id,) = env.cr.fetchone()
        env.cr.execute("SELECT count(*) FROM crm_lead")
        (leads,) = env.cr.fetchone()
        env.cr.execute("SELECT count(*) FROM crm_lead WHERE team_id = %s", [team_id])
        (team_leads,) = env.cr.fetchone()
        cases = [
            ("whole company", lambda: History.invalidate_model() or History._get_funnel(), 1000),
            (
                "one team (%d opportunities)" % team_leads,
                lambda: (
                    History.invalidate_model() or History._get_funnel([("team_id", "=", team_id)])
                ),
                200,
            ),
        ]
        rows = []
        for label, function, target in cases:
            median, worst = median_and_worst(function, args.runs)
            say("funnel, %s: median %.0f ms, max %.0f ms" % (label, median, worst))
            rows.append((label, median, worst, target))
        funnel = History._get_funnel()
    lines = [
        "",
        "## Funnel metrics (`benchmarks/bench_funnel.py`, %s)"
        % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "",
        "%d opportunities, %d stage stays; as the administrator (record rules applied); "
        "1 warm-up + %d runs. Stock Odoo has no stage funnel." % (leads, stays, args.runs),
        "",
        "| scope | median ms | max ms | target | met |",
        "|---|---:|---:|---:|---|",
    ]
    for label, median, worst, target in rows:
        lines.append(
            "| %s | %.0f | %.0f | ≤ %d ms | %s |"
            % (label, median, worst, target, "yes" if median <= target else "**no**")
        )
    lines += ["", "Funnel of the whole company (entered, pass rate to next stage):", ""]
    for row in funnel:
        lines.append(
            "- stage %s: %d entered, %.1f %% of the previous stage"
            % (row["stage_id"], row["entered"], row["conversion_rate"])
        )
    report(lines, args.output)


if __name__ == "__main__":
    main()
