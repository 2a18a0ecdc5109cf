from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .common_channel import ChannelCase


@tagged("post_install", "-at_install", "opportunity_registration")
class TestCommissionEligibility(ChannelCase):
    """未报备不得发放: a won deal earns its partner's commission only if a
    registration approved before the win held it."""

    def _report(self, lead):
        self.env.flush_all()
        return self.env["crm.lead.commission.report"].search([("lead_id", "=", lead.id)])

    def _win(self, lead, when):
        with freeze_time(when):
            lead.with_user(self.manager).action_set_won()
        self.assertEqual(set(lead.mapped("won_status")), {"won"})

    def test_approved_before_the_win_is_eligible(self):
        reg = self._portal_register()
        reg.with_user(self.channel_manager).action_approve()
        self._win(reg.lead_id, fields.Datetime.now() + timedelta(days=1))
        self.assertEqual(reg.state, "won")
        self.assertFalse(reg.lead_id.won_unregistered)
        row = self._report(reg.lead_id)
        self.assertEqual((row.eligible, row.reason), (True, "eligible"))
        self.assertEqual(row.channel_partner_id, self.reseller_a)

    def test_pending_at_the_win_is_not_eligible(self):
        reg = self._portal_register(budget="30000")
        reg.with_user(self.channel_manager).action_approve()
        self._win(reg.lead_id, fields.Datetime.now() + timedelta(days=1))
        self.assertTrue(reg.lead_id.won_unregistered)
        row = self._report(reg.lead_id)
        self.assertEqual((row.eligible, row.reason), (False, "pending_at_win"))

    def test_approved_after_the_win_is_not_eligible(self):
        self.company.registration_won_keep_days = 30
        reg = self._portal_register()
        reg.with_user(self.channel_manager).action_approve()
        lead = reg.lead_id
        now = fields.Datetime.now()
        self._win(lead, now + timedelta(days=1))
        with freeze_time(now + timedelta(days=2)):
            # the amount rose after the win: the registration is reviewed again
            lead.with_user(self.channel_manager).expected_revenue = 30000
            self.assertEqual(reg.state, "submitted")
            reg.with_user(self.approver).action_approve()
        self.assertEqual(reg.state, "approved")
        self.assertGreater(reg.date_approved, lead.date_closed)
        self.assertTrue(lead.won_unregistered)
        self.assertEqual(self._report(lead).reason, "approved_after_win")

    def test_never_registered_partner_deal_is_not_eligible(self):
        lead = self._lead(partner_id=False, partner_name="Unregistered Partner Deal Ltd")
        lead.with_user(self.manager).channel_partner_id = self.reseller_a
        self._win(lead, fields.Datetime.now())
        self.assertTrue(lead.won_unregistered)
        row = self._report(lead)
        self.assertEqual((row.eligible, row.reason), (False, "unregistered"))

    def test_rep_lock_ended_before_the_win_counts_as_unregistered(self):
        """The old flag counted "ever approved": a lock released long before
        the win passed as registered."""
        lead = self._lead(expected_revenue=10000)
        lead.with_user(self.rep).action_registration_submit()
        self.assertEqual(lead.registration_state, "approved")
        lead.with_user(self.rep).action_registration_release("No budget this year")
        self._win(lead, fields.Datetime.now() + timedelta(days=1))
        self.assertTrue(lead.won_unregistered)
        Lead = self.env["crm.lead"]
        self.assertIn(lead, Lead.search([("won_unregistered", "=", True)]))
        self.assertNotIn(lead, Lead.search([("won_unregistered", "=", False)]))
        self.assertFalse(self._report(lead), "not a partner deal")

    def test_rep_registered_before_the_win_is_not_flagged(self):
        lead = self._lead(expected_revenue=10000)
        lead.with_user(self.rep).action_registration_submit()
        self._win(lead, fields.Datetime.now() + timedelta(days=1))
        self.assertFalse(lead.won_unregistered)
        Lead = self.env["crm.lead"]
        self.assertIn(lead, Lead.search([("won_unregistered", "=", False)]))
        self.assertNotIn(lead, Lead.search([("won_unregistered", "=", True)]))

    def test_flag_searches_with_every_operator(self):
        """Odoo 19's operators on the filter's field: = and != a boolean, in
        and not in a list (the search panel, a saved filter, RPC), both values
        at once; an operator without meaning is refused by the ORM, not by a
        traceback of ours."""
        registered = self._lead(expected_revenue=10000)
        registered.with_user(self.rep).action_registration_submit()
        self._win(registered, fields.Datetime.now() + timedelta(days=1))
        unregistered = self._lead(partner_id=False, partner_name="Never Registered Ltd")
        self._win(unregistered, fields.Datetime.now() + timedelta(days=1))
        Lead = self.env["crm.lead"].with_context(active_test=False)
        both = registered | unregistered
        cases = [
            ("=", True, unregistered),
            ("!=", True, registered),
            ("=", False, registered),
            ("!=", False, unregistered),
            ("in", [True], unregistered),
            ("not in", [True], registered),
            ("in", [False], registered),
            ("in", [True, False], both),
            ("not in", [True, False], Lead),
        ]
        for operator, value, expected in cases:
            with self.subTest(operator=operator, value=value):
                found = Lead.search([("id", "in", both.ids), ("won_unregistered", operator, value)])
                self.assertEqual(found, expected)
        for operator, expected in (("in", both), ("not in", Lead)):
            with self.subTest(field="stage_overdue", operator=operator):
                found = Lead.search(
                    [("id", "in", both.ids), ("stage_overdue", operator, [True, False])]
                )
                self.assertEqual(found, expected)

    def test_flag_is_computed_in_one_query_for_many_leads(self):
        leads = self.env["crm.lead"]
        for index in range(5):
            lead = self._lead(
                partner_id=False,
                partner_name="Batch Customer %s Ltd" % index,
                expected_revenue=10000,
            )
            lead.with_user(self.rep).action_registration_submit()
            leads |= lead
        self._win(leads, fields.Datetime.now() + timedelta(days=1))
        leads.invalidate_recordset(["won_unregistered"])
        self.env.flush_all()
        with self.assertQueryCount(1):
            flags = leads.mapped("won_unregistered")
        self.assertEqual(flags, [False] * 5)
