from odoo.addons.opportunity_registration.tests.common import RegistrationCase
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestSaleRevenue(RegistrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.tz = "UTC"
        cls.tax = cls.env["account.tax"].create(
            {"name": "VAT 13%", "amount": 13, "amount_type": "percent", "type_tax_use": "sale"}
        )
        cls.product = cls.env["product.product"].create(
            {"name": "ERP licence", "list_price": 1000, "taxes_id": [(6, 0, cls.tax.ids)]}
        )

    def _order(self, lead, date_order="2026-03-10 09:00:00"):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "opportunity_id": lead.id,
                "date_order": date_order,
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": self.product.id,
                            "product_uom_qty": 10,
                            "price_unit": 1000,
                            "discount": 20,
                            "tax_ids": [(6, 0, self.tax.ids)],
                        },
                    )
                ],
            }
        )
        return order

    def test_confirmed_order_fills_actual_revenue(self):
        lead = self._lead(partner_id=False, partner_name="Order Co")
        lead.action_set_won()
        order = self._order(lead)
        order.action_confirm()
        line = lead.revenue_ids
        # 10 × 1,000 less 20 % = 8,000, taxes excluded (the 13 % VAT is not revenue).
        self.assertEqual(order.amount_untaxed, 8000)
        self.assertEqual(line.amount, 8000)
        self.assertEqual(line.source, "sale")
        self.assertEqual(line.sale_order_id, order)
        # Dated on the order date (date_order is reset on confirmation: read it back).
        self.assertEqual(line.date, order.date_order.date())
        self.assertEqual(lead.actual_revenue, 8000)
        # Confirming again (or another path) never duplicates it.
        order._fill_actual_revenue()
        self.assertEqual(len(lead.revenue_ids), 1)
        order._action_cancel()
        self.assertFalse(lead.revenue_ids)

    def test_order_confirmed_before_the_win(self):
        lead = self._lead(partner_id=False, partner_name="Early Order Co")
        order = self._order(lead)
        order.action_confirm()
        self.assertFalse(lead.revenue_ids)
        lead.action_set_won()
        self.assertEqual(lead.revenue_ids.sale_order_id, order)
        self.assertEqual(lead.revenue_ids.amount, 8000)

    def test_quotation_is_not_revenue(self):
        lead = self._lead(partner_id=False, partner_name="Quote Co")
        lead.action_set_won()
        order = self._order(lead)
        self.assertEqual(order.state, "draft")
        self.assertFalse(lead.revenue_ids)
