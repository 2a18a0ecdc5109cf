from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL, ormcache

from .crm_lead_forecast import FORECAST_CATEGORIES

LIFECYCLE_PERIODS = [
    ("identification", "Identification"),
    ("development", "Development"),
    ("maturity", "Maturity"),
    ("harvest", "Harvest"),
]

# The standard stage model (A-F). Loaded on demand with an XML id per stage
# and criterion, so their translations come from the module's .po files.
STANDARD_STAGES = [
    {
        "code": "A",
        "name": "A Understand",
        "win_probability": 10.0,
        "lifecycle_period": "identification",
        "stage_goal": "Understand the opportunity: who the customer is and what they need.",
        "criteria": ["Customer need identified", "Contact person known"],
    },
    {
        "code": "B",
        "name": "B Confirm",
        "win_probability": 25.0,
        "lifecycle_period": "development",
        "stage_goal": "Confirm the opportunity: need, budget, decision maker and timing.",
        "criteria": ["Budget confirmed", "Decision maker identified"],
    },
    {
        "code": "C",
        "name": "C Solution",
        "win_probability": 50.0,
        "planned_duration": 10,
        "target_pass_rate": 60.0,
        "lifecycle_period": "development",
        "stage_goal": "Prove the solution: the customer agrees it answers the need.",
        "criteria": ["Solution presented", "Customer accepted the solution"],
    },
    {
        "code": "D",
        "name": "D Negotiation",
        "win_probability": 75.0,
        "lifecycle_period": "maturity",
        "stage_goal": "Negotiate price and terms.",
        "criteria": ["Quotation sent", "Terms agreed"],
    },
    {
        "code": "E",
        "name": "E Closing",
        "win_probability": 90.0,
        "lifecycle_period": "maturity",
        "stage_goal": "Close the deal: the contract is signed.",
        "criteria": ["Contract signed"],
    },
    {
        "code": "F",
        "name": "F Handover & Payment",
        "win_probability": 100.0,
        "is_won": True,
        "lifecycle_period": "harvest",
        "stage_goal": "Hand the customer over to delivery and collect the payment.",
        "criteria": [],
    },
]


class CrmStage(models.Model):
    _inherit = "crm.stage"

    # ------------------------------------------------------------
    # Stage control parameters (阶段控制参数)
    # ------------------------------------------------------------
    stage_goal = fields.Text(translate=True, help="What this stage must achieve.")
    stage_content = fields.Text(
        "Main Content",
        translate=True,
        help="Main content and key actions of the sales team in this stage.",
    )
    diagnosis_key = fields.Text(
        "Key Issues to Diagnose",
        translate=True,
        help="What a manager checks to diagnose an opportunity in this stage.",
    )
    diagnostic_indicators = fields.Text(
        translate=True,
        help="Indicators used to judge the health of opportunities in this stage.",
    )
    criterion_ids = fields.One2many(
        "crm.stage.criterion",
        "stage_id",
        "Exit Criteria",
        help="Validation marks: what must be true before an opportunity leaves "
        "this stage for a later one.",
    )
    gate_field_ids = fields.Many2many(
        "ir.model.fields",
        "crm_stage_gate_field_rel",
        "stage_id",
        "field_id",
        string="Fields Required to Exit",
        domain="[('model', '=', 'crm.lead'), ('store', '=', True)]",
        help="Opportunity fields that must be filled before it leaves this stage for a later one.",
    )
    win_probability = fields.Float(
        "Default Win Probability (%)",
        default=0.0,
        help="Preset win probability of an opportunity in this stage. Used as the "
        "opportunity's probability when the probability source is the stage.",
    )
    planned_duration = fields.Integer(
        "Planned Duration (days)",
        default=0,
        help="Days an opportunity is expected to stay in this stage; 0 means no "
        "limit. Opportunities staying longer are overdue.",
    )
    target_pass_rate = fields.Float(
        "Target Pass Rate (%)",
        default=0.0,
        help="Expected share of the opportunities entering this stage that move on "
        "to a later stage.",
    )
    target_win_rate = fields.Float(
        "Target Win Rate (%)",
        compute="_compute_target_win_rate",
        store=True,
        readonly=False,
        precompute=True,
        help="Preset stage win rate: expected share of the opportunities entering "
        "this stage that are won. Defaults to the win probability.",
    )
    participants = fields.Char(translate=True, help="Roles taking part in this stage.")
    lifecycle_period = fields.Selection(LIFECYCLE_PERIODS)
    forecast_category = fields.Selection(
        FORECAST_CATEGORIES,
        compute="_compute_forecast_category",
        store=True,
        readonly=False,
        precompute=True,
        help="Forecast category of the opportunities in this stage (reps may override it "
        "on an opportunity unless the administrator locks it). Won opportunities are "
        "always Closed, lost ones Omitted.",
    )
    standard_code = fields.Char(
        "Standard Stage Code",
        readonly=True,
        copy=False,
        help="Letter of the standard stage model (A-F) this stage was created from.",
    )

    _win_probability_range = models.Constraint(
        "CHECK (win_probability >= 0 AND win_probability <= 100)",
        "The default win probability of a stage must be between 0% and 100%.",
    )
    _planned_duration_positive = models.Constraint(
        "CHECK (planned_duration >= 0)",
        "The planned duration of a stage cannot be negative.",
    )
    _target_pass_rate_range = models.Constraint(
        "CHECK (target_pass_rate >= 0 AND target_pass_rate <= 100)",
        "The target pass rate of a stage must be between 0% and 100%.",
    )
    _target_win_rate_range = models.Constraint(
        "CHECK (target_win_rate >= 0 AND target_win_rate <= 100)",
        "The target win rate of a stage must be between 0% and 100%.",
    )

    @api.depends("win_probability")
    def _compute_target_win_rate(self):
        for stage in self:
            stage.target_win_rate = stage.win_probability

    @api.depends("is_won")
    def _compute_forecast_category(self):
        for stage in self:
            if stage.is_won:
                stage.forecast_category = "closed"
            elif stage.forecast_category in (False, "closed"):
                stage.forecast_category = "pipeline"

    def _sync_lead_forecast_category(self):
        """The open opportunities of these stages without an override take the
        stage's new category: one UPDATE, instead of recomputing every
        opportunity of the stage through the ORM.
        """
        self.flush_recordset(["forecast_category"])
        Lead = self.env["crm.lead"]
        Lead.flush_model(["stage_id", "won_status", "forecast_category_override"])
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead lead
                   SET forecast_category = stage.forecast_category
                  FROM crm_stage stage
                 WHERE stage.id IN %(stages)s AND lead.stage_id = stage.id
                   AND lead.won_status = 'pending' AND lead.forecast_category_override IS NULL
                   AND lead.forecast_category IS DISTINCT FROM stage.forecast_category
                """,
                stages=tuple(self.ids),
            )
        )
        Lead.invalidate_model(["forecast_category"])

    @api.constrains("win_probability", "planned_duration", "target_pass_rate", "target_win_rate")
    def _check_stage_control_values(self):
        # Same rules as the SQL constraints, checked first for a clear message
        # that names the stage.
        for stage in self:
            for fname in ("win_probability", "target_pass_rate", "target_win_rate"):
                if not 0 <= stage[fname] <= 100:
                    raise ValidationError(
                        self.env._(
                            "%(stage)s: %(field)s must be between 0 and 100 (got %(value)s).",
                            stage=stage.name,
                            field=self._fields[fname].get_description(self.env)["string"],
                            value=stage[fname],
                        )
                    )
            if stage.planned_duration < 0:
                raise ValidationError(
                    self.env._(
                        "%(stage)s: the planned duration cannot be negative (got %(value)s days).",
                        stage=stage.name,
                        value=stage.planned_duration,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        stages = super().create(vals_list)
        self.env.registry.clear_cache()  # _gates_configured
        return stages

    def write(self, vals):
        result = super().write(vals)
        if {"criterion_ids", "gate_field_ids", "sequence", "team_ids"} & vals.keys():
            self.env.registry.clear_cache()  # _gate_spec, _gates_configured
        if {"forecast_category", "is_won"} & vals.keys():
            self._sync_lead_forecast_category()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    @api.model
    @ormcache("company_id")
    def _gates_configured(self, company_id):
        """``(skipping allowed, ids of stages with exit criteria or required
        fields)`` for a company, cached: every new opportunity is checked
        against them, and stock CRM without gates pays nothing."""
        company = self.env["res.company"].browse(company_id).sudo()
        stages = self.sudo().search([])
        gated = stages.filtered(lambda stage: stage.criterion_ids or stage.gate_field_ids)
        return company.stage_gate_allow_skip, tuple(gated.ids)

    @api.model
    @ormcache("stage_id", "self.env.lang")
    def _gate_spec(self, stage_id):
        """A stage's exit criteria ``((id, name), ...)`` and required fields
        ``((name, label), ...)``, in the user's language, cached.

        The opportunity form shows what is missing to leave the stage on every
        change; gates change a few times a year.
        """
        stage = self.browse(stage_id).sudo()
        criteria = stage.criterion_ids.sorted(lambda c: (c.sequence, c.id))
        return (
            tuple((criterion.id, criterion.name) for criterion in criteria),
            tuple((field.name, field.field_description) for field in stage.gate_field_ids),
        )

    @api.constrains("gate_field_ids")
    def _check_gate_fields(self):
        for stage in self:
            wrong = stage.gate_field_ids.filtered(
                lambda f: f.model != "crm.lead" or not f.store or f.ttype in ("one2many", "binary")
            )
            if wrong:
                raise ValidationError(
                    self.env._(
                        "%(stage)s: this gate can never be met, because these fields "
                        "cannot be filled on an opportunity: %(fields)s.",
                        stage=stage.name,
                        fields=", ".join(wrong.mapped("field_description")),
                    )
                )

    def _stage_key(self):
        """Position in the pipeline: stages are ordered by sequence, then id."""
        self.ensure_one()
        return (self.sequence, self.id)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    @api.model
    def action_load_standard_stages(self):
        """Create the standard stages A-F that do not exist yet.

        Existing stages are left untouched; a standard stage already loaded
        (same code) is not created twice. Each stage and criterion gets an XML
        id, so the installed languages' texts come from the .po files, and a
        language installed later translates them too.
        """
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(
                self.env._("Only sales administrators can load the standard stage model.")
            )
        existing = set(self.search([("standard_code", "!=", False)]).mapped("standard_code"))
        todo = [std for std in STANDARD_STAGES if std["code"] not in existing]
        if not todo:
            return self.browse()
        base = max(self.search([]).mapped("sequence") or [0]) + 1
        xmlid = "opportunity_registration.standard_stage_%s"
        stages = (
            self.sudo()
            .with_context(lang="en_US")
            ._load_records(
                [
                    {
                        "xml_id": xmlid % std["code"].lower(),
                        "noupdate": True,
                        "values": {
                            "name": std["name"],
                            "standard_code": std["code"],
                            "sequence": base + 10 * index,
                            "win_probability": std["win_probability"],
                            "target_win_rate": std["win_probability"],
                            "planned_duration": std.get("planned_duration", 0),
                            "target_pass_rate": std.get("target_pass_rate", 0.0),
                            "is_won": std.get("is_won", False),
                            "fold": std.get("is_won", False),
                            "lifecycle_period": std["lifecycle_period"],
                            "stage_goal": std["stage_goal"],
                        },
                    }
                    for index, std in enumerate(todo)
                ]
            )
        )
        self.env["crm.stage.criterion"].sudo().with_context(lang="en_US")._load_records(
            [
                {
                    "xml_id": "%s_criterion_%d" % (xmlid % std["code"].lower(), seq),
                    "noupdate": True,
                    "values": {"stage_id": stage.id, "name": name, "sequence": seq},
                }
                for stage, std in zip(stages, todo, strict=True)
                for seq, name in enumerate(std["criteria"], start=1)
            ]
        )
        langs = [code for code, _name in self.env["res.lang"].get_installed() if code != "en_US"]
        if langs:
            self.env.flush_all()
            self.env["ir.module.module"].sudo()._load_module_terms(
                ["opportunity_registration"], langs
            )
            self.env.invalidate_all()
        self.env.registry.clear_cache()  # _gate_spec
        return self.browse(stages.ids)

    def action_load_standard_stages_button(self):
        self.action_load_standard_stages()
        return {"type": "ir.actions.client", "tag": "soft_reload"}
