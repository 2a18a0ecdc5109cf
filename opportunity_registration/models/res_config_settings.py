from odoo import api, fields, models


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
    registration_escalation_days = fields.Integer(
        related="company_id.registration_escalation_days", readonly=False
    )
    registration_scope = fields.Selection(related="company_id.registration_scope", readonly=False)
    registration_free_mail_domains = fields.Text(
        related="company_id.registration_free_mail_domains", readonly=False
    )
    registration_renew_on_activity = fields.Boolean(
        related="company_id.registration_renew_on_activity", readonly=False
    )
    registration_renew_on_note = fields.Boolean(
        related="company_id.registration_renew_on_note", readonly=False
    )
    registration_renew_on_meeting = fields.Boolean(
        related="company_id.registration_renew_on_meeting", readonly=False
    )
    registration_renewal_days = fields.Integer(
        related="company_id.registration_renewal_days", readonly=False
    )
    registration_max_days = fields.Integer(
        related="company_id.registration_max_days", readonly=False
    )
    registration_neglect_days = fields.Integer(
        related="company_id.registration_neglect_days", readonly=False
    )
    registration_warning_days = fields.Integer(
        related="company_id.registration_warning_days", readonly=False
    )
    registration_claim_cooldown_days = fields.Integer(
        related="company_id.registration_claim_cooldown_days", readonly=False
    )
    registration_max_active = fields.Integer(
        related="company_id.registration_max_active", readonly=False
    )
    registration_pending_days = fields.Integer(
        related="company_id.registration_pending_days", readonly=False
    )
    registration_won_keep_days = fields.Integer(
        related="company_id.registration_won_keep_days", readonly=False
    )
    stage_probability_source = fields.Selection(
        [
            ("predictive", "Predictive lead scoring (Odoo)"),
            ("stage", "Default win probability of the stage"),
        ],
        "Probability Source",
        default="predictive",
        required=True,
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

    forecast_category_locked = fields.Boolean(
        "Lock Forecast Categories",
        config_parameter="opportunity_registration.forecast_category_locked",
        help="Opportunities take their stage's forecast category; salespersons cannot override it.",
    )
    compliance_late_stage_id = fields.Many2one(
        related="company_id.compliance_late_stage_id", readonly=False
    )
    compliance_late_days = fields.Integer(related="company_id.compliance_late_days", readonly=False)
    compliance_monthly_quota = fields.Integer(
        related="company_id.compliance_monthly_quota", readonly=False
    )
    registration_channel_manager_id = fields.Many2one(
        related="company_id.registration_channel_manager_id", readonly=False
    )

    def action_load_standard_stages(self):
        self.env["crm.stage"].action_load_standard_stages()
        return self.env["ir.actions.actions"]._for_xml_id("crm.crm_stage_action")

    registration_band_warning = fields.Text(
        compute="_compute_registration_band_warning",
        help="Bands whose team role is empty in some sales teams.",
    )

    @api.depends("company_id")
    def _compute_registration_band_warning(self):
        Band = self.env["crm.lead.registration.band"].sudo()
        for settings in self:
            bands = Band._get_company_bands(settings.company_id)
            settings.registration_band_warning = "\n".join(
                "%s: %s" % (band._label(), band.missing_role_warning)
                for band in bands
                if band.missing_role_warning
            )
