from odoo import fields, models

# The roles bands route reviews to (the form's cached preview of approvers).
ROLE_FIELDS = {"user_id", "deputy_manager_id", "branch_manager_id", "active"}


class CrmTeam(models.Model):
    _inherit = "crm.team"

    deputy_manager_id = fields.Many2one(
        "res.users",
        domain="[('share', '=', False)]",
        help="Approves registrations of the important band for this team.",
    )
    branch_manager_id = fields.Many2one(
        "res.users",
        domain="[('share', '=', False)]",
        help="Approves registrations of the major band for this team.",
    )
    channel_manager_id = fields.Many2one(
        "res.users",
        domain="[('share', '=', False)]",
        help="Holds and first reviews the deals that channel partners of this team "
        "register from the portal; when empty, the company's channel manager does.",
    )

    def write(self, vals):
        result = super().write(vals)
        if ROLE_FIELDS & vals.keys():
            self.env.registry.clear_cache()  # crm.lead.registration.band._approver_preview
        return result
