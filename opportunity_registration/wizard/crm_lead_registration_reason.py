from odoo import fields, models


class CrmLeadRegistrationReason(models.TransientModel):
    """Asks why before a registration is withdrawn, released or rejected."""

    _name = "crm.lead.registration.reason"
    _description = "Registration Decision Reason"

    lead_id = fields.Many2one("crm.lead", "Opportunity", required=True, readonly=True)
    action = fields.Selection(
        [
            ("withdraw", "Withdraw Registration"),
            ("release", "Release Customer"),
            ("reject", "Reject Registration"),
            ("request_extension", "Request Extension"),
        ],
        required=True,
        readonly=True,
    )
    reason = fields.Text()

    def action_confirm(self):
        self.ensure_one()
        method = getattr(self.lead_id, "action_registration_%s" % self.action)
        method(reason=self.reason)
        return {"type": "ir.actions.act_window_close"}
