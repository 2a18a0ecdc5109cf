from odoo import fields, models


class CrmTag(models.Model):
    _inherit = "crm.tag"

    registration_portal = fields.Boolean(
        "Product Line on Portal",
        help="Channel partners may choose this tag as the product line of the deals "
        "they register from the portal.",
    )
