from datetime import timedelta

from freezegun import freeze_time

from odoo.addons.opportunity_registration.tests.common_channel import ChannelCase
from odoo.tests import tagged


@tagged("post_install", "-at_install", "opportunity_registration_portal")
class TestPartnerNotifications(ChannelCase):
    def _mails(self, user):
        return self.env["mail.mail"].search(
            [("recipient_ids", "in", user.partner_id.ids)], order="id"
        )

    def test_approval_is_mailed_to_the_partner(self):
        reg = self._portal_register()
        before = self._mails(self.portal_a)
        reg.with_user(self.channel_manager).action_approve()
        mail = self._mails(self.portal_a) - before
        self.assertEqual(len(mail), 1)
        self.assertIn(reg.name, mail.subject)
        self.assertIn("approved", mail.subject)
        self.assertIn("/my/registrations/%s" % reg.id, str(mail.body_html))

    def test_rejection_is_mailed_with_the_reason(self):
        reg = self._portal_register()
        before = self._mails(self.portal_a)
        reg.with_user(self.channel_manager).action_reject("Duplicate of a direct deal")
        mail = self._mails(self.portal_a) - before
        self.assertEqual(len(mail), 1)
        self.assertIn("rejected", mail.subject)
        self.assertIn("Duplicate of a direct deal", str(mail.body_html))

    def test_expiry_warning_and_expiry_are_mailed(self):
        reg = self._portal_register()
        reg.with_user(self.channel_manager).action_approve()
        before = self._mails(self.portal_a)
        with freeze_time(reg.protection_end_date - timedelta(days=2)):
            self.env["crm.lead.registration"]._cron_warn_expiry()
        warning = self._mails(self.portal_a) - before
        self.assertEqual(len(warning), 1)
        self.assertIn("expires soon", warning.subject)
        with freeze_time(reg.protection_end_date + timedelta(days=1)):
            self.env["crm.lead.registration"]._cron_expire()
        self.assertEqual(reg.state, "expired")
        expired = self._mails(self.portal_a) - before - warning
        self.assertEqual(len(expired), 1)
        self.assertIn("expired", expired.subject)

    def test_rep_registrations_mail_no_partner(self):
        Mail = self.env["mail.mail"]
        before = Mail.search_count([("subject", "ilike", "Deal registration")])
        lead = self._lead(expected_revenue=10000)
        lead.with_user(self.rep).action_registration_submit()
        self.assertEqual(lead.registration_state, "approved")
        self.assertEqual(Mail.search_count([("subject", "ilike", "Deal registration")]), before)

    def test_partner_reads_the_mail_in_chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(
            ["opportunity_registration", "opportunity_registration_portal"], ["zh_CN"]
        )
        self.portal_a.lang = "zh_CN"
        reg = self._portal_register()
        before = self._mails(self.portal_a)
        reg.with_user(self.channel_manager).action_approve()
        mail = self._mails(self.portal_a) - before
        self.assertIn("已批准", mail.subject)
        self.assertIn("受保护", str(mail.body_html))
