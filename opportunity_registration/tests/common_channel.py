from datetime import timedelta

from .common import RegistrationCase, new_user


class ChannelCase(RegistrationCase):
    """Two partner companies with a portal user each, and a channel manager."""

    SHEET_HEADER = (
        "company_name,vat,contact_name,email,phone,need,budget,date_deadline,product_line,notes"
    )

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel_manager = new_user(
            cls.env,
            "opreg_channel_manager",
            "Channel Manager Qian",
            "rep",
            email="qian@vendor.example.com",
        )
        cls.team.member_ids |= cls.channel_manager
        cls.company.registration_channel_manager_id = cls.channel_manager
        # enrolled by a registration manager: portal access alone is not enough
        cls.reseller_a = cls.env["res.partner"].create(
            {
                "name": "Alpha Reseller Ltd",
                "is_company": True,
                "email": "info@alpha.example.com",
                "is_channel_partner": True,
            }
        )
        cls.reseller_b = cls.env["res.partner"].create(
            {
                "name": "Beta Reseller Ltd",
                "is_company": True,
                "email": "info@beta.example.com",
                "is_channel_partner": True,
            }
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
        user = new_user(
            cls.env,
            login,
            name,
            "portal",
            email="%s@%s.example.com" % (login, company.name.split()[0].lower()),
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

    def _rival_register(self):
        """A deal of the other partner company, Beta: another customer, with
        no contact detail shared with Alpha's deals."""
        return self._portal_register(
            user=self.portal_b,
            company_name="Suzhou Silk",
            vat="",
            email="",
            phone="+86 512 1234 5678",
        )

    def _sheet(self, *lines):
        """A CSV spreadsheet of deals: the template's header and ``lines``."""
        return "\n".join((self.SHEET_HEADER,) + lines).encode()

    def _row(self, name, email="", phone="", need="Need", budget="5000"):
        deadline = (self.today + timedelta(days=30)).isoformat()
        return "%s,,Contact,%s,%s,%s,%s,%s,," % (name, email, phone, need, budget, deadline)

    def _run_uploads(self):
        """Run the background job of queued uploads, as the cron worker would,
        without its commits."""
        self.patch(self.registry["ir.cron"], "_commit_progress", lambda cron, *a, **kw: 1.0)
        self.env["crm.lead.registration.upload"]._cron_process()
        self.env.invalidate_all()
