from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def _action_confirm(self):
        result = super()._action_confirm()
        self._fill_actual_revenue()
        return result

    def _action_cancel(self):
        lines = self.env["crm.lead.revenue"].sudo().search([("sale_order_id", "in", self.ids)])
        lines.unlink()
        return super()._action_cancel()

    def _fill_actual_revenue(self):
        """One actual-revenue line per confirmed order of a won opportunity:
        the untaxed amount after discounts, in the order's currency, dated on
        the order date (converted to company currency at that date).
        """
        orders = self.filtered(
            lambda order: order.state == "sale" and order.opportunity_id.won_status == "won"
        )
        if not orders:
            return self.env["crm.lead.revenue"]
        Revenue = self.env["crm.lead.revenue"].sudo()
        recorded = set(Revenue.search([("sale_order_id", "in", orders.ids)]).sale_order_id.ids)
        vals_list = [
            {
                "lead_id": order.opportunity_id.id,
                "sale_order_id": order.id,
                "source": "sale",
                "name": order.name,
                "date": fields.Date.context_today(order, order.date_order),
                "currency_id": order.currency_id.id,
                "amount_currency": order.amount_untaxed,
            }
            for order in orders
            if order.id not in recorded
        ]
        return Revenue.create(vals_list)
