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
