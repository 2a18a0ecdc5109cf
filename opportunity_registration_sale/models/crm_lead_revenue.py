from odoo import fields, models


class CrmLeadRevenue(models.Model):
    _inherit = "crm.lead.revenue"

    sale_order_id = fields.Many2one(
        "sale.order",
        readonly=True,
        ondelete="cascade",
        index="btree_not_null",
        help="The confirmed order this revenue comes from.",
    )

    _sale_order_uniq = models.UniqueIndex(
        "(sale_order_id) WHERE sale_order_id IS NOT NULL",
        "A sale order gives one actual-revenue line.",
    )
