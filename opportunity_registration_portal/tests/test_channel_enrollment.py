import json

from odoo.addons.opportunity_registration.hooks import enroll_channel_partners
from odoo.addons.opportunity_registration.tests.common_channel import ChannelCase
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import PortalPagesCase


class EnrollmentCase(ChannelCase):
    """A customer company whose user has portal access (for invoices, say),
    not enrolled as a channel partner."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer_co = cls.env["res.partner"].create(
            {"name": "Gamma Invoices Ltd", "is_company": True, "email": "ap@gamma.example.com"}
        )
        cls.portal_c = cls._portal_user("opreg_portal_c", "Customer Cai", cls.customer_co)


@tagged("post_install", "-at_install", "opportunity_registration_portal")
class TestChannelEnrollment(EnrollmentCase):
    def test_only_registration_managers_enroll(self):
        """Reps edit partners, and the portal writes the user's own partner as
        superuser: neither enrolls a company or picks its channel team."""
        for user in (self.rep, self.approver, self.channel_manager, self.portal_c):
            for vals in (
                {"is_channel_partner": True},
                {"registration_team_id": self.team.id},
            ):
                with self.subTest(user=user.name, vals=vals):
                    with self.assertRaisesRegex(AccessError, "Only a registration manager"):
                        self.customer_co.with_user(user).sudo().write(vals)
                    with self.assertRaisesRegex(AccessError, "Only a registration manager"):
                        self.env["res.partner"].with_user(user).sudo().create(
                            dict(vals, name="Forged Reseller", is_company=True)
                        )
        with self.assertRaisesRegex(AccessError, "Only a registration manager"):
            self.reseller_a.with_user(self.rep).write({"is_channel_partner": False})
        self.assertFalse(self.customer_co.is_channel_partner)
        self.assertTrue(self.reseller_a.is_channel_partner)
        # a rep still edits everything else, and creates partners that are not enrolled
        self.customer_co.with_user(self.rep).write({"phone": "+86 21 5555 0000"})
        self.env["res.partner"].with_user(self.rep).create({"name": "Plain Customer Ltd"})
        self.customer_co.with_user(self.manager).write({"is_channel_partner": True})
        self.assertTrue(self.customer_co.is_channel_partner)

    def test_enrollment_is_tracked(self):
        self.env.cr.precommit.run()
        self.customer_co.with_user(self.manager).write({"is_channel_partner": True})
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.customer_co.invalidate_recordset(["message_ids"])
        tracked = self.customer_co.message_ids.tracking_value_ids.field_id.mapped("name")
        self.assertIn("is_channel_partner", tracked)

    def test_a_non_enrolled_portal_user_cannot_register(self):
        Lead = self.env["crm.lead"].with_user(self.portal_c)
        with self.assertRaisesRegex(AccessError, "Gamma Invoices Ltd is not enrolled"):
            Lead._portal_register(self._form())
        with self.assertRaisesRegex(AccessError, "not enrolled"):
            Lead._portal_register_rows([self._form()])
        with self.assertRaisesRegex(AccessError, "not enrolled"):
            self.env["crm.lead.registration.upload"].with_user(self.portal_c)._queue(
                "deals.csv", self._sheet(self._row("Some Co")), portal=True
            )
        self.assertFalse(self.env["crm.lead"].search([("channel_partner_id", "!=", False)]))
        self.assertFalse(self.env["crm.lead.registration.upload"].search([]))
        self.customer_co.with_user(self.manager).is_channel_partner = True
        reg = self._portal_register(user=self.portal_c)
        self.assertEqual(reg.channel_partner_id, self.customer_co)
        self.customer_co.with_user(self.manager).is_channel_partner = False
        with self.assertRaisesRegex(AccessError, "not enrolled"):
            self._portal_register(user=self.portal_c, company_name="Later Ltd", vat="")

    def test_enrollment_belongs_to_the_company_not_its_contacts(self):
        """A contact of an enrolled company registers for it; enrolling a
        contact does not open registration to a company's other users."""
        contact = self.portal_a.partner_id
        self.assertFalse(contact.is_channel_partner)
        self.assertEqual(self._portal_register().channel_partner_id, self.reseller_a)
        self.portal_c.partner_id.with_user(self.manager).is_channel_partner = True
        with self.assertRaisesRegex(AccessError, "not enrolled"):
            self._portal_register(user=self.portal_c)

    def test_existing_partner_deals_enroll_their_company(self):
        """At install and at the upgrade that introduced enrollment, companies
        with partner deals are enrolled; others stay out."""
        lead = self._lead(partner_id=False, partner_name="Old Portal Deal Ltd")
        lead.with_user(self.manager).channel_partner_id = self.customer_co
        enrolled = enroll_channel_partners(self.env)
        self.assertEqual(enrolled, self.customer_co)
        self.assertTrue(self.customer_co.is_channel_partner)
        self.assertFalse(self.customer.is_channel_partner)
        self.assertFalse(enroll_channel_partners(self.env), "running it again changes nothing")

    def test_managers_see_and_filter_channel_partners(self):
        Partner = self.env["res.partner"]
        form = Partner.with_user(self.manager).get_views([(False, "form")])["views"]["form"]
        self.assertIn('name="is_channel_partner"', form["arch"])
        rep_form = Partner.with_user(self.rep).get_views([(False, "form")])["views"]["form"]
        self.assertNotIn('name="is_channel_partner"', rep_form["arch"])
        search = Partner.with_user(self.rep).get_views([(False, "search")])["views"]["search"]
        self.assertIn('name="channel_partners"', search["arch"])
        found = Partner.with_user(self.rep).search([("is_channel_partner", "=", True)])
        self.assertLessEqual(self.reseller_a | self.reseller_b, found)
        self.assertNotIn(self.customer_co, found)


@tagged("post_install", "-at_install", "opportunity_registration_portal")
class TestChannelEnrollmentPortal(PortalPagesCase, EnrollmentCase):
    def test_non_enrolled_portal_user_reaches_no_registration_page(self):
        own = self._portal_register()
        self._login(self.portal_c)
        home = self.url_open("/my/home").text
        self.assertNotIn("/my/registrations", home, "no Deal Registrations tile")
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["registration_count"]})
        self.assertEqual(counters["registration_count"], 0)
        for url in (
            "/my/registrations",
            "/my/registrations/new",
            "/my/registrations/bulk",
            "/my/registrations/template.csv",
            "/my/registrations/%s" % own.id,
        ):
            with self.subTest(url=url):
                response = self.url_open(url)
                self.assertEqual(response.status_code, 403)
                self.assertIn("not enrolled as a channel partner", response.text)
                self.assertNotIn(own.name, response.text)
        response = self._post_form(csrf_from="/my/account")
        self.assertEqual(response.status_code, 403)
        csrf = self._csrf("/my/account")
        response = self.url_open(
            "/my/registrations/bulk",
            data={"csrf_token": csrf},
            files={"sheet": ("deals.csv", self._sheet(self._row("Sneaky Co")), "text/csv")},
        )
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self.env["crm.lead"].search([("name", "in", ("Sneaky Co",))]))
        self.assertFalse(self.env["crm.lead.registration.upload"].search([]))
        # an enrolled partner's user sees the tile
        self._login(self.portal_a)
        self.assertIn("/my/registrations", self.url_open("/my/home").text)

    def test_account_form_cannot_enroll(self):
        """The portal's address form posts partner fields: enrollment is not one."""
        self._login(self.portal_c)
        csrf = self._csrf("/my/account")
        country = self.env.ref("base.cn")
        for partner in (self.portal_c.partner_id, self.customer_co):
            response = self.url_open(
                "/my/address/submit",
                data={
                    "csrf_token": csrf,
                    "partner_id": str(partner.id),
                    "name": "Customer Cai",
                    "email": "opreg_portal_c@gamma.example.com",
                    "street": "1 Bund Road",
                    "city": "Shanghai",
                    "zip": "200000",
                    "country_id": str(country.id),
                    "phone": "+86 21 5555 1111",
                    "is_channel_partner": "1",
                    "registration_team_id": str(self.team.id),
                },
            )
            with self.subTest(partner=partner.name):
                self.assertIn(response.status_code, (200, 403))
                if response.status_code == 200:
                    feedback = json.loads(response.text)
                    self.assertNotIn("is_channel_partner", str(feedback.get("invalid_fields")))
        self.env.invalidate_all()
        self.assertFalse(self.customer_co.is_channel_partner)
        self.assertFalse(self.portal_c.partner_id.is_channel_partner)
        self.assertFalse(self.customer_co.registration_team_id)
        self.assertEqual(self.url_open("/my/registrations").status_code, 403)
