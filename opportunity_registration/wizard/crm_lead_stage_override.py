from odoo import fields, models
from odoo.exceptions import UserError

from ..models.crm_lead_stage import OVERRIDE_CONTEXT_KEY


class CrmLeadStageOverride(models.TransientModel):
    """A sales administrator moves opportunities past an unmet stage gate."""

    _name = "crm.lead.stage.override"
    _description = "Stage Gate Override"

    lead_ids = fields.Many2many("crm.lead", string="Opportunities", required=True)
    stage_id = fields.Many2one("crm.stage", "Move To", required=True)
    reason = fields.Text(required=True)

    def action_confirm(self):
        self.ensure_one()
        if not (self.reason or "").strip():
            raise UserError(self.env._("Give the reason for overriding the stage gate."))
        self.lead_ids.with_context(**{OVERRIDE_CONTEXT_KEY: self.reason.strip()}).write(
            {"stage_id": self.stage_id.id}
        )
        # refresh the pipeline or form the refused move came from
        return {"type": "ir.actions.client", "tag": "soft_reload"}
