from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.crm_lead_stage import OVERRIDE_CONTEXT_KEY
from .crm_lead_registration_reason import clean_text_vals


class CrmLeadStageOverride(models.TransientModel):
    """A sales administrator moves opportunities past an unmet stage gate."""

    _name = "crm.lead.stage.override"
    _description = "Stage Gate Override"

    lead_ids = fields.Many2many("crm.lead", string="Opportunities", required=True)
    stage_id = fields.Many2one("crm.stage", "Move To", required=True)
    reason = fields.Text(required=True)

    @api.model_create_multi
    def create(self, vals_list):
        return super().create(clean_text_vals(self, vals_list, required=self._reason_missing))

    def write(self, vals):
        return super().write(clean_text_vals(self, [dict(vals)], required=self._reason_missing)[0])

    @api.model
    def _reason_missing(self, env):
        return env._("Give the reason for overriding the stage gate.")

    def action_confirm(self):
        self.ensure_one()
        reason = self.env["crm.lead.registration"]._clean_text(self.reason)
        if not reason:
            raise UserError(self._reason_missing(self.env))
        self.lead_ids.with_context(**{OVERRIDE_CONTEXT_KEY: reason}).write(
            {"stage_id": self.stage_id.id}
        )
        # refresh the pipeline or form the refused move came from
        return {"type": "ir.actions.client", "tag": "soft_reload"}
