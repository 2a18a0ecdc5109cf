from odoo.addons.opportunity_registration.tests.common_channel import ChannelCase
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install", "opportunity_registration_portal")
class TestChannelTour(HttpCase, ChannelCase):
    def test_partner_registers_a_deal_and_sees_it_registered(self):
        self.start_tour(
            "/my/home", "opportunity_registration_portal_register", login="opreg_portal_a"
        )
        reg = self.env["crm.lead.registration"].search(
            [("channel_partner_id", "=", self.reseller_a.id)]
        )
        self.assertEqual(len(reg), 1)
        self.assertEqual(reg.state, "submitted")
        self.assertEqual(reg.submitted_by_id, self.portal_a)
        self.assertEqual(reg.lead_id.need_description, "Cold-chain tracking for 40 trucks")
        reg.with_user(self.channel_manager).action_approve()
        self.assertEqual(reg.state, "approved")
        self.start_tour(
            "/my/registrations",
            "opportunity_registration_portal_registered",
            login="opreg_portal_a",
        )
