from odoo import fields, models


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
