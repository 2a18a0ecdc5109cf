from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    registration_require_contact = fields.Boolean("Require Contact", default=True)
    registration_require_need = fields.Boolean("Require Need Description", default=True)
    registration_require_budget = fields.Boolean("Require Budget", default=True)
    registration_require_deadline = fields.Boolean("Require Expected Closing", default=True)
    registration_require_key_person = fields.Boolean("Require Key Person")
    registration_require_source = fields.Boolean("Require Source")
    registration_require_category = fields.Boolean("Require Category")
    registration_protection_days = fields.Integer("Protection Period (days)", default=90)
    registration_band_ordinary = fields.Monetary(
        "Ordinary Band From", currency_field="currency_id", default=20000.0
    )
    registration_band_important = fields.Monetary(
        "Important Band From", currency_field="currency_id", default=50000.0
    )
    registration_band_major = fields.Monetary(
        "Major Band From", currency_field="currency_id", default=200000.0
    )

    _registration_protection_days_positive = models.Constraint(
        "CHECK (registration_protection_days > 0)",
        "The protection period must be at least one day.",
    )
    _registration_bands_ordered = models.Constraint(
        "CHECK (0 <= registration_band_ordinary"
        " AND registration_band_ordinary <= registration_band_important"
        " AND registration_band_important <= registration_band_major)",
        "Approval bands must start at 0 or more and be in increasing order.",
    )

    def _registration_band(self, amount):
        """Band of an amount in company currency; lower bounds are inclusive."""
        self.ensure_one()
        if amount >= self.registration_band_major:
            return "major"
        if amount >= self.registration_band_important:
            return "important"
        if amount >= self.registration_band_ordinary:
            return "ordinary"
        return "small"


class ResCompanyStageControl(models.Model):
    """Stage control settings (issue 6), kept apart for an easy merge."""

    _inherit = "res.company"

    stage_gate_allow_skip = fields.Boolean(
        "Allow Skipping Stages", default=True,
        help="Opportunities may jump over stages when they move forward.",
    )
    stage_gate_allow_back = fields.Boolean(
        "Allow Going Back", default=True,
        help="Opportunities may move back to an earlier stage.",
    )
