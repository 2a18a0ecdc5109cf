from odoo.tests import HttpCase, tagged

from .common import RegistrationCase


@tagged("post_install", "-at_install", "opportunity_registration")
class TestRegistrationUi(HttpCase, RegistrationCase):
    def test_submit_from_the_opportunity_form(self):
        lead = self._lead(need_description=False)
        self.start_tour(
            "/odoo/action-crm.crm_lead_action_pipeline/%d" % lead.id,
            "opportunity_registration_submit",
            login="opreg_rep",
        )
        self.assertEqual(lead.registration_state, "submitted")
        self.assertEqual(lead.need_description, "Move 40 buyers off spreadsheets")
        self.assertEqual(lead.registration_id.user_id, self.rep)

    def test_approver_approves_from_the_opportunity_form(self):
        lead = self._lead(expected_revenue=30000)
        lead.with_user(self.rep).action_registration_submit()
        self.start_tour(
            "/odoo/action-crm.crm_lead_action_pipeline/%d" % lead.id,
            "opportunity_registration_approve",
            login="opreg_approver",
        )
        self.assertEqual(lead.registration_state, "approved")
        self.assertEqual(lead.registration_id.approved_by_id, self.approver)
