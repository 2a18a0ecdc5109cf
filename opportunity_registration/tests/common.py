from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.mail.tools.discuss import Store
from odoo.tests import TransactionCase
from odoo.tools import html2plaintext


def chatter(lead, user):
    """``[(message, text)]`` of the lead's chatter from the data the web
    client receives (``/mail/thread/messages``), read as ``user`` in their
    language: ``description · label: old → new · body``."""
    messages = lead.sudo().message_ids.with_user(user).with_context(lang=user.lang)
    data = Store().add(messages).get_result()
    subtypes = {s["id"]: s.get("description") or "" for s in data.get("mail.message.subtype", [])}
    result = []
    for values in data.get("mail.message", []):
        parts = [subtypes.get(values.get("subtype_id"), "")]
        parts += [
            "%s: %s → %s"
            % (t["fieldInfo"]["changedField"], t["oldValue"] or "", t["newValue"] or "")
            for t in values.get("trackingValues", [])
        ]
        parts.append(html2plaintext(str(values.get("body") or "")))
        result.append((messages.browse(values["id"]), " · ".join(part for part in parts if part)))
    return result


# The tests' people by role: their groups, written once for every test base.
ROLES = {
    "rep": "sales_team.group_sale_salesman",
    "all_leads": "sales_team.group_sale_salesman_all_leads",
    "approver": "sales_team.group_sale_salesman_all_leads,"
    "opportunity_registration.group_registration_approver",
    "manager": "sales_team.group_sale_manager",
    "portal": "base.group_portal",
}


def new_user(env, login, name, role, **values):
    """A user of ``role`` (see ROLES) whose password is their login."""
    return mail_new_test_user(env, login=login, name=name, groups=ROLES[role], **values)


@contextmanager
def locked_elsewhere(registrations):
    """While inside, ``registrations`` are being written by another
    transaction: ``try_lock_for_update`` skips them, as it does for a row
    locked by a concurrent writer."""
    Registration = type(registrations)
    lock = Registration.try_lock_for_update

    def try_lock(records, **kwargs):
        return lock(records - registrations, **kwargs)

    with patch.object(Registration, "try_lock_for_update", try_lock):
        yield


class RegistrationCase(TransactionCase):
    """Reps, an approver and a manager in one team, and a complete opportunity."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        cls.company = cls.env.company
        cls.company.registration_protection_days = 90
        cls.rep = new_user(cls.env, "opreg_rep", "Rep Zhang", "rep")
        cls.rep2 = new_user(cls.env, "opreg_rep2", "Rep Li", "rep")
        cls.approver = new_user(cls.env, "opreg_approver", "Leader Wang", "approver")
        cls.manager = new_user(cls.env, "opreg_manager", "Manager Chen", "manager")
        cls.deputy = new_user(cls.env, "opreg_deputy", "Deputy Zhao", "all_leads")
        cls.branch = new_user(cls.env, "opreg_branch", "Branch Manager Sun", "all_leads")
        cls.team = cls.env["crm.team"].create(
            {
                "name": "East",
                "user_id": cls.approver.id,
                "deputy_manager_id": cls.deputy.id,
                "branch_manager_id": cls.branch.id,
                "member_ids": [(6, 0, (cls.rep | cls.rep2).ids)],
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "杭州云图科技有限公司",
                "is_company": True,
            }
        )
        cls.today = fields.Date.context_today(cls.customer)

    @classmethod
    def _lead_vals(cls, **overrides):
        vals = {
            "name": "ERP for Yuntu",
            "type": "opportunity",
            "partner_id": cls.customer.id,
            "email_from": "buyer@yuntu.example.com",
            "phone": "+86 571 8888 6666",
            "expected_revenue": 30000,
            "date_deadline": cls.today + timedelta(days=30),
            "need_description": "Unify purchasing across three plants.",
            "key_person_identified": True,
            "key_person_name": "Ms Zhou, CFO",
            "user_id": cls.rep.id,
            "team_id": cls.team.id,
        }
        if "partner_name" in overrides or "partner_id" in overrides:
            # Another customer: its own contact details, or it would match by them.
            seed = overrides.get("partner_name") or str(overrides.get("partner_id"))
            number = 10000000 + int.from_bytes(seed.encode(), "little") % 89999999
            vals["email_from"] = "buyer@c%d.example.com" % number
            vals["phone"] = "+86 10 %d" % number
        vals.update(overrides)
        return vals

    def _lead(self, user=None, **overrides):
        user = user or self.rep
        vals = self._lead_vals(user_id=user.id, **overrides)
        return self.env["crm.lead"].with_user(user).create(vals).with_env(self.env)

    def _messages(self, lead, user=None):
        """The texts of the lead's chatter as ``user`` (the test's user by
        default) reads them in the web client, in their language: per message
        its subtype's description, its tracking values and its body."""
        return [text for _message, text in self._chatter(lead, user)]

    def _chatter(self, lead, user=None):
        return chatter(lead, user or self.env.user)

    @contextmanager
    def assertExactQueryCount(self, count):
        """Exactly ``count`` queries (Odoo's assertQueryCount is only a ceiling)."""
        self.env.flush_all()
        self.env.cr.flush()
        start = self.cr.sql_log_count
        yield
        self.env.flush_all()
        self.env.cr.flush()
        self.assertEqual(self.cr.sql_log_count - start, count, "queries")
