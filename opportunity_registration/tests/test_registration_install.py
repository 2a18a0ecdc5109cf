from odoo.addons.opportunity_registration.hooks import (
    BACKFILL_PARAM,
    fill_customer_keys,
    pre_init_hook,
)
from odoo.tests import tagged

from .common import RegistrationCase


@tagged("post_install", "-at_install", "opportunity_registration")
class TestRegistrationInstall(RegistrationCase):
    def test_install_leaves_existing_opportunities_working_and_fills_keys_in_sql(self):
        person = self.env["res.partner"].create({"name": "Wu Fang"})
        leads = self.env["crm.lead"].create(
            [
                self._lead_vals(name="company partner"),
                self._lead_vals(
                    name="company name only",
                    partner_id=False,
                    partner_name="ＢＬＵＥ　Ocean Co., Ltd.",
                ),
                self._lead_vals(name="person", partner_id=person.id),
                self._lead_vals(name="nothing", partner_id=False),
            ]
        )
        won = self.env["crm.lead"].create(self._lead_vals(name="won", partner_id=False))
        won.action_set_won()
        expected = {lead.id: lead._get_customer_key() for lead in leads | won}
        self.assertEqual(expected[leads[1].id], "blueocean")
        self.assertEqual(expected[leads[2].id], "partner:%d" % person.id)
        self.assertFalse(expected[leads[3].id])

        # As before the module was installed: the keys are not known yet.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET customer_key = NULL WHERE id IN %s", [tuple(expected)]
        )
        self.env.invalidate_all()
        with self.assertQueryCount(__system__=3):
            pre_init_hook(self.env)  # only instant ALTERs and one parameter
        below = int(self.env["ir.config_parameter"].sudo().get_param(BACKFILL_PARAM))
        self.assertGreater(below, max(expected))
        for lead in leads | won:
            self.assertEqual(lead.registration_state, "draft")
            self.assertFalse(lead.customer_key)
        self.assertTrue(won.won_unregistered)
        self.assertEqual(
            self.env["crm.lead"].search([("won_unregistered", "=", True), ("id", "in", won.ids)]),
            won,
        )

        # The backfill works in id ranges; each range is one set-based UPDATE.
        low = min(expected)
        self.assertEqual(fill_customer_keys(self.env.cr, low, below), 3)
        self.assertEqual(fill_customer_keys(self.env.cr, low, below), 0, "idempotent")
        self.env.invalidate_all()
        for lead in leads | won:
            self.assertEqual(lead.customer_key or False, expected[lead.id], lead.name)

    def test_administrators_records_survive_an_upgrade(self):
        """Scheduled actions, sequences, activity types and e-mail templates
        are edited by administrators: an upgrade does not reset them."""
        rows = self.env["ir.model.data"].search(
            [
                ("module", "=", "opportunity_registration"),
                ("model", "in", ("ir.cron", "ir.sequence", "mail.activity.type", "mail.template")),
            ]
        )
        self.assertGreaterEqual(len(rows), 15)
        self.assertEqual(rows.filtered(lambda row: not row.noupdate).mapped("name"), [])
