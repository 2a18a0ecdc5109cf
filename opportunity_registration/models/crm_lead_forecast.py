from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column

from .crm_lead_registration import BACKFILL_BATCH

FORECAST_CATEGORIES = [
    ("pipeline", "Pipeline"),
    ("best_case", "Best Case"),
    ("commit", "Commit"),
    ("closed", "Closed"),
    ("omitted", "Omitted"),
]
LOCK_PARAM = "opportunity_registration.forecast_category_locked"
CATEGORY_BACKFILL_PARAM = "opportunity_registration.forecast_category_backfill_below"


class CrmLead(models.Model):
    """Forecast category and actual revenue of an opportunity."""

    _inherit = "crm.lead"

    forecast_category_override = fields.Selection(
        FORECAST_CATEGORIES,
        help="The salesperson's own forecast category for this opportunity, instead of "
        "its stage's (unless the administrator locks categories to stages).",
    )
    forecast_category = fields.Selection(
        FORECAST_CATEGORIES,
        compute="_compute_forecast_category",
        store=True,
        help="Won opportunities are Closed, lost ones Omitted; otherwise the "
        "salesperson's override or the stage's category.",
    )
    forecast_category_locked = fields.Boolean(compute="_compute_forecast_category_locked")
    revenue_ids = fields.One2many("crm.lead.revenue", "lead_id", "Actual Revenue Lines")
    actual_revenue = fields.Monetary(
        currency_field="company_currency",
        compute="_compute_actual_revenue",
        help="Revenue after discounts, taxes excluded, recorded on this won opportunity "
        "(折后实际收入), in company currency.",
    )

    # Covering indexes: each monthly metric reads one month of one of these
    # (index-only scans), never the opportunities' rows.
    _forecast_deadline_index = models.Index(
        "(date_deadline) INCLUDE (company_id, team_id, user_id, active, won_status, "
        "is_valid_opportunity, date_closed, expected_revenue, prorated_revenue) "
        "WHERE type = 'opportunity'"
    )
    _forecast_closed_index = models.Index(
        "(date_closed) INCLUDE (id, company_id, team_id, user_id, won_status, expected_revenue) "
        "WHERE type = 'opportunity' AND date_closed IS NOT NULL"
    )
    _forecast_created_index = models.Index(
        "(create_date) INCLUDE (company_id, team_id, user_id, active, won_status, "
        "date_deadline, expected_revenue) WHERE type = 'opportunity'"
    )
    # The same per sales team: a team's month is a short range of these.
    _forecast_team_deadline_index = models.Index(
        "(team_id, date_deadline) INCLUDE (company_id, user_id, active, won_status, "
        "is_valid_opportunity, date_closed, expected_revenue, prorated_revenue) "
        "WHERE type = 'opportunity'"
    )
    _forecast_team_closed_index = models.Index(
        "(team_id, date_closed) INCLUDE (id, company_id, user_id, won_status, expected_revenue) "
        "WHERE type = 'opportunity' AND date_closed IS NOT NULL"
    )
    _forecast_team_created_index = models.Index(
        "(team_id, create_date) INCLUDE (company_id, user_id, active, won_status, "
        "date_deadline, expected_revenue) WHERE type = 'opportunity'"
    )

    def _auto_init(self):
        """Add the forecast category column without rewriting crm_lead: the
        opportunities that exist then get theirs from a scheduled action, in
        batches (``_cron_backfill_forecast_category``).
        """
        cr = self.env.cr
        if not column_exists(cr, "crm_lead", "forecast_category"):
            create_column(cr, "crm_lead", "forecast_category", "varchar")
            cr.execute(
                SQL(
                    """
                    INSERT INTO ir_config_parameter (key, value, create_date, write_date)
                    SELECT %s, (COALESCE(MAX(id), 0) + 1)::varchar,
                           now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
                      FROM crm_lead
                    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
                    """,
                    CATEGORY_BACKFILL_PARAM,
                )
            )
        return super()._auto_init()

    @api.model
    def _cron_backfill_forecast_category(self, batch_size=BACKFILL_BATCH):
        """Fill the forecast category of the opportunities that existed before
        the install, downwards by id range, one transaction per range.
        """
        Param = self.env["ir.config_parameter"].sudo()
        below = int(Param.get_param(CATEGORY_BACKFILL_PARAM, 0))
        while below > 0:
            self.flush_model()
            low = max(below - batch_size, 0)
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE crm_lead lead
                       SET forecast_category = CASE
                           WHEN lead.won_status = 'won' THEN 'closed'
                           WHEN lead.won_status = 'lost' THEN 'omitted'
                           ELSE COALESCE(lead.forecast_category_override, stage.forecast_category,
                                         'pipeline') END
                      FROM crm_lead base
                 LEFT JOIN crm_stage stage ON stage.id = base.stage_id
                     WHERE base.id = lead.id AND lead.id >= %s AND lead.id < %s
                       AND lead.forecast_category IS NULL
                    """,
                    low,
                    below,
                )
            )
            below = low
            Param.set_param(CATEGORY_BACKFILL_PARAM, below)
            self.invalidate_model(["forecast_category"])
            remaining = (below + batch_size - 1) // batch_size
            if not self.env["ir.cron"]._commit_progress(1, remaining=remaining):
                break
        return below

    # Not on stage_id.forecast_category: a stage's new category reaches its
    # opportunities in one UPDATE (crm.stage._sync_lead_forecast_category).
    @api.depends("stage_id", "forecast_category_override", "won_status")
    def _compute_forecast_category(self):
        for lead in self:
            if lead.won_status == "won":
                lead.forecast_category = "closed"
            elif lead.won_status == "lost":
                lead.forecast_category = "omitted"
            else:
                lead.forecast_category = (
                    lead.forecast_category_override or lead.stage_id.forecast_category or "pipeline"
                )

    @api.depends_context("uid")
    def _compute_forecast_category_locked(self):
        locked = self._forecast_category_locked() and not self.env.user.has_group(
            "opportunity_registration.group_registration_manager"
        )
        self.forecast_category_locked = locked

    @api.depends("revenue_ids.amount")
    def _compute_actual_revenue(self):
        rows = self.env["crm.lead.revenue"]._read_group(
            [("lead_id", "in", self._origin.ids)], ["lead_id"], ["amount:sum"]
        )
        totals = {lead.id: amount for lead, amount in rows}
        for lead in self:
            lead.actual_revenue = totals.get(lead._origin.id, 0.0)

    def action_open_actual_revenue(self):
        """The actual revenue lines of this won opportunity, editable in their
        own list (the form reads none of them)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Actual Revenue of %(name)s", name=self.name),
            "res_model": "crm.lead.revenue",
            "view_mode": "list",
            "views": [
                (self.env.ref("opportunity_registration.crm_lead_revenue_view_list").id, "list")
            ],
            "domain": [("lead_id", "=", self.id)],
            "context": {"default_lead_id": self.id},
        }

    @api.model
    def _forecast_category_locked(self):
        return bool(self.env["ir.config_parameter"].sudo().get_param(LOCK_PARAM))

    def _check_forecast_override_allowed(self, vals_list):
        if not any(vals.get("forecast_category_override") for vals in vals_list):
            return
        if self.env.su or not self._forecast_category_locked():
            return
        if self.env.user.has_group("opportunity_registration.group_registration_manager"):
            return
        raise UserError(
            self.env._(
                "Forecast categories follow the stages: the administrator has locked them, "
                "so an opportunity's category cannot be overridden."
            )
        )
