from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import SQL

# Why a won opportunity is, or is not, eligible for its partner's commission.
COMMISSION_REASONS = [
    ("eligible", "Registered Before the Win"),
    ("approved_after_win", "Approved Only After the Win"),
    ("pending_at_win", "Still Pending Review When Won"),
    ("ended_before_win", "Registration Ended Before the Win"),
    ("unregistered", "Never Registered"),
]


def _win_sql(lead):
    return SQL("COALESCE(%s.date_closed, r.date_closed, now() AT TIME ZONE 'UTC')", lead)


_HELD_SQL = SQL("(r.state = 'won' OR r.date_won IS NOT NULL)")

# Dates the system stamps and the module's rules read: the closing date decides
# commission eligibility, the won month of every metric and the compliance
# cases; the last stage change decides overdue stages and the stage history.
SYSTEM_DATES = ("date_closed", "date_last_stage_update")
# How far from now the stock CRM's own stamp of a won-stage creation may be.
STAMP_TOLERANCE = timedelta(minutes=5)


def registered_before_win_sql(lead_alias):
    """Whether the won opportunity ``lead_alias`` was registered before the win
    (未报备不得发放), as an SQL condition: a registration was approved no later
    than the win and was still holding the customer when the opportunity was
    won (closed as won, or kept after the win). An approval that had ended, or
    came after the win, does not count. One index probe per opportunity."""
    lead = SQL.identifier(lead_alias)
    return SQL(
        """EXISTS (SELECT 1 FROM crm_lead_registration r WHERE r.lead_id = %(lead)s.id
                     AND %(held)s AND r.date_approved IS NOT NULL
                     AND r.date_approved <= %(win)s)""",
        lead=lead,
        held=_HELD_SQL,
        win=_win_sql(lead),
    )


def commission_reason_sql(lead_alias):
    """The commission reason of a won opportunity, as an SQL expression:
    eligible when registered before the win, otherwise why not."""
    lead = SQL.identifier(lead_alias)
    win = _win_sql(lead)
    return SQL(
        """CASE
            WHEN %(eligible)s THEN 'eligible'
            WHEN EXISTS (SELECT 1 FROM crm_lead_registration r WHERE r.lead_id = %(lead)s.id
                         AND r.date_approved > %(win)s) THEN 'approved_after_win'
            WHEN EXISTS (SELECT 1 FROM crm_lead_registration r WHERE r.lead_id = %(lead)s.id
                         AND %(held)s) THEN 'pending_at_win'
            WHEN EXISTS (SELECT 1 FROM crm_lead_registration r WHERE r.lead_id = %(lead)s.id)
                 THEN 'ended_before_win'
            ELSE 'unregistered'
        END""",
        eligible=registered_before_win_sql(lead_alias),
        lead=lead,
        held=_HELD_SQL,
        win=win,
    )


class CrmLead(models.Model):
    """Commission eligibility (未报备不得发放): a won opportunity counts as
    registered only if a registration approved before the win held it."""

    _inherit = "crm.lead"

    def _may_write_system_dates(self):
        return self.env.su or self.env.user.has_group(
            "opportunity_registration.group_registration_manager"
        )

    @staticmethod
    def _readable_datetime(value):
        try:
            return bool(fields.Datetime.to_datetime(value))
        except (TypeError, ValueError):
            return False

    def _refuse_system_date(self, fname):
        raise UserError(
            self.env._(
                "%(field)s is set by the system when an opportunity is won, lost or "
                "changes stage: it decides commission eligibility and the monthly "
                "numbers. Ask a registration manager to correct it.",
                field=self._fields[fname]._description_string(self.env),
            )
        )

    @api.model
    def _check_new_system_dates(self, vals_list):
        """Called by create: an opportunity is not created with its closing or
        stage date already set (backdated), but by a registration or sales
        manager."""
        dated = [
            fname
            for vals in vals_list
            for fname in SYSTEM_DATES
            if vals.get(fname) and self._readable_datetime(vals[fname])
        ]  # a value that is no date at all is the input check's (crm_lead.py)
        if dated and not self._may_write_system_dates():
            self._refuse_system_date(dated[0])

    def _check_system_dates(self, vals):
        """Called by _check_protected_fields: dates that decide eligibility and
        metrics are written by the system on win, loss and stage change: a
        registration or sales manager may correct them, nobody else changes
        them (stock CRM's own stamp of an opportunity created in a won stage,
        empty to now, is let through)."""
        written = [fname for fname in SYSTEM_DATES if fname in vals]
        if not written or not self or self._may_write_system_dates():
            return
        now = fields.Datetime.now()
        for fname in written:
            try:
                value = fields.Datetime.to_datetime(vals[fname])
            except (TypeError, ValueError):
                self._refuse_system_date(fname)
            stamp = fname == "date_closed" and value and abs(value - now) <= STAMP_TOLERANCE
            if not all(
                (lead[fname] or None) == value or (stamp and not lead[fname]) for lead in self
            ):
                self._refuse_system_date(fname)

    def _commission_reasons(self):
        """``{lead id: reason code}`` for these won opportunities, in at most one query."""
        won = self.filtered(lambda lead: lead.id and lead.won_status == "won")
        # never registered: the registration mirror (crm_lead.py,
        # _sync_registration) is empty, and the form asks no query
        never = won.filtered(lambda lead: not lead.registration_id)
        reasons = dict.fromkeys(never.ids, "unregistered")
        won -= never
        if not won:
            return reasons
        self.env["crm.lead.registration"].flush_model()
        self.flush_recordset(["date_closed", "won_status"])
        self.env.cr.execute(
            SQL(
                "SELECT l.id, %s FROM crm_lead l WHERE l.id = ANY(%s)",
                commission_reason_sql("l"),
                won.ids,
            )
        )
        reasons.update(self.env.cr.fetchall())
        return reasons

    @api.depends("won_status", "date_closed", "registration_ids.date_approved")
    def _compute_won_unregistered(self):
        reasons = self._origin._commission_reasons()
        for lead in self:
            lead.won_unregistered = lead.won_status == "won" and (
                reasons.get(lead._origin.id) != "eligible"
            )

    def _search_won_unregistered(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        wanted = {bool(v) for v in value}
        if len(wanted) != 1:  # both values, or none
            return Domain.TRUE if (operator == "in") == bool(wanted) else Domain.FALSE
        # NOT EXISTS written out (a negated EXISTS would read "IS NOT TRUE",
        # which PostgreSQL cannot turn into an anti-join)
        unregistered = (operator == "in") == (True in wanted)
        condition = Domain.custom(
            to_sql=lambda _model, alias, _query: SQL(
                "NOT %s" if unregistered else "%s", registered_before_win_sql(alias)
            )
        )
        domain = Domain("won_status", "=", "won") & condition
        return domain if unregistered else domain | Domain("won_status", "!=", "won")


class CrmLeadCommissionReport(models.Model):
    """Won partner deals, eligible for commission or not, and why."""

    _name = "crm.lead.commission.report"
    _description = "Partner Commission Eligibility"
    _auto = False
    _order = "date_won desc, id desc"
    _rec_name = "lead_id"

    lead_id = fields.Many2one("crm.lead", "Opportunity", readonly=True)
    channel_partner_id = fields.Many2one("res.partner", readonly=True)
    partner_id = fields.Many2one("res.partner", "Customer", readonly=True)
    user_id = fields.Many2one("res.users", "Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", "Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id", readonly=True)
    expected_revenue = fields.Monetary(currency_field="currency_id", readonly=True)
    date_won = fields.Datetime("Won On", readonly=True)
    date_approved = fields.Datetime(
        "Registration Approved On",
        readonly=True,
        help="Latest approval of a registration of the opportunity.",
    )
    eligible = fields.Boolean("Eligible for Commission", readonly=True)
    reason = fields.Selection(COMMISSION_REASONS, readonly=True)

    def _query(self):
        return SQL(
            """
            SELECT l.id, l.id AS lead_id, l.channel_partner_id, l.partner_id, l.user_id,
                   l.team_id, l.company_id, l.expected_revenue, l.date_closed AS date_won,
                   (SELECT max(r.date_approved) FROM crm_lead_registration r
                     WHERE r.lead_id = l.id) AS date_approved,
                   c.reason = 'eligible' AS eligible,
                   c.reason
              FROM crm_lead l
              CROSS JOIN LATERAL (SELECT %s AS reason) c
             WHERE l.won_status = 'won' AND l.active AND l.channel_partner_id IS NOT NULL
            """,
            commission_reason_sql("l"),
        )

    def init(self):
        self.env.cr.execute(SQL("DROP VIEW IF EXISTS %s CASCADE", SQL.identifier(self._table)))
        self.env.cr.execute(
            SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )
