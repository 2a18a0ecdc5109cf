from datetime import timedelta

from odoo.tests import tagged, users
from odoo.tools import SQL

from .common import RegistrationCase


@tagged("post_install", "-at_install")
class TestCompliance(RegistrationCase):
    """Each compliance case (漏报考核) on its own opportunity."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.approver.email = "wang@yuntu-sales.example.com"
        # Both reps joined the team three months ago.
        cls.env.flush_all()
        cls.env.cr.execute(
            SQL(
                "UPDATE crm_team_member SET create_date = now() - interval '3 months' "
                "WHERE crm_team_id = %s",
                cls.team.id,
            )
        )

    def _approved(self, name, user=None):
        user = user or self.rep
        lead = self._lead(
            user=user, name=name, partner_id=False, partner_name=name, expected_revenue=5000
        )
        lead.with_user(user).action_registration_submit()
        self.assertEqual(lead.registration_state, "approved")
        return lead

    def _sql(self, query, *args):
        self.env.flush_all()
        self.env.cr.execute(SQL(query, *args))
        self.env.invalidate_all()

    def _cases(self, lead=None, kind=None):
        domain = [("team_id", "=", self.team.id)]
        if lead:
            domain.append(("lead_id", "=", lead.id))
        if kind:
            domain.append(("kind", "=", kind))
        return self.env["crm.registration.compliance"].search(domain)

    def test_won_never_registered(self):
        lead = self._lead(partner_id=False, partner_name="Never Registered Co")
        lead.action_set_won()
        self.assertEqual(self._cases(lead).mapped("kind"), ["unregistered"])
        self.assertEqual(self._cases(lead).user_id, self.rep)

    def test_registered_late_by_days_and_on_time(self):
        late = self._approved("Late Co")
        late.action_set_won()
        on_time = self._approved("On Time Co")
        on_time.action_set_won()
        # Submitted 30 days before the win: on time with the default 7 days.
        self._sql(
            "UPDATE crm_lead_registration SET date_submitted = date_submitted - interval '30 days'"
            " WHERE lead_id = %s",
            on_time.id,
        )
        self.assertEqual(self._cases(late).mapped("kind"), ["late"])
        self.assertFalse(self._cases(on_time))
        self.company.compliance_late_days = 0
        self.assertFalse(self._cases(late))

    def test_registered_late_after_stage(self):
        self.company.compliance_late_days = 0
        stages = self.env["crm.stage"].search([("is_won", "=", False)], order="sequence")
        self.company.compliance_late_stage_id = stages[-1]
        lead = self._lead(partner_id=False, partner_name="Stage Co", expected_revenue=5000)
        lead.stage_id = stages[-1]
        # It reached the stage a day before it was submitted.
        self._sql(
            "UPDATE crm_lead_stage_history SET date_in = date_in - interval '1 day' "
            "WHERE lead_id = %s",
            lead.id,
        )
        lead.action_registration_submit()
        lead.action_set_won()
        self.assertEqual(self._cases(lead).mapped("kind"), ["late"])

    def test_no_weekly_update(self):
        stale = self._approved("Stale Co")
        fresh = self._approved("Fresh Co")
        self._sql(
            "UPDATE crm_lead_registration SET date_approved = now() - interval '10 days', "
            "last_follow_up_date = CURRENT_DATE - 8 WHERE lead_id = %s",
            stale.id,
        )
        self.assertEqual(self._cases(stale).mapped("kind"), ["no_update"])
        self.assertEqual(self._cases(stale).registration_id, stale.registration_id)
        self.assertFalse(self._cases(fresh))

    def test_under_monthly_quota(self):
        lead = self._approved("Quota Co", user=self.rep2)
        self._sql(
            "UPDATE crm_lead_registration SET date_submitted = date_trunc('month', now()) "
            "- interval '1 month' + interval '3 days' WHERE lead_id = %s",
            lead.id,
        )
        last_month = (self.today.replace(day=1) - timedelta(days=1)).replace(day=1)
        cases = self._cases(kind="under_quota").filtered(lambda c: c.date == last_month)
        # Rep Zhang submitted nothing last month, Rep Li one: the quota is 1.
        self.assertEqual(cases.user_id, self.rep)
        self.assertEqual(cases.shortfall, 1)
        # Joined three months ago: the two months before count, not earlier ones.
        self.assertEqual(
            len(self._cases(kind="under_quota").filtered(lambda c: c.user_id == self.rep)), 3
        )
        self.company.compliance_monthly_quota = 2
        self.env.invalidate_all()
        cases = self._cases(kind="under_quota").filtered(lambda c: c.date == last_month)
        self.assertEqual(sorted(cases.mapped("shortfall")), [1, 2])

    @users("opreg_rep")
    def test_rep_sees_own_cases(self):
        self.env["crm.lead"].sudo().create(
            {
                "name": "Other",
                "type": "opportunity",
                "user_id": self.rep2.id,
                "team_id": self.team.id,
            }
        ).action_set_won()
        cases = self.env["crm.registration.compliance"].search([])
        self.assertEqual(cases.user_id, self.rep)

    def test_digest_gives_each_leader_their_team_and_managers_every_team(self):
        west = self.env["crm.team"].create(
            {"name": "West", "user_id": self.deputy.id, "member_ids": [(6, 0, self.rep2.ids)]}
        )
        self._lead(partner_id=False, partner_name="East Digest Co").action_set_won()
        self._lead(
            user=self.rep2, partner_id=False, partner_name="West Digest Co", team_id=west.id
        ).action_set_won()
        digest = dict(self.env["crm.registration.compliance"]._cron_send_digest())
        self.assertEqual({row["user"] for row in digest[self.approver.id]}, {self.rep.name})
        self.assertEqual({row["user"] for row in digest[self.deputy.id]}, {self.rep2.name})
        self.assertEqual(
            {row["user"] for row in digest[self.manager.id]}, {self.rep.name, self.rep2.name}
        )

    def test_weekly_digest_in_the_leaders_language(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["opportunity_registration"], ["zh_CN"])
        self.approver.lang = "zh_CN"
        self._lead(partner_id=False, partner_name="Digest Co").action_set_won()
        digest = self.env["crm.registration.compliance"]._cron_send_digest()
        rows = dict(digest)[self.approver.id]
        rep_row = next(row for row in rows if row["user"] == self.rep.name)
        self.assertEqual(rep_row["unregistered"], 1)
        mail = self.env["mail.mail"].search(
            [
                "|",
                ("email_to", "ilike", "wang@yuntu-sales.example.com"),
                ("recipient_ids", "in", self.approver.partner_id.ids),
            ]
        )
        self.assertEqual(len(mail), 1)
        self.assertIn(self.rep.name, str(mail.body_html))
        self.assertIn("报备合规", mail.subject)
