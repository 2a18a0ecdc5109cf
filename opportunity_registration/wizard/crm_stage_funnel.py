from datetime import datetime, time, timedelta

from odoo import api, fields, models
from odoo.fields import Domain


class CrmStageFunnel(models.TransientModel):
    """The funnel table (count per stage and pass rate) with the
    measured stage metrics, for a period, a team and a salesperson."""

    _name = "crm.stage.funnel"
    _description = "Stage Funnel"

    date_from = fields.Date("From", help="Count opportunities that entered a stage from this day.")
    date_to = fields.Date("To", help="Count opportunities that entered a stage up to this day.")
    team_id = fields.Many2one("crm.team", "Sales Team")
    user_id = fields.Many2one("res.users", "Salesperson", domain="[('share', '=', False)]")
    line_ids = fields.One2many("crm.stage.funnel.line", "funnel_id", "Funnel", readonly=True)
    history_note = fields.Char(
        "Stage History Status",
        compute="_compute_history_note",
        help="Said while the stage history of the opportunities that existed at "
        "install is still being filled in.",
    )

    def _compute_history_note(self):
        note = self.env["crm.lead.stage.history"]._backfill_note()
        for funnel in self:
            funnel.history_note = note

    def _history_domain(self):
        self.ensure_one()
        domain = Domain("company_id", "in", self.env.companies.ids + [False])
        if self.date_from:
            domain &= Domain("date_in", ">=", datetime.combine(self.date_from, time.min))
        if self.date_to:
            domain &= Domain(
                "date_in", "<", datetime.combine(self.date_to + timedelta(days=1), time.min)
            )
        if self.team_id:
            domain &= Domain("team_id", "=", self.team_id.id)
        if self.user_id:
            domain &= Domain("salesperson_id", "=", self.user_id.id)
        return domain

    def action_compute(self):
        for funnel in self:
            rows = self.env["crm.lead.stage.history"]._get_funnel(funnel._history_domain())
            funnel.line_ids = [fields.Command.clear()] + [
                fields.Command.create(row) for row in rows
            ]
        return True

    def action_refresh(self):
        self.action_compute()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Stage Funnel"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    @api.depends("date_from", "date_to")
    @api.depends_context("lang")
    def _compute_display_name(self):
        for funnel in self:
            funnel.display_name = self.env._("Stage Funnel")

    @api.model
    def action_open(self):
        funnel = self.create({})
        return funnel.action_refresh()


class CrmStageFunnelLine(models.TransientModel):
    _name = "crm.stage.funnel.line"
    _description = "Stage Funnel Line"
    _order = "sequence, id"

    funnel_id = fields.Many2one("crm.stage.funnel", required=True, ondelete="cascade")
    stage_id = fields.Many2one("crm.stage", required=True)
    sequence = fields.Integer(related="stage_id.sequence", store=True)
    entered = fields.Integer(help="Opportunities that entered the stage.")
    conversion_rate = fields.Float(
        "Conversion from Previous Stage (%)",
        help="Share of the previous stage's opportunities that reached this stage.",
    )
    passed = fields.Integer(help="Opportunities that left the stage for a later one.")
    pass_rate = fields.Float(
        "Stage Pass Rate (%)",
        help="Passed / entered: share of the opportunities that moved on to a later stage.",
    )
    won = fields.Integer(help="Opportunities that entered the stage and are won.")
    win_rate = fields.Float("Stage Win Rate (%)", help="Won / entered.")
    target_win_rate = fields.Float("Preset Win Rate (%)")
    conversion_ratio = fields.Float(
        "Reached from Previous",
        compute="_compute_ratios",
        help="Conversion from the previous stage.",
    )
    pass_ratio = fields.Float("Pass Rate", compute="_compute_ratios")
    win_ratio = fields.Float("Win Rate", compute="_compute_ratios")
    target_win_ratio = fields.Float("Target Win Rate", compute="_compute_ratios")
    target_pass_ratio = fields.Float(
        "Target Pass Rate",
        compute="_compute_ratios",
        help="The stage's target pass rate, to compare with the measured one.",
    )
    avg_days = fields.Float("Average Days in Stage")
    median_days = fields.Float("Median Days in Stage")
    overdue = fields.Integer(
        help="Ongoing opportunities in the stage for longer than its planned duration."
    )

    @api.depends(
        "conversion_rate", "pass_rate", "win_rate", "target_win_rate", "stage_id.target_pass_rate"
    )
    def _compute_ratios(self):
        """The rates as fractions, which the list shows with a % sign."""
        for line in self:
            line.target_pass_ratio = line.stage_id.target_pass_rate / 100.0
            line.conversion_ratio = line.conversion_rate / 100.0
            line.pass_ratio = line.pass_rate / 100.0
            line.win_ratio = line.win_rate / 100.0
            line.target_win_ratio = line.target_win_rate / 100.0
