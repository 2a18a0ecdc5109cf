"""Trust, round 2: breaks found by an outside attacker who was not a list.

Each test covers the class of the break (every person, every route to it),
not the one call that was reported.
"""

from datetime import timedelta

from odoo import fields
from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import RegistrationCase


@tagged("post_install", "-at_install", "opportunity_registration")
class TestTrustRound2(RegistrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Round 2 Company B"})
        cls.rep_b = mail_new_test_user(
            cls.env,
            login="opreg_r2_rep_b",
            name="Rep Other Company",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
            groups="sales_team.group_sale_salesman",
        )
        cls.employee = mail_new_test_user(
            cls.env, login="opreg_r2_employee", name="Plain Employee", groups="base.group_user"
        )
        cls.all_docs = mail_new_test_user(
            cls.env,
            login="opreg_r2_all_docs",
            name="All Documents Rep",
            groups="sales_team.group_sale_salesman_all_leads",
        )

    def _submitted(self, amount, user=None, **overrides):
        lead = self._lead(user=user, expected_revenue=amount, **overrides)
        lead.with_user(user or self.rep).action_registration_submit()
        return lead

    def _refused(self, exception, method, *args, **kwargs):
        """Refused as one RPC call would be: nothing written."""
        with self.assertRaises(exception), self.env.cr.savepoint():
            method(*args, **kwargs)
        self.env.invalidate_all()

    # ------------------------------------------------------------
    # Invariant 6: only the module writes approval records
    # ------------------------------------------------------------

    def test_nobody_plants_moves_or_erases_a_registration_review(self):
        """Every internal person, whatever the review's fields say before or
        after the change: a review made for another document and then pointed
        at a registration is refused like a review made for it."""
        lead = self._submitted(900000)
        reg = lead.registration_id
        review = reg.sudo().review_ids
        definition = review.definition_id
        people = self.rep | self.rep2 | self.rep_b | self.employee | self.all_docs | self.manager
        for user in people:
            with self.subTest(user=user.login):
                Review = self.env["tier.review"].with_user(user).with_company(user.company_id)
                # made for a registration
                self._refused(
                    AccessError,
                    Review.create,
                    {"model": reg._name, "res_id": reg.id, "definition_id": definition.id},
                )
                # made for another document, then pointed at the registration
                decoy = Review.create(
                    {"model": "res.partner", "res_id": user.partner_id.id, "status": "pending"}
                )
                for vals in (
                    {"model": reg._name, "res_id": reg.id},
                    {"model": reg._name},
                    {"res_id": reg.id},
                    {"model": reg._name, "res_id": reg.id, "definition_id": definition.id},
                ):
                    self._refused(AccessError, decoy.write, vals)
                # the registration's own review
                self._refused(AccessError, review.with_user(user).write, {"status": "approved"})
                self._refused(AccessError, review.with_user(user).write, {"comment": "x"})
                self._refused(AccessError, review.with_user(user).unlink)
        self.assertEqual(reg.sudo().review_ids, review)
        self.assertEqual(review.status, "pending")
        # the approver still decides, on the module's review alone
        reg.with_user(self.branch).action_approve()
        self.assertEqual(reg.state, "approved")

    def test_a_planted_review_cannot_stall_or_approve(self):
        """The reported attack, end to end: a rep who approves nothing tries
        to approve a major deal, a rival tries to stall it for good."""
        lead = self._submitted(900000)
        reg = lead.registration_id
        for user in (self.all_docs, self.rep2):
            decoy = (
                self.env["tier.review"]
                .with_user(user)
                .create({"model": "res.partner", "res_id": user.partner_id.id})
            )
            self._refused(AccessError, decoy.write, {"model": reg._name, "res_id": reg.id})
            self._refused(AccessError, reg.with_user(user).validate_tier)
        self.assertEqual(len(reg.sudo().review_ids), 1)
        self.assertEqual(reg.state, "submitted")
        reg.with_user(self.branch).action_approve()
        self.assertEqual(reg.state, "approved")
        self.assertEqual(reg.approved_by_id, self.branch)

    # ------------------------------------------------------------
    # Invariant 7: the approver is not the rep's choice
    # ------------------------------------------------------------

    def _friendly_team(self):
        friend = mail_new_test_user(
            self.env,
            login="opreg_r2_friend",
            name="Friendly Leader",
            groups="sales_team.group_sale_salesman_all_leads",
        )
        return self.env["crm.team"].create(
            {
                "name": "Friendly",
                "user_id": friend.id,
                "deputy_manager_id": friend.id,
                "branch_manager_id": friend.id,
            }
        )

    def test_a_rep_registers_only_in_a_team_they_belong_to(self):
        """Whatever the band, whoever submits: the team (which picks the
        approver) is one the owner belongs to."""
        friendly = self._friendly_team()
        for amount in (5000, 30000, 80000, 500000):
            with self.subTest(amount=amount):
                lead = self._lead(
                    expected_revenue=amount,
                    team_id=friendly.id,
                    partner_id=False,
                    partner_name="Friendly Deal %s" % amount,
                )
                for submitter in (self.rep, self.manager):
                    self._refused(UserError, lead.with_user(submitter).action_registration_submit)
                self.assertEqual(lead.registration_state, "draft")
                self.assertFalse(lead.registration_ids)
        # in the rep's own team the band's approver is asked
        lead = self._lead(expected_revenue=500000)
        lead.with_user(self.rep).action_registration_submit()
        self.assertEqual(lead.registration_id.sudo().review_ids.reviewer_ids, self.branch)

    def test_an_opportunity_without_team_takes_its_owners(self):
        lead = self._lead(team_id=False)
        lead.with_user(self.rep).action_registration_submit()
        self.assertEqual(lead.team_id, self.team)
        self.assertEqual(lead.registration_id.team_id, self.team)

    def test_the_team_of_a_registered_opportunity_stays_the_owners(self):
        """Moved after submission or after approval, by the rep or a manager."""
        friendly = self._friendly_team()
        second = self.env["crm.team"].create({"name": "West", "user_id": self.rep.id})
        for amount in (5000, 30000):
            lead = self._lead(
                expected_revenue=amount, partner_id=False, partner_name="Moved Co %s" % amount
            )
            lead.with_user(self.rep).action_registration_submit()
            for user in (self.rep, self.manager):
                self._refused(UserError, lead.with_user(user).write, {"team_id": friendly.id})
                self._refused(UserError, lead.with_user(user).write, {"team_id": False})
            self.assertEqual(lead.team_id, self.team)
            # another team of the owner's is fine
            lead.with_user(self.rep).team_id = second
            self.assertEqual(lead.team_id, second)

    def test_a_team_scoped_lock_cannot_be_dodged_by_another_team(self):
        self.company.registration_scope = "team"
        self._friendly_team()
        held = self._lead()
        held.with_user(self.rep).action_registration_submit()
        other = self.env["crm.team"].search([("name", "=", "Friendly")])
        rival = self._lead(user=self.rep2, team_id=other.id)
        self._refused(UserError, rival.with_user(self.rep2).action_registration_submit)
        self.assertEqual(rival.registration_state, "draft")

    # ------------------------------------------------------------
    # Invariant 8: a lock ends by its owner's doing or its term
    # ------------------------------------------------------------

    def _age(self, lead, **vals):
        lead.registration_id.sudo().with_context(skip_validation_check=True).write(vals)
        lead._sync_registration()

    def test_an_undecided_review_goes_back_to_its_owner(self):
        self.company.registration_claim_cooldown_days = 30
        lead = self._submitted(30000)
        reg = lead.registration_id
        self._age(
            lead,
            date_review_requested=fields.Datetime.now()
            - timedelta(days=self.company.registration_pending_days + 1),
        )
        self.env["crm.lead.registration"]._cron_expire()
        self.assertEqual(reg.state, "withdrawn")
        self.assertEqual(lead.user_id, self.rep, "the opportunity stays the owner's")
        # not in the pool: a colleague can neither read nor claim it
        self.assertFalse(self.env["crm.lead"].with_user(self.rep2).search([("id", "=", lead.id)]))
        todo = lead.activity_ids.filtered(lambda a: a.user_id == self.rep)
        self.assertTrue(todo.filtered(lambda a: reg.name in (a.summary or "")))
        # no cooldown: the owner submits again at once, as a new review
        lead.with_user(self.rep).action_registration_submit()
        new = lead.registration_id
        self.assertNotEqual(new, reg)
        self.assertEqual(new.state, "submitted")
        self.assertGreater(new.date_review_requested, fields.Datetime.now() - timedelta(minutes=5))

    def test_a_lock_reviewed_again_keeps_its_term(self):
        """An approved lock whose raised amount waits for a decision is held to
        the protection end it was granted, whoever does not decide."""
        lead = self._submitted(5000)
        reg = lead.registration_id
        end = reg.protection_end_date
        lead.with_user(self.rep).expected_revenue = 80000
        self.assertEqual(reg.state, "submitted")
        self._age(
            lead,
            date_review_requested=fields.Datetime.now()
            - timedelta(days=self.company.registration_pending_days + 5),
        )
        self.env["crm.lead.registration"]._cron_expire()
        self.assertEqual(reg.state, "submitted", "held until its protection end")
        self.assertEqual(reg.protection_end_date, end)
        rival = self._lead(user=self.rep2)
        self._refused(UserError, rival.with_user(self.rep2).action_registration_submit)
        self._age(lead, protection_end_date=self.today - timedelta(days=1))
        self.env["crm.lead.registration"]._cron_expire()
        self.assertEqual(reg.state, "expired")

    # ------------------------------------------------------------
    # Invariant 9: the pool shows a customer, not a history
    # ------------------------------------------------------------

    def _history_is_private(self, lead, user):
        """``user`` learns nothing of ``lead`` but what the pool shows."""
        Lead = self.env["crm.lead"].with_user(user)
        self.assertFalse(Lead.search([("id", "=", lead.id)]))
        self.assertFalse(Lead.search([("expected_revenue", ">", 0), ("id", "=", lead.id)]))
        with self.assertRaises(AccessError):
            Lead.browse(lead.id).read(["expected_revenue", "description", "need_description"])
        self.assertFalse(
            self.env["mail.message"]
            .with_user(user)
            .search([("model", "=", "crm.lead"), ("res_id", "=", lead.id)])
        )
        total = Lead.read_group([("id", "=", lead.id)], ["expected_revenue:sum"], [])
        self.assertFalse(total[0]["expected_revenue"])

    def test_the_pool_shows_the_customer_and_why_only(self):
        lead = self._submitted(5000, description="Confidential: margin 40%")
        lead.message_post(body="Their CFO owes us a favour", message_type="comment")
        lead.with_user(self.rep).action_registration_release(reason="Budget frozen")
        Pool = self.env["crm.lead.pool"]
        entry = Pool.with_user(self.rep2).search([("customer_name", "=", "杭州云图科技有限公司")])
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.pool_reason, "released")
        self.assertEqual(entry.previous_user_id, self.rep)
        shown = set(Pool.with_user(self.rep2).fields_get())
        self.assertFalse(
            shown & {"expected_revenue", "description", "close_reason", "amount", "lead_id"},
            "a rep reads no amount, note or reason through the pool",
        )
        self._history_is_private(lead, self.rep2)
        # another company's rep sees nothing of it
        self.assertFalse(Pool.with_user(self.rep_b).search([]))
        self._refused(AccessError, lead.with_user(self.rep_b).action_registration_claim)
        # claiming from the pool makes it the rep's
        entry.with_user(self.rep2).action_claim()
        self.assertEqual(lead.user_id, self.rep2)
        self.assertEqual(lead.registration_id.user_id, self.rep2)
        self.assertFalse(Pool.with_user(self.rep2).search([("id", "=", entry.id)]))

    def test_lost_won_and_archived_deals_are_not_in_the_pool(self):
        lost = self._submitted(5000, partner_id=False, partner_name="Lost Deal Co")
        reason = self.env["crm.lost.reason"].create({"name": "Price"})
        lost.with_user(self.rep).action_set_lost(lost_reason_id=reason.id)
        self.assertEqual(lost.registration_state, "released")
        won = self._submitted(5000, partner_id=False, partner_name="Won Deal Co")
        won.with_user(self.rep).action_set_won()
        archived = self._submitted(5000, partner_id=False, partner_name="Archived Deal Co")
        archived.with_user(self.rep).action_registration_release(reason="later")
        archived.with_user(self.rep).action_archive()
        pool = self.env["crm.lead.pool"].with_user(self.rep2).search([])
        for lead in (lost, won, archived):
            self.assertNotIn(lead.registration_id.customer_name, pool.mapped("customer_name"))
            self._history_is_private(lead, self.rep2)
            self._refused(UserError, lead.with_user(self.rep2).action_registration_claim)

    # ------------------------------------------------------------
    # Invariant 5: bad input gets a message, not a traceback
    # ------------------------------------------------------------

    def test_dates_the_orm_cannot_read_are_refused_clearly(self):
        lead = self._lead()
        for field in ("date_deadline", "date_closed", "date_open", "date_conversion"):
            for value in ("not a date", "2027-13-45", {"a": 1}, ["2027-01-01"]):
                with self.subTest(field=field, value=value):
                    self._refused(ValidationError, lead.with_user(self.rep).write, {field: value})
                    self._refused(
                        ValidationError,
                        self.env["crm.lead"].with_user(self.rep).create,
                        dict(self._lead_vals(), **{field: value}),
                    )
        self.assertFalse(lead.date_closed)

    def test_registrations_are_not_archived(self):
        reg = self._submitted(5000).registration_id
        for method in ("action_archive", "action_unarchive"):
            for user in (self.rep, self.manager):
                self._refused(UserError, getattr(reg.with_user(user), method))
        self.assertEqual(reg.state, "approved")
