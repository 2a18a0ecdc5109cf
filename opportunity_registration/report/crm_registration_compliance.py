from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models, tools
from odoo.fields import Domain
from odoo.tools import SQL

KINDS = [
    ("unregistered", "Won, Never Registered"),
    ("late", "Registered Late"),
    ("no_update", "No Weekly Update"),
    ("under_quota", "Under Monthly Quota"),
]


class CrmRegistrationCompliance(models.Model):
    """Registration compliance (漏报考核), one row per case, for the pivot per
    rep and team and the weekly digest:

    - a won opportunity none of whose registrations was ever approved;
    - a won opportunity first submitted after it reached the company's
      "register before" stage (or a later one), or fewer than the set days
      before its win;
    - an approved registration whose last qualifying follow-up (or approval)
      is more than 7 days old: every band requires a weekly update;
    - a sales team member who submitted fewer registrations in a past month
      (the last twelve, since joining the team) than the monthly quota.
    """

    _name = "crm.registration.compliance"
    _description = "Registration Compliance"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "kind"

    _depends = {
        "crm.lead": ["type", "won_status", "user_id", "team_id", "company_id", "date_closed"],
        "crm.lead.registration": [
            "lead_id",
            "state",
            "date_submitted",
            "date_approved",
            "last_follow_up_date",
            "submitted_by_id",
            "amount",
        ],
        "crm.lead.stage.history": ["lead_id", "stage_id", "date_in"],
        "crm.team.member": ["user_id", "crm_team_id", "active"],
        "res.company": [
            "compliance_late_days",
            "compliance_late_stage_id",
            "compliance_monthly_quota",
        ],
    }

    kind = fields.Selection(KINDS, "Case", readonly=True)
    lead_id = fields.Many2one("crm.lead", "Opportunity", readonly=True)
    registration_id = fields.Many2one("crm.lead.registration", readonly=True)
    user_id = fields.Many2one("res.users", "Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", "Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    date = fields.Date(
        readonly=True,
        help="Win date, last follow-up, or the month under quota.",
    )
    case_count = fields.Integer("Cases", readonly=True)
    amount = fields.Float("Expected Revenue", readonly=True)
    shortfall = fields.Integer(
        "Registrations Missing", readonly=True, help="Quota minus registrations submitted."
    )

    def _query(self):
        return SQL("""
            WITH won AS NOT MATERIALIZED (
                SELECT l.id AS lead_id, l.user_id, l.team_id, l.company_id, l.date_closed,
                       l.expected_revenue,
                       (SELECT MIN(r.date_submitted) FROM crm_lead_registration r
                         WHERE r.lead_id = l.id) AS first_submitted,
                       EXISTS (SELECT 1 FROM crm_lead_registration r
                                WHERE r.lead_id = l.id AND r.date_approved IS NOT NULL) AS approved
                  FROM crm_lead l
                 WHERE l.type = 'opportunity' AND l.won_status = 'won'
            )
            SELECT w.lead_id::bigint * 4 AS id, 'unregistered' AS kind, w.lead_id,
                   NULL::integer AS registration_id, w.user_id, w.team_id, w.company_id,
                   w.date_closed::date AS date, 1 AS case_count,
                   w.expected_revenue AS amount, 0 AS shortfall
              FROM won w
             WHERE NOT w.approved
            UNION ALL
            SELECT w.lead_id::bigint * 4 + 1, 'late', w.lead_id, NULL, w.user_id, w.team_id,
                   w.company_id, w.date_closed::date, 1, w.expected_revenue, 0
              FROM won w
              JOIN res_company c ON c.id = w.company_id
             WHERE w.approved
               AND ((c.compliance_late_days > 0
                     AND w.first_submitted > w.date_closed - make_interval(days => c.compliance_late_days))
                 OR EXISTS (
                    SELECT 1
                      FROM crm_lead_stage_history h
                      JOIN crm_stage s ON s.id = h.stage_id
                      JOIN crm_stage late ON late.id = c.compliance_late_stage_id
                     WHERE h.lead_id = w.lead_id AND s.sequence >= late.sequence
                       AND h.date_in < w.first_submitted))
            UNION ALL
            SELECT r.id::bigint * 4 + 2, 'no_update', r.lead_id, r.id, r.user_id, r.team_id,
                   r.company_id, COALESCE(r.last_follow_up_date, r.date_approved::date), 1, r.amount, 0
              FROM crm_lead_registration r
             WHERE r.state = 'approved'
               AND COALESCE(r.last_follow_up_date, r.date_approved::date) < CURRENT_DATE - 7
            UNION ALL
            SELECT (m.id::bigint * 100000 + EXTRACT(YEAR FROM month.start)::int * 12
                    + EXTRACT(MONTH FROM month.start)::int) * 4 + 3,
                   'under_quota', NULL, NULL, m.user_id, m.crm_team_id, c.id,
                   month.start::date, 1, NULL, c.compliance_monthly_quota - submitted.count
              FROM crm_team_member m
              JOIN crm_team t ON t.id = m.crm_team_id
              JOIN res_users u ON u.id = m.user_id
              JOIN res_company c ON c.id = COALESCE(t.company_id, u.company_id)
        CROSS JOIN generate_series(date_trunc('month', CURRENT_DATE) - interval '12 months',
                                   date_trunc('month', CURRENT_DATE) - interval '1 month',
                                   interval '1 month') AS month(start)
        CROSS JOIN LATERAL (
                   SELECT count(*) AS count
                     FROM crm_lead_registration r
                    WHERE r.submitted_by_id = m.user_id
                      AND r.date_submitted >= month.start
                      AND r.date_submitted < month.start + interval '1 month'
                   ) submitted
             WHERE m.active AND t.active AND c.compliance_monthly_quota > 0
               AND month.start >= date_trunc('month', m.create_date)
               AND submitted.count < c.compliance_monthly_quota
        """)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )

    @api.model
    def _digest_rows(self):
        """Cases per team, rep and kind for the weekly digest: wins of the last
        7 days, registrations without update now, last month's quota; one query
        for every team (the compliance view is read once: at a million
        opportunities it takes seconds).
        """
        today = fields.Date.context_today(self)
        last_month = today.replace(day=1) - relativedelta(months=1)
        domain = (
            Domain("kind", "in", ("unregistered", "late"))
            & Domain("date", ">=", today - timedelta(days=7))
            | Domain("kind", "=", "no_update")
            | Domain("kind", "=", "under_quota") & Domain("date", "=", last_month)
        )
        rows = {}
        for team, user, kind, count in self.sudo()._read_group(
            domain, ["team_id", "user_id", "kind"], ["case_count:sum"]
        ):
            counts = rows.setdefault((team, user), dict.fromkeys(dict(KINDS), 0))
            counts[kind] = count
        return [
            {"team": team.name or "", "team_id": team.id, "user": user.name or "", **counts}
            for (team, user), counts in sorted(
                rows.items(), key=lambda item: (item[0][0].name or "", item[0][1].name or "")
            )
        ]

    @api.model
    def _cron_send_digest(self):
        """Weekly: each team leader gets their team's cases, each sales manager
        every team's, in their own language.
        """
        template = self.env.ref("opportunity_registration.mail_template_compliance_digest")
        teams = self.env["crm.team"].search([("user_id", "!=", False)])
        managers = self.env.ref("sales_team.group_sale_manager").all_user_ids.filtered(
            lambda user: not user.share and user.active and user.email
        )
        every_team = self._digest_rows()
        digest = []
        for team in teams:
            if team.user_id.email and team.user_id not in managers:
                rows = [row for row in every_team if row["team_id"] == team.id]
                if rows:
                    digest.append((team.user_id.id, rows))
        if managers and every_team:
            digest.extend((manager.id, every_team) for manager in managers)
        if digest:
            template.with_context(compliance_digest=digest).send_mail_batch(
                [user_id for user_id, _rows in digest]
            )
        return digest
