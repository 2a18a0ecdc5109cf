from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

LEVELS = [("company", "Company"), ("team", "Sales Team"), ("user", "Salesperson")]
GROUPBY_OF_LEVEL = {"company": (), "team": ("team_id",), "user": ("team_id", "user_id")}
METRIC_FIELDS = (
    "pipeline_amount",
    "pipeline_count",
    "fresh_amount",
    "fresh_count",
    "conversion_rate_amount",
    "conversion_rate_count",
    "won_amount",
    "won_count",
    "win_contribution",
    "achievement_rate",
    "committed_amount",
    "committed_count",
    "valid_conversion_rate_amount",
    "valid_conversion_rate_count",
    "last_achievement_rate",
    "forecast_revenue",
    "forecast_count",
)


class CrmForecastSnapshot(models.Model):
    """A month's forecast as it was computed, kept to measure its accuracy
    once the month has passed: one row for the company, each sales team and
    each salesperson of a team.
    """

    _name = "crm.forecast.snapshot"
    _description = "Stored Sales Forecast"
    _order = "month desc, level, team_id, user_id"
    _rec_name = "month"

    month = fields.Date(required=True, readonly=True, index=True, help="First day of the month.")
    level = fields.Selection(LEVELS, required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    team_id = fields.Many2one("crm.team", "Sales Team", readonly=True, index=True)
    user_id = fields.Many2one("res.users", "Salesperson", readonly=True, index=True)
    date_computed = fields.Datetime("Computed On", readonly=True)
    has_enough_data = fields.Boolean(
        readonly=True,
        help="False when last month had no valid opportunity expected to close or no "
        "win to measure achievement on: the forecast then shows 0.",
    )

    pipeline_amount = fields.Monetary(
        "Weighted Pipeline",
        readonly=True,
        help="Σ expected revenue × probability of open opportunities expected to close in "
        "the month (加权商机).",
    )
    pipeline_count = fields.Integer("Open Opportunities", readonly=True)
    fresh_amount = fields.Monetary(
        readonly=True,
        help="Expected revenue of the fresh opportunities (鲜活商机): created in the three "
        "calendar months ending with this one, still in progress, expected to close no "
        "later than the end of next month.",
    )
    fresh_count = fields.Integer("Fresh Opportunities", readonly=True)
    conversion_rate_amount = fields.Float(
        "Conversion Rate (Amount)",
        readonly=True,
        aggregator=None,
        help="商机转化率(金额): expected revenue of the won ones ÷ expected revenue of all "
        "opportunities created in the three months and expected to close by the end of "
        "next month (won, lost and open).",
    )
    conversion_rate_count = fields.Float("Conversion Rate (Count)", readonly=True, aggregator=None)
    won_amount = fields.Monetary(readonly=True, help="商机赢: won in the month.")
    won_count = fields.Integer("Won", readonly=True)
    win_contribution = fields.Monetary(
        readonly=True,
        help="商机赢贡献额: actual revenue in this month of the deals won last month.",
    )
    achievement_rate = fields.Float(
        "Commitment Achievement Rate",
        readonly=True,
        aggregator=None,
        help="商机承诺金额达成率: actual revenue in this month of the deals won last month ÷ "
        "their expected revenue.",
    )
    committed_amount = fields.Monetary(
        "Valid Committed Amount",
        readonly=True,
        help="有效商机承诺金额: expected revenue of the valid opportunities (need, key person, "
        "budget) expected to close in the month, still open or won within it.",
    )
    committed_count = fields.Integer("Valid Committed Opportunities", readonly=True)
    valid_conversion_rate_amount = fields.Float(
        "Last Month's Valid Conversion (Amount)",
        readonly=True,
        aggregator=None,
        help="上月有效商机承诺金额转化率: expected revenue of the valid opportunities expected "
        "to close last month that were won ÷ that of all of them.",
    )
    valid_conversion_rate_count = fields.Float(
        "Last Month's Valid Conversion (Count)", readonly=True, aggregator=None
    )
    last_achievement_rate = fields.Float(
        "Last Month's Achievement Rate",
        readonly=True,
        aggregator=None,
        help="上月新签客户承诺金额达成率: the commitment achievement rate measured last month.",
    )
    forecast_revenue = fields.Monetary(
        "New-Signing Revenue Forecast",
        readonly=True,
        help="下月新签客户收入(预测) = valid committed amount × last month's valid conversion "
        "rate (amount) × last month's commitment achievement rate.",
    )
    forecast_count = fields.Float(
        "New-Customer Count Forecast",
        readonly=True,
        digits=(16, 1),
        help="下月新签客户数量(预测) = valid committed opportunities × last month's valid "
        "conversion rate (count).",
    )
    actual_filled = fields.Boolean("Actual Known", readonly=True)
    actual_revenue = fields.Monetary(
        readonly=True,
        help="Actual revenue dated in the month of the deals won in this or the previous "
        "month: the new-signing revenue the forecast predicted.",
    )
    actual_count = fields.Integer("Actual New Customers", readonly=True)
    forecast_error = fields.Monetary(
        readonly=True, help="Actual minus forecast: positive when the forecast was too low."
    )
    forecast_abs_error = fields.Monetary("Absolute Error", readonly=True)
    accuracy = fields.Float(
        readonly=True,
        aggregator="avg",
        help="1 − |actual − forecast| ÷ actual; 100% is a perfect forecast.",
    )

    _month_scope_uniq = models.UniqueIndex(
        "(month, company_id, level, COALESCE(team_id, 0), COALESCE(user_id, 0))",
        "A month has one stored forecast per company, sales team and salesperson.",
    )

    # ------------------------------------------------------------------
    # Storing
    # ------------------------------------------------------------------

    @api.model
    def _store_month(self, month, companies=None):
        """Store (or replace) the forecast of ``month`` for every company, team
        and salesperson: 18 queries and one insert per company.
        """
        Metrics = self.env["crm.forecast.metrics"]
        month = Metrics._parse_month(month)
        companies = companies or self.env["res.company"].search([])
        now = fields.Datetime.now()
        for company in companies:
            metrics = Metrics.with_company(company).with_context(
                tz=company.partner_id.tz or self.env.user.tz or "UTC"
            )
            vals_list = []
            for level, groupby in GROUPBY_OF_LEVEL.items():
                for key, values in metrics._metrics_by(month, groupby).items():
                    scope = dict(zip(groupby, key, strict=True))
                    if level == "user" and not scope.get("user_id"):
                        continue
                    vals = {
                        "month": month,
                        "level": level,
                        "company_id": company.id,
                        "team_id": scope.get("team_id") or False,
                        "user_id": scope.get("user_id") or False,
                        "date_computed": now,
                        "has_enough_data": values["forecast_revenue"] is not None,
                    }
                    vals.update({fname: values[fname] or 0.0 for fname in METRIC_FIELDS})
                    vals_list.append(vals)
            self.search([("month", "=", month), ("company_id", "=", company.id)]).unlink()
            self.create(vals_list)
            self._fill_actuals(month, company)

    @api.model
    def _fill_actuals(self, month, company):
        """Put the actual beside each stored forecast of a month that has
        passed, with its error and accuracy: one UPDATE per company.
        """
        Metrics = self.env["crm.forecast.metrics"]
        month = Metrics._parse_month(month)
        if month + relativedelta(months=1) > fields.Date.context_today(self):
            return
        metrics = Metrics.with_company(company).with_context(
            tz=company.partner_id.tz or self.env.user.tz or "UTC"
        )
        rows = []
        for level, groupby in GROUPBY_OF_LEVEL.items():
            for key, values in metrics._metrics_by(month, groupby).items():
                scope = dict(zip(groupby, key, strict=True))
                rows.append(
                    SQL(
                        "(%s, %s, %s, %s::numeric, %s)",
                        level,
                        scope.get("team_id") or 0,
                        scope.get("user_id") or 0,
                        values["actual_revenue"],
                        values["actual_count"],
                    )
                )
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_forecast_snapshot snap
                   SET actual_filled = TRUE,
                       actual_revenue = act.revenue,
                       actual_count = act.count,
                       forecast_error = act.revenue - snap.forecast_revenue,
                       forecast_abs_error = abs(act.revenue - snap.forecast_revenue),
                       accuracy = CASE WHEN snap.has_enough_data AND act.revenue > 0
                           THEN 1 - abs(act.revenue - snap.forecast_revenue) / act.revenue END
                  FROM (
                       SELECT row.id,
                              COALESCE(val.revenue, 0) AS revenue,
                              COALESCE(val.count, 0) AS count
                         FROM crm_forecast_snapshot row
                    LEFT JOIN (VALUES %(rows)s) AS val(level, team_id, user_id, revenue, count)
                           ON val.level = row.level
                          AND val.team_id = COALESCE(row.team_id, 0)
                          AND val.user_id = COALESCE(row.user_id, 0)
                        WHERE row.month = %(month)s AND row.company_id = %(company)s
                  ) act
                 WHERE act.id = snap.id
                """,
                rows=SQL(", ").join(rows or [SQL("(NULL::varchar, 0, 0, 0::numeric, 0)")]),
                month=month,
                company=company.id,
            )
        )
        self.invalidate_model()

    @api.model
    def _cron_store_forecasts(self):
        """Monthly: store this month's forecast and fill last month's actual."""
        today = fields.Date.context_today(self)
        self._store_month(today)
        previous = today.replace(day=1) - relativedelta(months=1)
        for company in self.env["res.company"].search([]):
            self._fill_actuals(previous, company)

    def action_compute_forecasts(self):
        """Manager button: store this and next month's forecast again (replacing
        them) and fill last month's actual.
        """
        if not self.env.user.has_group("opportunity_registration.group_registration_manager"):
            raise AccessError(self.env._("Only registration managers store forecasts."))
        today = fields.Date.context_today(self)
        snapshots = self.sudo()
        companies = self.env.companies
        snapshots._store_month(today, companies)
        snapshots._store_month(today + relativedelta(months=1), companies)
        for company in companies:
            snapshots._fill_actuals(today.replace(day=1) - relativedelta(months=1), company)
        return {"type": "ir.actions.client", "tag": "soft_reload"}

    def _open_metric(self, metric):
        self.ensure_one()
        return (
            self.env["crm.forecast.metrics"]
            .with_company(self.company_id)
            .action_open_opportunities(
                metric, self.month, self.team_id.id or False, self.user_id.id or False
            )
        )

    def action_open_pipeline(self):
        return self._open_metric("pipeline")

    def action_open_fresh(self):
        return self._open_metric("fresh")

    def action_open_won(self):
        return self._open_metric("won")

    def action_open_committed(self):
        return self._open_metric("committed")
