from datetime import timedelta

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import RegistrationCase


class ChannelCase(RegistrationCase):
    """Two partner companies with a portal user each, and a channel manager."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel_manager = mail_new_test_user(
            cls.env,
            login="opreg_channel_manager",
            name="Channel Manager Qian",
            email="qian@vendor.example.com",
            groups="sales_team.group_sale_salesman",
        )
        cls.team.member_ids |= cls.channel_manager
        cls.company.registration_channel_manager_id = cls.channel_manager
        cls.reseller_a = cls.env["res.partner"].create(
            {"name": "Alpha Reseller Ltd", "is_company": True, "email": "info@alpha.example.com"}
        )
        cls.reseller_b = cls.env["res.partner"].create(
            {"name": "Beta Reseller Ltd", "is_company": True, "email": "info@beta.example.com"}
        )
        cls.portal_a = cls._portal_user("opreg_portal_a", "Partner Anna", cls.reseller_a)
        cls.portal_a2 = cls._portal_user("opreg_portal_a2", "Partner Arno", cls.reseller_a)
        cls.portal_b = cls._portal_user("opreg_portal_b", "Partner Bela", cls.reseller_b)
        cls.product_line = cls.env["crm.tag"].create(
            {"name": "Cloud ERP", "registration_portal": True}
        )
        cls.internal_tag = cls.env["crm.tag"].create({"name": "Internal Pricing Tier"})

    @classmethod
    def _portal_user(cls, login, name, company):
        user = mail_new_test_user(
            cls.env,
            login=login,
            name=name,
            email="%s@%s.example.com" % (login, company.name.split()[0].lower()),
            groups="base.group_portal",
        )
        user.partner_id.parent_id = company
        return user

    def _form(self, **overrides):
        values = {
            "company_name": "Ningbo Harbour Logistics Co., Ltd.",
            "vat": "91330200MA2H4XYZ1K",
            "contact_name": "Mr Xu",
            "email": "xu@nbharbour.example.com",
            "phone": "+86 574 8765 4321",
            "need": "Track containers across two terminals.",
            "budget": "10000",
            "date_deadline": (self.today + timedelta(days=60)).isoformat(),
            "product_line": str(self.product_line.id),
            "notes": "Met at the Ningbo fair.",
        }
        values.update(overrides)
        return values

    def _portal_register(self, user=None, **overrides):
        user = user or self.portal_a
        return (
            self.env["crm.lead"]
            .with_user(user)
            ._portal_register(self._form(**overrides))
            .with_env(self.env)
        )
