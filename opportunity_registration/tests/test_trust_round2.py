"""Trust, round 2: breaks found by an outside attacker who was not a list.

Each test covers the class of the break (every person, every route to it),
not the one call that was reported.
"""

from datetime import timedelta

from odoo import fields
from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.exceptions import AccessError, UserError
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
