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
    registration_escalation_days = fields.Integer(
        related="company_id.registration_escalation_days", readonly=False
    )
    registration_scope = fields.Selection(related="company_id.registration_scope", readonly=False)
    registration_free_mail_domains = fields.Text(related="company_id.registration_free_mail_domains", readonly=False)
    registration_renew_on_activity = fields.Boolean(related="company_id.registration_renew_on_activity", readonly=False)
    registration_renew_on_note = fields.Boolean(related="company_id.registration_renew_on_note", readonly=False)
    registration_renew_on_meeting = fields.Boolean(related="company_id.registration_renew_on_meeting", readonly=False)
    registration_renewal_days = fields.Integer(related="company_id.registration_renewal_days", readonly=False)
    registration_max_days = fields.Integer(related="company_id.registration_max_days", readonly=False)
    registration_neglect_days = fields.Integer(related="company_id.registration_neglect_days", readonly=False)
    registration_warning_days = fields.Integer(related="company_id.registration_warning_days", readonly=False)
    registration_claim_cooldown_days = fields.Integer(related="company_id.registration_claim_cooldown_days", readonly=False)
    registration_max_active = fields.Integer(related="company_id.registration_max_active", readonly=False)
