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
