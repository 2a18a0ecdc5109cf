from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    registration_require_contact = fields.Boolean(
        related="company_id.registration_require_contact", readonly=False
    )
    registration_require_need = fields.Boolean(
        related="company_id.registration_require_need", readonly=False
    )
    registration_require_budget = fields.Boolean(
        related="company_id.registration_require_budget", readonly=False
    )
    registration_require_deadline = fields.Boolean(
        related="company_id.registration_require_deadline", readonly=False
    )
    registration_require_key_person = fields.Boolean(
        related="company_id.registration_require_key_person", readonly=False
    )
    registration_require_source = fields.Boolean(
        related="company_id.registration_require_source", readonly=False
    )
    registration_require_category = fields.Boolean(
        related="company_id.registration_require_category", readonly=False
    )
    registration_protection_days = fields.Integer(
        related="company_id.registration_protection_days", readonly=False
    )
    registration_currency_id = fields.Many2one(related="company_id.currency_id")
    registration_band_ordinary = fields.Monetary(
        currency_field="registration_currency_id", related="company_id.registration_band_ordinary", readonly=False
    )
    registration_band_important = fields.Monetary(
        currency_field="registration_currency_id", related="company_id.registration_band_important", readonly=False
    )
    registration_band_major = fields.Monetary(
        currency_field="registration_currency_id", related="company_id.registration_band_major", readonly=False
    )


class ResConfigSettingsStageControl(models.TransientModel):
    """Stage control settings (issue 6), kept apart for an easy merge."""

    _inherit = "res.config.settings"

    stage_probability_source = fields.Selection(
        [
            ("predictive", "Predictive lead scoring (Odoo)"),
            ("stage", "Default win probability of the stage"),
        ],
        "Probability Source", default="predictive", required=True,
        config_parameter="opportunity_registration.probability_source",
        help="Where the win probability of an opportunity comes from.",
    )
    stage_probability_locked = fields.Boolean(
        "Lock Stage Probability",
        config_parameter="opportunity_registration.probability_locked",
        help="Only sales administrators may change a probability that comes from the stage.",
    )
    stage_gate_allow_skip = fields.Boolean(
        related="company_id.stage_gate_allow_skip", readonly=False
    )
    stage_gate_allow_back = fields.Boolean(
        related="company_id.stage_gate_allow_back", readonly=False
    )

    def action_load_standard_stages(self):
        self.env["crm.stage"].action_load_standard_stages()
        return self.env["ir.actions.actions"]._for_xml_id("crm.crm_stage_action")
