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
    registration_escalation_days = fields.Integer(
        "Escalate Reviews After (working days)", default=2,
        help="A review pending longer than this is escalated to the next band's approver.",
    )

    _registration_protection_days_positive = models.Constraint(
        "CHECK (registration_protection_days > 0)",
        "The protection period must be at least one day.",
    )

    def _registration_band(self, amount):
        """Band code of an amount in company currency; lower bounds are inclusive."""
        self.ensure_one()
        return self._registration_band_record(amount).code

    def _registration_band_record(self, amount):
        self.ensure_one()
        bands = self.env["crm.lead.registration.band"]._get_company_bands(self)
        return bands.filtered(lambda b: b.lower_bound <= amount)[-1:] or bands[:1]
