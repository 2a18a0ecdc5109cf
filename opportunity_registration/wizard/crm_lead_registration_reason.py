from odoo import api, fields, models
from odoo.exceptions import UserError

# a reason is at most this long (crm.lead.registration._clean_text's default)
REASON_LIMIT = 2000


def clean_text_vals(model, vals_list, limit=REASON_LIMIT, names=("reason",), required=None):
    """Check the texts a wizard is created or written with, before anything is
    stored: text only (no dict, list or number), at most ``limit`` characters,
    control characters dropped. The same rules as the methods the wizard
    calls, so a client writing the wizard directly meets them too (SPEC
    §9.11). ``required(env)``, if given, is the message for no text at all
    (None or False); a blank text is left for the wizard's action to refuse."""
    Registration = model.env["crm.lead.registration"]
    for vals in vals_list:
        for name in names:
            if name in vals:
                if required and vals[name] in (None, False):
                    raise UserError(required(model.env))
                cleaned = Registration._clean_text(vals[name], limit=limit)
                if cleaned:
                    vals[name] = cleaned
    return vals_list


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

    @api.model_create_multi
    def create(self, vals_list):
        return super().create(clean_text_vals(self, vals_list))

    def write(self, vals):
        return super().write(clean_text_vals(self, [dict(vals)])[0])

    def action_confirm(self):
        self.ensure_one()
        method = getattr(self.lead_id, "action_registration_%s" % self.action)
        method(reason=self.reason)
        return {"type": "ir.actions.act_window_close"}
