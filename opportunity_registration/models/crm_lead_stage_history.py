from datetime import timedelta

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL

from .crm_lead_registration import BACKFILL_BATCH

# Opportunities that existed at install and still wait for their history:
# those with an id below this parameter (0 once done), filled downwards by a
# scheduled action; the first value is kept to say how far it got.
HISTORY_BACKFILL_PARAM = "opportunity_registration.stage_history_backfill_below"
HISTORY_BACKFILL_START_PARAM = "opportunity_registration.stage_history_backfill_from"
# Transaction-scoped advisory lock: one backfill batch at a time.
HISTORY_BACKFILL_LOCK = 0x0F0E5701


class CrmLeadStageHistory(models.Model):
    """One stay of an opportunity in a stage: entered at ``date_in``, left at
    ``date_out`` (empty while it is still there).

    Rows are written in batch with SQL by ``crm.lead`` on every stage change
    (``_log_stage_changes``) and, for the opportunities that existed at
    install, rebuilt from mail tracking after it by a scheduled action
    (``_cron_backfill_stage_history``).
    """

    _name = "crm.lead.stage.history"
    _description = "Opportunity Stage History"
    _order = "lead_id, date_in, id"
    _rec_name = "stage_id"

    lead_id = fields.Many2one(
        "crm.lead", "Opportunity", required=True, ondelete="cascade", index=True
    )
    stage_id = fields.Many2one("crm.stage", required=True, ondelete="cascade", index=True)
    previous_stage_id = fields.Many2one("crm.stage", ondelete="set null")
    next_stage_id = fields.Many2one("crm.stage", ondelete="set null")
    date_in = fields.Datetime("Entered On", required=True)
    date_out = fields.Datetime("Left On")
    days_in_stage = fields.Float(
        "Days in Stage",
        aggregator="avg",
        help="Days between entering and leaving the stage; empty while the "
        "opportunity is still in it.",
    )
    is_passed = fields.Boolean("Passed", help="Left this stage for a later stage of the pipeline.")
    is_first_entry = fields.Boolean(
        "First Entry",
        default=True,
        help="First time the opportunity entered this stage (not a return).",
    )
    stage_passed = fields.Boolean(
        help="On the first entry of an opportunity in a stage: the opportunity "
        "left the stage for a later one, at this stay or a later return.",
    )
    # Copies of the opportunity's status, kept in sync by crm.lead, so that the
    # funnel metrics read this table alone (index-only scans).
    lead_won = fields.Boolean("Opportunity Won")
    lead_open = fields.Boolean(
        "Opportunity Ongoing", help="The opportunity is active and neither won nor lost."
    )
    moved_by_id = fields.Many2one("res.users", ondelete="set null")
    salesperson_id = fields.Many2one("res.users", ondelete="set null")
    team_id = fields.Many2one("crm.team", "Sales Team", ondelete="set null")
    company_id = fields.Many2one("res.company", ondelete="set null")
    override_reason = fields.Text(help="Why a manager moved the opportunity past an unmet gate.")

    _open_stay_unique = models.UniqueIndex("(lead_id) WHERE date_out IS NULL")
    _lead_date_idx = models.Index("(lead_id, date_in)")
    _stage_date_idx = models.Index("(stage_id, date_in)")
    # covering indexes for the funnel metrics of one team / one salesperson
    _team_metrics_idx = models.Index(
        "(team_id, stage_id) INCLUDE (date_in, date_out, days_in_stage, is_first_entry,"
        " stage_passed, lead_won, lead_open, company_id)"
    )
    _salesperson_metrics_idx = models.Index(
        "(salesperson_id, stage_id) INCLUDE (date_in, date_out, days_in_stage,"
        " is_first_entry, stage_passed, lead_won, lead_open, company_id, team_id)"
    )
    _dates_ordered = models.Constraint(
        "CHECK (date_out IS NULL OR date_out >= date_in)",
        "A stage stay cannot end before it starts.",
    )
    _days_positive = models.Constraint(
        "CHECK (days_in_stage IS NULL OR days_in_stage >= 0)",
        "The days spent in a stage cannot be negative.",
    )

    # ------------------------------------------------------------
    # WRITING (batch, SQL)
    # ------------------------------------------------------------

    @api.model
    def _log_stage_changes(self, leads, old_stages, override_reason=None):
        """Close the open stays of ``leads`` and open one in their new stage.

        Two queries for the whole batch, whatever its size. ``old_stages`` maps lead id to the
        stage record it had before the change (empty for a new lead).
        """
        if not leads:
            return
        now = self.env.cr.now()
        rows = []
        for lead in leads:
            old = old_stages.get(lead.id) or self.env["crm.stage"]
            new = lead.stage_id
            passed = bool(old and new and new._stage_key() > old._stage_key())
            rows.append(
                (
                    lead.id,
                    new.id or None,
                    old.id or None,
                    lead.team_id.id or None,
                    lead.user_id.id or None,
                    lead.company_id.id or None,
                    passed,
                    lead.won_status == "won",
                    lead.active and lead.won_status == "pending",
                )
            )
        self.flush_model()
        closing = [row for row in rows if row[2]]
        opening = [row for row in rows if row[1]]
        if closing:
            self._close_stays(closing, now)
        if opening:
            self._open_stays(opening, now, override_reason)
        self.invalidate_model()
        leads.invalidate_recordset(["stage_history_ids"])

    def _close_stays(self, rows, now):
        # The open stay of each lead ends now; when the lead moves forward, the
        # first entry of the stage it leaves is marked passed as well.
        self.env.cr.execute(
            SQL(
                """
            WITH moves (lead_id, stage_id, old_stage_id, passed) AS (VALUES %(rows)s)
            UPDATE crm_lead_stage_history h
               SET date_out = CASE WHEN h.date_out IS NULL
                                   -- clocks may go back (tests freeze time)
                                   THEN GREATEST(%(now)s, h.date_in) ELSE h.date_out END,
                   next_stage_id = CASE WHEN h.date_out IS NULL
                                        THEN m.stage_id ELSE h.next_stage_id END,
                   is_passed = CASE WHEN h.date_out IS NULL THEN m.passed ELSE h.is_passed END,
                   days_in_stage = CASE WHEN h.date_out IS NULL
                       THEN GREATEST(EXTRACT(EPOCH FROM (%(now)s - h.date_in)) / 86400.0, 0)
                       ELSE h.days_in_stage END,
                   stage_passed = h.stage_passed OR (
                       m.passed AND h.is_first_entry AND h.stage_id = m.old_stage_id),
                   write_uid = %(uid)s,
                   write_date = %(now)s
              FROM moves m
             WHERE h.lead_id = m.lead_id
               AND (h.date_out IS NULL
                    OR (m.passed AND h.is_first_entry AND h.stage_id = m.old_stage_id))
            """,
                rows=SQL(", ").join(
                    SQL("(%s::int, %s::int, %s::int, %s::bool)", row[0], row[1], row[2], row[6])
                    for row in rows
                ),
                now=now,
                uid=self.env.uid,
            )
        )

    def _open_stays(self, rows, now, override_reason):
        self.env.cr.execute(
            SQL(
                """
            WITH moves (lead_id, stage_id, previous_stage_id, team_id,
                        salesperson_id, company_id, lead_won, lead_open) AS (VALUES %(rows)s)
            INSERT INTO crm_lead_stage_history (
                lead_id, stage_id, previous_stage_id, team_id, salesperson_id,
                company_id, date_in, moved_by_id, is_first_entry, is_passed,
                stage_passed, lead_won, lead_open,
                override_reason, create_uid, create_date, write_uid, write_date)
            SELECT m.lead_id, m.stage_id, m.previous_stage_id, m.team_id,
                   m.salesperson_id, m.company_id, %(now)s, %(uid)s,
                   NOT EXISTS (SELECT 1 FROM crm_lead_stage_history h2
                                WHERE h2.lead_id = m.lead_id AND h2.stage_id = m.stage_id),
                   false, false, m.lead_won, m.lead_open,
                   %(reason)s, %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM moves m
             WHERE m.stage_id IS NOT NULL
            """,
                rows=SQL(", ").join(
                    SQL(
                        "(%s::int, %s::int, %s::int, %s::int, %s::int, %s::int, %s::bool, %s::bool)",
                        *row[:6],
                        *row[7:9],
                    )
                    for row in rows
                ),
                now=now,
                uid=self.env.uid,
                reason=override_reason or None,
            )
        )

    @api.model
    def _sync_lead_status(self, leads):
        """Copy the won / ongoing status of ``leads`` on their stays (one query)."""
        if not leads:
            return
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
            WITH status (lead_id, lead_won, lead_open) AS (VALUES %(rows)s)
            UPDATE crm_lead_stage_history h
               SET lead_won = s.lead_won, lead_open = s.lead_open
              FROM status s
             WHERE h.lead_id = s.lead_id
               AND (h.lead_won IS DISTINCT FROM s.lead_won
                    OR h.lead_open IS DISTINCT FROM s.lead_open)
            """,
                rows=SQL(", ").join(
                    SQL(
                        "(%s::int, %s::bool, %s::bool)",
                        lead.id,
                        lead.won_status == "won",
                        lead.active and lead.won_status == "pending",
                    )
                    for lead in leads
                ),
            )
        )
        self.invalidate_model(["lead_won", "lead_open"])

    # ------------------------------------------------------------
    # INSTALL BACKFILL (set-based SQL, in batches after the install)
    # ------------------------------------------------------------

    @api.model
    def _backfill_start(self):
        """Mark the opportunities without history for the backfill and trigger
        it (install): a million opportunities take a minute of SQL, which the
        install leaves to the scheduled action."""
        self.env["crm.lead"].flush_model()
        self.flush_model()
        self.env.cr.execute("""
            SELECT COALESCE(MAX(l.id) + 1, 0) FROM crm_lead l
             WHERE NOT EXISTS (SELECT 1 FROM crm_lead_stage_history h WHERE h.lead_id = l.id)
        """)
        (below,) = self.env.cr.fetchone()
        Param = self.env["ir.config_parameter"].sudo()
        Param.set_param(HISTORY_BACKFILL_PARAM, below)
        Param.set_param(HISTORY_BACKFILL_START_PARAM, below)
        if below:
            self.env.ref("opportunity_registration.ir_cron_stage_history_backfill")._trigger()
        return below

    @api.model
    def _backfill_below(self):
        """Opportunities with a lower id may still lack their history (0: none)."""
        return int(self.env["ir.config_parameter"].sudo().get_param(HISTORY_BACKFILL_PARAM) or 0)

    @api.model
    def _backfill_progress(self):
        """How much of the install's backfill is done, in % (100 when done)."""
        Param = self.env["ir.config_parameter"].sudo()
        below = self._backfill_below()
        start = int(Param.get_param(HISTORY_BACKFILL_START_PARAM) or 0)
        if below <= 0 or start <= 0:
            return 100
        return min(99, int(100 * (start - below) / start))

    @api.model
    def _backfill_note(self):
        """What the stage reports say while the backfill runs (False once done)."""
        progress = self._backfill_progress()
        if progress >= 100:
            return False
        return self.env._(
            "Stage history is still being filled in from past stage changes: %(progress)s%% "
            "done. Until then, these figures leave out the opportunities not filled in yet.",
            progress=progress,
        )

    @api.model
    def _report_action(self, xmlid):
        """The window action of a stage report, told while the backfill runs
        (a notification opening the report)."""
        action = self.env["ir.actions.actions"]._for_xml_id(xmlid)
        note = self._backfill_note()
        if not note:
            return action
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Stage history incomplete"),
                "message": note,
                "type": "warning",
                "sticky": True,
                "next": action,
            },
        }

    @api.model
    def _backfill_leads(self, lead_ids):
        """The history of these opportunities now, if the backfill has not
        reached them yet (before they move, so that their past stays come first)."""
        below = self._backfill_below()
        pending = [lead_id for lead_id in lead_ids if lead_id and lead_id < below]
        if pending:
            self._backfill_from_tracking(lead_ids=pending)

    @api.model
    def _cron_backfill_stage_history(self, batch_size=BACKFILL_BATCH):
        """Rebuild the history of the opportunities that existed at install,
        downwards by id range, one transaction per range; triggered at install,
        it comes back while work is left. Safe to run twice or concurrently: a
        range is skipped for opportunities that have history, one batch runs at
        a time, and an opportunity filled by someone else meanwhile makes the
        batch fail rather than duplicate its stays (unique open stay)."""
        Param = self.env["ir.config_parameter"].sudo()
        Cron = self.env["ir.cron"]
        cr = self.env.cr
        below = 0
        while True:
            cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s)", HISTORY_BACKFILL_LOCK))
            if not cr.fetchone()[0]:
                return None  # another run holds the batch; it comes back for the rest
            # read from the table: another worker may have moved it since our cache
            Param.flush_model(["value"])
            cr.execute(
                SQL("SELECT value FROM ir_config_parameter WHERE key = %s", HISTORY_BACKFILL_PARAM)
            )
            row = cr.fetchone()
            below = int(row[0]) if row and row[0] else 0
            if below <= 0:
                return 0
            low = max(below - batch_size, 0)
            self._backfill_from_tracking(low=low, high=below)
            below = low
            Param.set_param(HISTORY_BACKFILL_PARAM, below)
            remaining = (below + batch_size - 1) // batch_size
            if not Cron._commit_progress(1, remaining=remaining) or not below:
                return below

    @api.model
    def _backfill_from_tracking(self, low=None, high=None, lead_ids=None):
        """Rebuild the stays of the leads without history: those with
        ``low <= id < high``, or ``lead_ids``, or all.

        From the stage tracking values (``mail.tracking.value`` of field
        ``crm.lead.stage_id``): the first old value is the stage the lead was
        created in, each new value a stage entered at the message date. Leads
        without tracking get one open stay in their current stage.
        """
        self.env["crm.lead"].flush_model()
        self.flush_model()
        field_id = self.env["ir.model.fields"]._get("crm.lead", "stage_id").id
        scope = SQL("TRUE")
        if lead_ids is not None:
            scope = SQL("l.id = ANY(%s)", list(lead_ids))
        elif low is not None or high is not None:
            scope = SQL("l.id >= %s AND l.id < %s", low or 0, high or 2**31 - 1)
        self.env.cr.execute(
            SQL(
                """
            WITH todo AS (
                SELECT l.id, l.create_date, l.create_uid, l.stage_id,
                       l.date_last_stage_update, l.team_id, l.user_id, l.company_id,
                       l.won_status = 'won' AS lead_won,
                       COALESCE(l.active, false) AND l.won_status = 'pending' AS lead_open
                  FROM crm_lead l
                 WHERE %(scope)s
                   AND NOT EXISTS (SELECT 1 FROM crm_lead_stage_history h
                                    WHERE h.lead_id = l.id)
            ),
            tracked AS (
                SELECT msg.res_id AS lead_id, msg.date, msg.id AS msg_id,
                       msg.create_uid, tv.old_value_integer AS old_stage,
                       tv.new_value_integer AS new_stage
                  FROM mail_tracking_value tv
                  JOIN mail_message msg ON msg.id = tv.mail_message_id
                  JOIN todo ON todo.id = msg.res_id
                 WHERE tv.field_id = %(field_id)s AND msg.model = 'crm.lead'
            ),
            firsts AS (
                SELECT DISTINCT ON (lead_id) lead_id, old_stage
                  FROM tracked ORDER BY lead_id, date, msg_id
            ),
            entries AS (
                -- the stage each tracked lead was created in
                SELECT f.lead_id, f.old_stage AS stage_id, t.create_date AS date_in,
                       0 AS ord, t.create_uid AS moved_by_id
                  FROM firsts f JOIN todo t ON t.id = f.lead_id
                 WHERE f.old_stage IS NOT NULL AND f.old_stage <> 0
                UNION ALL
                SELECT lead_id, new_stage, date, msg_id, create_uid
                  FROM tracked
                 WHERE new_stage IS NOT NULL AND new_stage <> 0
                UNION ALL
                -- leads never tracked: one stay in the current stage
                SELECT t.id, t.stage_id, COALESCE(t.date_last_stage_update, t.create_date),
                       0, t.create_uid
                  FROM todo t
                 WHERE t.stage_id IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM tracked WHERE tracked.lead_id = t.id)
            ),
            ordered AS (
                SELECT e.lead_id, e.stage_id, e.date_in, e.moved_by_id, e.ord, s.sequence,
                       LEAD(e.stage_id) OVER w AS next_stage_id
                  FROM entries e
                  JOIN crm_stage s ON s.id = e.stage_id
                WINDOW w AS (PARTITION BY e.lead_id ORDER BY e.date_in, e.ord)
            ),
            passes AS (
                SELECT o.*,
                       COALESCE((ns.sequence, ns.id) > (o.sequence, o.stage_id), false) AS is_passed
                  FROM ordered o
                  LEFT JOIN crm_stage ns ON ns.id = o.next_stage_id
            ),
            stays AS (
                SELECT e.lead_id, e.stage_id, e.date_in, e.moved_by_id, e.is_passed,
                       BOOL_OR(e.is_passed) OVER (PARTITION BY e.lead_id, e.stage_id) AS stage_passed,
                       LAG(e.stage_id) OVER w AS previous_stage_id,
                       LEAD(e.stage_id) OVER w AS next_stage_id,
                       LEAD(e.date_in) OVER w AS date_out,
                       ROW_NUMBER() OVER (PARTITION BY e.lead_id, e.stage_id
                                          ORDER BY e.date_in, e.ord) = 1 AS is_first_entry
                  FROM passes e
                WINDOW w AS (PARTITION BY e.lead_id ORDER BY e.date_in, e.ord)
            )
            INSERT INTO crm_lead_stage_history (
                lead_id, stage_id, previous_stage_id, next_stage_id, date_in, date_out,
                days_in_stage, is_passed, is_first_entry, stage_passed, lead_won, lead_open,
                moved_by_id, salesperson_id,
                team_id, company_id, create_uid, create_date, write_uid, write_date)
            SELECT st.lead_id, st.stage_id, st.previous_stage_id, st.next_stage_id,
                   st.date_in,
                   CASE WHEN st.date_out IS NOT NULL THEN GREATEST(st.date_out, st.date_in) END,
                   GREATEST(EXTRACT(EPOCH FROM (st.date_out - st.date_in)) / 86400.0, 0),
                   st.is_passed, st.is_first_entry, st.is_first_entry AND st.stage_passed,
                   t.lead_won, t.lead_open, st.moved_by_id, t.user_id, t.team_id, t.company_id,
                   %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC'
              FROM stays st
              JOIN todo t ON t.id = st.lead_id
            -- a lead filled meanwhile by a concurrent transaction: in repeatable
            -- read this is a serialization failure (retried), never a duplicate
            ON CONFLICT (lead_id) WHERE date_out IS NULL DO NOTHING
            """,
                scope=scope,
                field_id=field_id,
                uid=self.env.uid,
            )
        )
        count = self.env.cr.rowcount
        self.invalidate_model()
        return count

    # ------------------------------------------------------------
    # METRICS (set-based SQL, record rules applied)
    # ------------------------------------------------------------

    @api.model
    def _get_stage_metrics(self, domain=None, now=None):
        """Measured metrics per stage over the stays matching ``domain``.

        Returns ``{stage_id: {...}}`` with, per stage: ``entered``
        (opportunities that entered it: first entries), ``passed`` (of those,
        how many left it for a later stage), ``pass_rate`` (passed / entered,
        %), ``won`` (of those, how many are won now), ``win_rate`` (won /
        entered, %), ``target_win_rate`` (the preset one), ``avg_days`` and
        ``median_days`` (over finished stays; the median to the hour) and
        ``overdue`` (ongoing opportunities whose current stay is longer than
        the stage's planned duration).

        One scan of the history table (record rules applied), grouped by stage
        and by hour spent in the stage, so the median needs no sort; the
        covering indexes serve the filters on one team or one salesperson.
        """
        now = now or fields.Datetime.now()
        self.flush_model()
        self.env["crm.stage"].flush_model(["planned_duration", "target_win_rate", "sequence"])
        query = self._search(Domain(domain or Domain.TRUE))
        h = SQL.identifier(self._table)
        planned = self.env["crm.stage"].sudo().search([("planned_duration", ">", 0)])
        if planned:
            # the latest entry date that is overdue now, per stage
            overdue_before = SQL(
                "CASE %s.stage_id %s END",
                h,
                SQL(" ").join(
                    SQL(
                        "WHEN %s THEN %s::timestamp",
                        stage.id,
                        now - timedelta(days=stage.planned_duration),
                    )
                    for stage in planned
                ),
            )
        else:
            overdue_before = SQL("NULL::timestamp")
        query.groupby = SQL("%s.stage_id, ROUND(%s.days_in_stage * 24)", h, h)
        rows = self.env.execute_query(
            query.select(
                SQL(
                    """%(h)s.stage_id,
               ROUND(%(h)s.days_in_stage * 24),
               COUNT(*) FILTER (WHERE %(h)s.is_first_entry),
               COUNT(*) FILTER (WHERE %(h)s.is_first_entry AND %(h)s.stage_passed),
               COUNT(*) FILTER (WHERE %(h)s.is_first_entry AND %(h)s.lead_won),
               COUNT(*) FILTER (WHERE %(h)s.date_out IS NOT NULL),
               SUM(%(h)s.days_in_stage) FILTER (WHERE %(h)s.date_out IS NOT NULL),
               COUNT(*) FILTER (WHERE %(h)s.date_out IS NULL AND %(h)s.lead_open
                                  AND %(h)s.date_in < %(overdue_before)s)
            """,
                    h=h,
                    overdue_before=overdue_before,
                )
            )
        )
        totals = {}
        for stage_id, hours, entered, passed, won, finished, days, overdue in rows:
            total = totals.setdefault(
                stage_id,
                {
                    "entered": 0,
                    "passed": 0,
                    "won": 0,
                    "finished": 0,
                    "days": 0.0,
                    "overdue": 0,
                    "hours": [],
                },
            )
            total["entered"] += entered
            total["passed"] += passed
            total["won"] += won
            total["finished"] += finished
            total["days"] += days or 0.0
            total["overdue"] += overdue
            if finished:
                total["hours"].append((hours, finished))
        stages = self.env["crm.stage"].browse(list(totals))
        preset = {stage.id: stage.target_win_rate for stage in stages}
        metrics = {}
        for stage_id, total in totals.items():
            entered, finished = total["entered"], total["finished"]
            metrics[stage_id] = {
                "entered": entered,
                "passed": total["passed"],
                "pass_rate": round(100.0 * total["passed"] / entered, 1) if entered else 0.0,
                "won": total["won"],
                "win_rate": round(100.0 * total["won"] / entered, 1) if entered else 0.0,
                "target_win_rate": preset[stage_id],
                "avg_days": round(total["days"] / finished, 2) if finished else 0.0,
                "median_days": round(_median_of_counts(total["hours"]) / 24.0, 2)
                if finished
                else 0.0,
                "overdue": total["overdue"],
            }
        return metrics

    @api.model
    def _get_funnel(self, domain=None, now=None):
        """The funnel table: one row per stage reached, in pipeline order.

        ``conversion_rate`` is the share of the previous row's count that
        reached this stage (100% for the first stage):
        100 / 80 / 60 / 40 / 20 opportunities give 100 / 80 / 75 / 66.7 / 50 %.
        """
        metrics = self._get_stage_metrics(domain, now=now)
        # stages nobody entered (only returns in the period) are left out
        reached = [stage_id for stage_id, values in metrics.items() if values["entered"]]
        stages = self.env["crm.stage"].browse(reached).sorted(lambda s: s._stage_key())
        funnel = []
        previous = None
        for stage in stages:
            row = dict(metrics[stage.id], stage_id=stage.id)
            if previous is None:
                row["conversion_rate"] = 100.0
            else:
                row["conversion_rate"] = (
                    round(100.0 * row["entered"] / previous, 1) if previous else 0.0
                )
            previous = row["entered"]
            funnel.append(row)
        return funnel


def _median_of_counts(value_counts):
    """Median (interpolated, like SQL percentile_cont(0.5)) of values given as
    ``[(value, count), ...]``."""
    pairs = sorted(value_counts)
    total = sum(count for _value, count in pairs)
    if not total:
        return 0.0

    def nth(index):  # 0-based index in the sorted expansion
        for value, count in pairs:
            if index < count:
                return float(value)
            index -= count
        return float(pairs[-1][0])

    if total % 2:
        return nth(total // 2)
    return (nth(total // 2 - 1) + nth(total // 2)) / 2.0
