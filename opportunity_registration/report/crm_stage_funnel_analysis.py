from odoo import fields, models, tools
from odoo.tools import SQL


class CrmStageFunnelAnalysis(models.Model):
    """Stage stays with their outcome, for the funnel pivot and graph.

    Averages of the 0/100 columns give rates for any grouping (stage, period,
    team, salesperson): average pass rate = share of the opportunities
    entering the stage that moved on to a later one, average win rate = share
    of them that are won.
    """

    _name = "crm.stage.funnel.analysis"
    _description = "Stage Funnel Analysis"
    _auto = False
    _rec_name = "stage_id"
    _order = "date_in desc"

    lead_id = fields.Many2one("crm.lead", "Opportunity", readonly=True)
    stage_id = fields.Many2one("crm.stage", readonly=True)
    team_id = fields.Many2one("crm.team", "Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", "Salesperson", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    lifecycle_period = fields.Selection(related="stage_id.lifecycle_period", readonly=True)
    date_in = fields.Datetime("Entered On", readonly=True)
    date_out = fields.Datetime("Left On", readonly=True)
    entered_count = fields.Integer("Entered", readonly=True)
    passed_count = fields.Integer("Passed", readonly=True)
    won_count = fields.Integer("Won", readonly=True)
    overdue_count = fields.Integer("Overdue", readonly=True)
    pass_rate = fields.Float("Stage Pass Rate (%)", aggregator="avg", readonly=True)
    win_rate = fields.Float("Stage Win Rate (%)", aggregator="avg", readonly=True)
    target_win_rate = fields.Float("Preset Win Rate (%)", aggregator="avg", readonly=True)
    days_in_stage = fields.Float("Days in Stage", aggregator="avg", readonly=True)

    def _query(self):
        return SQL("""
            SELECT h.id,
                   h.lead_id,
                   h.stage_id,
                   h.team_id,
                   h.salesperson_id AS user_id,
                   h.company_id,
                   h.date_in,
                   h.date_out,
                   h.is_first_entry::int AS entered_count,
                   (h.is_first_entry AND h.stage_passed)::int AS passed_count,
                   (h.is_first_entry AND h.lead_won)::int AS won_count,
                   (h.date_out IS NULL AND h.lead_open AND s.planned_duration > 0
                    AND h.date_in < (now() AT TIME ZONE 'UTC') - make_interval(days => s.planned_duration)
                   )::int AS overdue_count,
                   -- rates over first entries only (averages skip NULL)
                   CASE WHEN h.is_first_entry
                        THEN CASE WHEN h.stage_passed THEN 100.0 ELSE 0.0 END END AS pass_rate,
                   CASE WHEN h.is_first_entry
                        THEN CASE WHEN h.lead_won THEN 100.0 ELSE 0.0 END END AS win_rate,
                   s.target_win_rate,
                   CASE WHEN h.date_out IS NOT NULL THEN h.days_in_stage END AS days_in_stage
              FROM crm_lead_stage_history h
              JOIN crm_stage s ON s.id = h.stage_id
        """)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )
