from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import RegistrationCase, locked_elsewhere


@tagged("post_install", "-at_install", "opportunity_registration")
class TestRegistrationApproval(RegistrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bands = cls.env["crm.lead.registration.band"]._get_company_bands(cls.company)
        cls.band = {band.code: band for band in cls.bands}

    def _submitted(self, amount, **overrides):
        lead = self._lead(expected_revenue=amount, **overrides)
        lead.with_user(self.rep).action_registration_submit()
        return lead

    def test_default_bands_follow_the_spec(self):
        self.assertEqual(
            [(b.code, b.lower_bound, b.approval) for b in self.bands],
            [
                ("small", 0, "automatic"),
                ("ordinary", 20000, "team_leader"),
                ("important", 50000, "deputy_manager"),
                ("major", 200000, "branch_manager"),
            ],
        )
        definitions = self.bands.tier_definition_id
        self.assertEqual(
            len(definitions.filtered("active")), 3, "no definition fires for the automatic band"
        )

    def test_each_amount_is_reviewed_by_its_band_only(self):
        cases = [
            (19999.99, "small", None),
            (20000, "ordinary", self.approver),
            (49999.99, "ordinary", self.approver),
            (50000, "important", self.deputy),
            (199999.99, "important", self.deputy),
            (200000, "major", self.branch),
        ]
        for index, (amount, band, approver) in enumerate(cases):
            lead = self._submitted(amount, partner_id=False, partner_name="Customer %d" % index)
            reg = lead.registration_id
            self.assertEqual(reg.band, band, amount)
            if approver is None:
                self.assertEqual(reg.state, "approved")
                self.assertFalse(reg.review_ids)
                continue
            self.assertEqual(reg.state, "submitted")
            self.assertEqual(len(reg.review_ids), 1, "exactly one band fires")
            self.assertEqual(reg.review_ids.reviewer_ids, approver)
            activity = lead.activity_ids.filtered(lambda a: a.user_id == approver)
            self.assertEqual(len(activity), 1, "the approver gets an activity on the opportunity")

    def test_to_approve_filter_lists_the_reviews_waiting_for_me(self):
        self.band["major"].write(
            {"second_approval": "user", "second_approver_user_id": self.approver.id}
        )
        ordinary = self._submitted(30000, partner_id=False, partner_name="Filter One")
        important = self._submitted(60000, partner_id=False, partner_name="Filter Two")
        major = self._submitted(250000, partner_id=False, partner_name="Filter Three")
        decided = self._submitted(30000, partner_id=False, partner_name="Filter Four")
        decided.registration_id.with_user(self.approver).action_approve()
        everything = ordinary | important | major | decided
        Lead = self.env["crm.lead"].with_user(self.approver)
        mine = Lead.search([("registration_to_approve", "=", True), ("id", "in", everything.ids)])
        self.assertEqual(mine, ordinary | major, "first step of one, second step of the other")
        self.assertEqual(
            Lead.search([("registration_to_approve", "=", False), ("id", "in", everything.ids)]),
            important | decided,
        )
        for lead in everything:
            self.assertEqual(lead.with_user(self.approver).registration_to_approve, lead in mine)
        # every operator Odoo 19 offers on a boolean
        for domain, expected in (
            ([("registration_to_approve", "!=", True)], important | decided),
            ([("registration_to_approve", "!=", False)], ordinary | major),
            ([("registration_to_approve", "in", [True, False])], everything),
            ([("registration_to_approve", "not in", [True])], important | decided),
            ([("registration_to_approve", "=", 1)], ordinary | major),
        ):
            with self.subTest(domain=domain):
                self.assertEqual(Lead.search(domain + [("id", "in", everything.ids)]), expected)
        self.assertEqual(
            self.env["crm.lead"]
            .with_user(self.deputy)
            .search([("registration_to_approve", "=", True), ("id", "in", everything.ids)]),
            important,
        )

    def test_approver_is_asked_once_by_email_and_gets_a_to_do(self):
        self.approver.notification_type = "email"
        before = self.env["mail.notification"].search(
            [("res_partner_id", "=", self.approver.partner_id.id)]
        )
        lead = self._submitted(30000)
        asked = self.env["mail.notification"].search(
            [("res_partner_id", "=", self.approver.partner_id.id), ("id", "not in", before.ids)]
        )
        self.assertEqual(len(asked), 1, "one e-mail for one review request")
        self.assertEqual(asked.notification_type, "email")
        self.assertEqual(asked.mail_message_id.model, "crm.lead.registration")
        self.assertEqual(len(lead.activity_ids.filtered(lambda a: a.user_id == self.approver)), 1)

    def test_approve_with_comment_from_the_opportunity(self):
        lead = self._submitted(30000)
        lead.with_user(self.approver).action_registration_approve(comment="Budget confirmed by CFO")
        reg = lead.registration_id
        self.assertEqual(reg.state, "approved")
        self.assertEqual(reg.validation_status, "validated")
        self.assertEqual(reg.review_ids.done_by, self.approver)
        self.assertEqual(reg.review_ids.comment, "Budget confirmed by CFO")
        self.assertTrue(any("Budget confirmed by CFO" in b for b in self._messages(lead)))
        self.assertFalse(
            lead.activity_ids.filtered(lambda a: a.user_id == self.approver),
            "the review activity is done",
        )

    def test_reject_with_comment_returns_it_to_the_rep(self):
        lead = self._submitted(30000)
        lead.with_user(self.approver).action_registration_reject(reason="Need is not specific")
        reg = lead.registration_id
        self.assertEqual(reg.state, "rejected")
        self.assertEqual(reg.close_reason, "Need is not specific")
        self.assertTrue(any("Need is not specific" in b for b in self._messages(lead)))
        self.assertEqual(lead.registration_state, "rejected")
        lead.with_user(self.rep).action_registration_submit()
        self.assertEqual(lead.registration_state, "submitted")

    def test_engine_validate_and_comment_wizard_approve(self):
        lead = self._submitted(30000)
        reg = lead.registration_id.with_user(self.approver)
        self.assertTrue(reg.can_review)
        action = reg.validate_tier()
        self.assertEqual(action["res_model"], "comment.wizard", "approval asks for a comment")
        wizard = (
            self.env["comment.wizard"]
            .with_user(self.approver)
            .with_context(**action["context"])
            .create({"comment": "OK for me"})
        )
        wizard.add_comment()
        self.assertEqual(lead.registration_state, "approved")

    def test_self_approval_is_refused_even_for_admins(self):
        self.band["ordinary"].write({"approval": "user", "approver_user_id": self.manager.id})
        # the manager belongs to no sales team: registered without one
        lead = self._lead(user=self.manager, expected_revenue=30000, team_id=False)
        lead.with_user(self.manager).action_registration_submit()
        reg = lead.registration_id
        self.assertNotIn(self.manager, reg.approver_ids, "the submitter is never an approver")
        with self.assertRaisesRegex(AccessError, "your own registration"):
            reg.with_user(self.manager).validate_tier()
        with self.assertRaisesRegex(AccessError, "your own registration"):
            lead.with_user(self.manager).action_registration_approve()
        self.assertEqual(reg.state, "submitted")
        self.assertEqual(reg.review_ids.status, "pending")

    def test_wrong_band_approver_is_refused(self):
        lead = self._submitted(60000)
        reg = lead.registration_id
        with self.assertRaisesRegex(AccessError, "not an approver"):
            reg.with_user(self.approver).validate_tier()
        with self.assertRaisesRegex(AccessError, "not an approver"):
            lead.with_user(self.approver).action_registration_reject(reason="no")
        self.assertEqual(reg.review_ids.status, "pending")
        lead.with_user(self.deputy).action_registration_approve()
        self.assertEqual(reg.state, "approved")

    def test_important_band_makes_the_approver_follow(self):
        lead = self._submitted(80000)
        self.assertIn(self.deputy.partner_id, lead.message_partner_ids)

    def test_escalation_after_working_days(self):
        self.company.registration_escalation_days = 2
        lead = self._submitted(30000)
        fresh = self._submitted(30000, partner_id=False, partner_name="Fresh Ltd")
        reg = lead.registration_id
        reg.sudo().with_context(skip_validation_check=True).date_review_requested = (
            fields.Datetime.now() - timedelta(days=6)
        )
        self.deputy.notification_type = "email"
        escalated = self.env["crm.lead.registration"]._cron_escalate()
        self.assertEqual(escalated, reg)
        told = self.env["mail.notification"].search(
            [("res_partner_id", "=", self.deputy.partner_id.id)]
        )
        self.assertEqual(len(told), 1, "the escalated approver is e-mailed once, by the activity")
        self.assertEqual(reg.approver_ids, self.approver | self.deputy)
        self.assertIn(self.deputy, reg.review_ids.reviewer_ids)
        self.assertFalse(fresh.registration_id.escalated)
        self.assertTrue(any("escalated" in b and "Deputy Zhao" in b for b in self._messages(lead)))
        self.assertFalse(self.env["crm.lead.registration"]._cron_escalate(), "escalated once")
        lead.with_user(self.deputy).action_registration_approve()
        self.assertEqual(lead.registration_state, "approved")

    def test_highest_band_escalates_to_registration_managers(self):
        """The major band has no band above it: a review pending too long goes
        to the registration managers instead of stopping the sweep."""
        self.company.registration_escalation_days = 2
        major = self._waiting("Biggest Deal Ltd", 6, amount=250000)
        ordinary = self._waiting("Ordinary Deal Ltd", 6)
        managers = self.env["crm.lead.registration"]._registration_managers()
        self.assertTrue(managers)
        escalated = self.env["crm.lead.registration"]._cron_escalate()
        self.assertEqual(escalated, major.registration_id | ordinary.registration_id)
        self.assertEqual(major.registration_id.approver_ids, self.branch | managers)
        self.assertEqual(ordinary.registration_id.approver_ids, self.approver | self.deputy)

    def _waiting(self, name, days, amount=30000):
        lead = self._submitted(amount, partner_id=False, partner_name=name)
        lead.registration_id.sudo().with_context(
            skip_validation_check=True
        ).date_review_requested = fields.Datetime.now() - timedelta(days=days)
        return lead

    def test_escalation_sweep_goes_by_batches_longest_waiting_first(self):
        """A backlog is escalated a batch per run, the longest waiting first, the
        job coming back at once for the rest."""
        self.company.registration_escalation_days = 2
        recent = self._waiting("Waited Less Ltd", 6)
        oldest = self._waiting("Waited Most Ltd", 9)
        cron = self.env.ref("opportunity_registration.ir_cron_registration_escalate")
        Registration = self.env["crm.lead.registration"].with_context(cron_id=cron.id)
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search_count([("cron_id", "=", cron.id)])
        with patch(
            "odoo.addons.opportunity_registration.models.crm_lead_registration_lifetime.SWEEP_BATCH",
            1,
        ):
            self.assertEqual(Registration._cron_escalate(), oldest.registration_id)
            self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), triggers + 1)
            self.assertFalse(recent.registration_id.escalated)
            self.assertEqual(Registration._cron_escalate(), recent.registration_id)
        for lead in (oldest, recent):
            self.assertEqual(lead.registration_id.approver_ids, self.approver | self.deputy)
            self.assertTrue(
                any("escalated" in b and "Deputy Zhao" in b for b in self._messages(lead))
            )
        self.assertFalse(Registration._cron_escalate(), "escalated once")

    def test_escalation_skips_registrations_being_written(self):
        """A review being decided while the sweep runs is not escalated under
        the approver's feet: it is skipped, the others are escalated, and the
        job comes back for it shortly."""
        self.company.registration_escalation_days = 2
        busy = self._waiting("Busy Review Ltd", 6)
        idle = self._waiting("Idle Review Ltd", 6)
        cron = self.env.ref("opportunity_registration.ir_cron_registration_escalate")
        Registration = self.env["crm.lead.registration"].with_context(cron_id=cron.id)
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search_count([("cron_id", "=", cron.id)])
        with locked_elsewhere(busy.registration_id):
            self.assertEqual(Registration._cron_escalate(), idle.registration_id)
        self.assertTrue(idle.registration_id.escalated)
        self.assertFalse(busy.registration_id.escalated, "skipped while being written")
        self.assertEqual(busy.registration_id.approver_ids, self.approver)
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), triggers + 1)
        self.assertEqual(Registration._cron_escalate(), busy.registration_id)
        self.assertIn(self.deputy, busy.registration_id.review_ids.reviewer_ids)

    def test_working_days_skip_weekends(self):
        Registration = self.env["crm.lead.registration"]
        monday = fields.Datetime.to_datetime("2026-11-23 10:00:00")
        with patch.object(fields.Datetime, "now", return_value=monday):
            self.assertEqual(Registration._working_days_ago(2).date().isoformat(), "2026-11-19")

    def test_raising_the_amount_into_a_higher_band_needs_new_approval(self):
        lead = self._submitted(30000)
        lead.with_user(self.approver).action_registration_approve()
        lead.with_user(self.rep).expected_revenue = 45000  # same band
        self.assertEqual(lead.registration_state, "approved")

        lead.with_user(self.rep).expected_revenue = 90000
        reg = lead.registration_id
        self.assertEqual(lead.registration_state, "submitted")
        self.assertEqual(reg.band, "important")
        self.assertEqual(reg.amount, 90000)
        self.assertEqual(reg.review_ids.reviewer_ids, self.deputy)
        rival = self._lead(user=self.rep2, name="Rival")
        with self.assertRaisesRegex(Exception, "Rep Zhang"):
            rival.with_user(self.rep2).action_registration_submit()
        lead.with_user(self.deputy).action_registration_approve()
        self.assertEqual(lead.registration_state, "approved")

        lead.with_user(self.rep).expected_revenue = 25000  # lowering keeps it
        self.assertEqual(lead.registration_state, "approved")

    def test_band_changes_reach_the_engine(self):
        self.band["ordinary"].write({"approval": "user", "approver_user_id": self.manager.id})
        self.band["important"].lower_bound = 40000
        lead = self._submitted(45000)
        reg = lead.registration_id
        self.assertEqual(reg.band, "important")
        self.assertEqual(reg.review_ids.reviewer_ids, self.deputy)
        other = self._submitted(30000, partner_id=False, partner_name="Other Ltd")
        self.assertEqual(other.registration_id.review_ids.reviewer_ids, self.manager)

        self.band["ordinary"].approval = "automatic"
        self.assertFalse(self.band["ordinary"].tier_definition_id.active)
        third = self._submitted(30000, partner_id=False, partner_name="Third Ltd")
        self.assertEqual(third.registration_state, "approved")

    def test_bad_bands_are_refused(self):
        bad_writes = [
            ("important", {"lower_bound": 20000}, "out of order"),
            ("major", {"lower_bound": 10000}, "out of order"),
            ("small", {"lower_bound": 100}, "start at 0"),
            ("major", {"approval": "user"}, "choose the user"),
            ("ordinary", {"approval": "group"}, "choose the group"),
        ]
        for code, vals, message in bad_writes:
            with self.assertRaisesRegex(ValidationError, message), self.env.cr.savepoint():
                self.band[code].write(vals)
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.band["small"].lower_bound = -5
            self.env.flush_all()
        self.env.invalidate_all()
        self.assertEqual(
            [(b.lower_bound, b.approval) for b in self.bands],
            [
                (0, "automatic"),
                (20000, "team_leader"),
                (50000, "deputy_manager"),
                (200000, "branch_manager"),
            ],
            "nothing was saved",
        )

    def test_weekly_follow_up_by_band(self):
        ordinary = self._submitted(30000)
        ordinary.with_user(self.approver).action_registration_approve()
        major = self._submitted(300000, partner_id=False, partner_name="Big Ltd")
        major.with_user(self.branch).action_registration_approve()

        def follow_ups(lead):
            return lead.activity_ids.filtered(lambda a: "Weekly follow-up" in (a.summary or ""))

        self.assertEqual(follow_ups(ordinary).user_id, self.rep)
        self.assertEqual(
            follow_ups(major).user_id, self.branch, "major deals: the branch manager personally"
        )

        # A week later with no update: one reminder each, not twice.
        follow_ups(ordinary | major).unlink()
        (ordinary | major).registration_id.sudo().with_context(
            skip_validation_check=True
        ).date_approved = fields.Datetime.now() - timedelta(days=8)
        major.message_post(body="Met the CIO", message_type="comment")
        stale = self.env["crm.lead.registration"]._cron_remind_follow_up()
        self.assertEqual(stale, ordinary.registration_id)
        self.assertEqual(follow_ups(ordinary).user_id, self.rep)
        self.assertFalse(self.env["crm.lead.registration"]._cron_remind_follow_up())

    def test_follow_up_reminders_go_by_batches_oldest_first(self):
        """A backlog of stale registrations is reminded a batch per run, those
        approved the longest ago first, the job coming back at once for the rest."""
        leads = [
            self._submitted(10000, partner_id=False, partner_name="Quiet Customer %d Ltd" % n)
            for n in range(2)
        ]
        for days, lead in zip((9, 12), leads, strict=True):
            lead.activity_ids.unlink()
            lead.registration_id.sudo().with_context(skip_validation_check=True).date_approved = (
                fields.Datetime.now() - timedelta(days=days)
            )
        cron = self.env.ref("opportunity_registration.ir_cron_registration_follow_up")
        Registration = self.env["crm.lead.registration"].with_context(cron_id=cron.id)
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search_count([("cron_id", "=", cron.id)])
        with patch(
            "odoo.addons.opportunity_registration.models.crm_lead_registration_lifetime.SWEEP_BATCH",
            4,
        ):
            self.assertEqual(Registration._cron_remind_follow_up(), leads[1].registration_id)
            self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), triggers + 1)
            self.assertEqual(Registration._cron_remind_follow_up(), leads[0].registration_id)
            self.assertFalse(Registration._cron_remind_follow_up())
        for lead in leads:
            self.assertEqual(lead.activity_ids.user_id, self.rep)

    def test_foreign_currency_budget_is_converted_at_submission(self):
        company_currency = self.company.currency_id
        foreign = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("id", "!=", company_currency.id)], limit=1)
        )
        foreign.active = True
        self.env["res.currency.rate"].search(
            [("currency_id", "in", (foreign | company_currency).ids)]
        ).unlink()
        # 1 company currency unit = 0.5 foreign unit: 15,000 foreign = 30,000.
        self.env["res.currency.rate"].create(
            {
                "currency_id": foreign.id,
                "rate": 0.5,
                "name": self.today - timedelta(days=1),
                "company_id": self.company.id,
            }
        )
        self.env["res.currency.rate"].create(
            {
                "currency_id": company_currency.id,
                "rate": 1.0,
                "name": self.today - timedelta(days=1),
                "company_id": self.company.id,
            }
        )
        lead = self._lead(
            expected_revenue=0, budget_currency_id=foreign.id, budget_amount_currency=15000
        )
        self.assertEqual(lead.registration_band, "ordinary")
        lead.with_user(self.rep).action_registration_submit()
        self.assertAlmostEqual(lead.registration_id.amount, 30000, places=2)
        self.assertEqual(lead.registration_id.band, "ordinary")
        self.assertEqual(lead.registration_id.review_ids.reviewer_ids, self.approver)
