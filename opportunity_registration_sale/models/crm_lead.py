from odoo import models
from odoo.fields import Domain


class CrmLead(models.Model):
    _inherit = "crm.lead"

    def write(self, vals):
        """A won opportunity takes the actual revenue of its orders confirmed before the win."""
        was_won = (
            {lead.id for lead in self if lead.won_status == "won"}
            if vals.keys() & {"stage_id", "probability", "active"}
            else None
        )
        result = super().write(vals)
        if was_won is not None:
            newly_won = self.filtered(
                lambda lead: lead.won_status == "won" and lead.id not in was_won
            )
            if newly_won:
                orders = (
                    self.env["sale.order"]
                    .sudo()
                    .search(
                        Domain("opportunity_id", "in", newly_won.ids) & Domain("state", "=", "sale")
                    )
                )
                orders._fill_actual_revenue()
        return result
