from datetime import timedelta

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged, users

from .common import RegistrationCase


@tagged("post_install", "-at_install", "opportunity_registration")
class TestRegistrationLifecycle(RegistrationCase):
    # ------------------------------------------------------------
    # Submission
    # ------------------------------------------------------------

    @users("opreg_rep")
    def test_submit_creates_snapshot_and_mirrors_it(self):
        lead = self._lead()
        lead.action_registration_submit()

        reg = lead.registration_id
        self.assertEqual(lead.registration_state, "submitted")
        self.assertEqual(reg.state, "submitted")
        self.assertRegex(reg.name, r"^REG/\d{4}/\d{5}$")
        self.assertEqual(lead.registration_number, reg.name)
        self.assertEqual(reg.user_id, self.rep)
        self.assertEqual(reg.submitted_by_id, self.rep)
        self.assertEqual(reg.amount, 30000)
        self.assertEqual(reg.band, "ordinary")
        self.assertEqual(reg.customer_name, "杭州云图科技有限公司")
        self.assertEqual(reg.customer_key, lead.customer_key)
        self.assertTrue(reg.customer_key)
        self.assertFalse(lead.protection_end_date, "not locked before approval")
        submitted = [m for m, text in self._chatter(lead) if "Registration submitted" in text]
        self.assertEqual(submitted[0].author_id, self.rep.partner_id, "logged by the rep")

        # The registered amount follows the opportunity within its band, and
        # says so on the chatter: they never disagree silently.
        lead.expected_revenue = 45000
        self.assertEqual(reg.amount, 45000)
        self.assertEqual(reg.band, "ordinary")
        self.assertTrue(any("Amount: 30000.0 → 45000.0" in body for body in self._messages(lead)))
        self.assertIn("amount_changed", reg.sudo().event_ids.mapped("event"))

    def test_numbers_follow_a_sequence_per_company(self):
        first = self._lead()
        second = self._lead(user=self.rep2, partner_id=False, partner_name="Blue Ocean Ltd")
        (first | second).with_user(self.manager).action_registration_submit()
        n1 = int(first.registration_number.rsplit("/", 1)[1])
        n2 = int(second.registration_number.rsplit("/", 1)[1])
        self.assertEqual(abs(n2 - n1), 1)

        other_company = self.env["res.company"].create({"name": "Branch Co"})
        seq = self.env["ir.sequence"].search(
            [("code", "=", "crm.lead.registration"), ("company_id", "=", other_company.id)]
        )
        self.assertEqual(len(seq), 1, "a new company gets its own sequence at once")
        self.assertEqual(
            self.env["crm.lead.registration"]._next_number(other_company)[-5:], "00001"
        )
        # an administrator deletes it: numbering starts again from a new one
        seq.unlink()
        self.assertEqual(
            self.env["crm.lead.registration"]._next_number(other_company)[-5:], "00001"
        )

    @users("opreg_rep")
    def test_small_band_is_approved_at_once(self):
        lead = self._lead(expected_revenue=19999.99)
        lead.action_registration_submit()
        self.assertEqual(lead.registration_state, "approved")
        self.assertEqual(lead.registration_id.band, "small")
        self.assertEqual(lead.protection_end_date, self.today + timedelta(days=90))
        self.assertFalse(lead.registration_id.approved_by_id)
        self.assertTrue(any("approved automatically" in b for b in self._messages(lead)))

    def test_completeness_lists_every_problem_at_once(self):
        lead = self._lead(
            email_from="not-an-email",
            phone="call me",
            need_description=False,
            expected_revenue=0,
            date_deadline=self.today - timedelta(days=1),
        )
        with self.assertRaises(ValidationError) as err:
            lead.with_user(self.rep).action_registration_submit()
        message = str(err.exception)
        for expected in (
            "E-mail: not-an-email",
            "Phone: call me",
            "Need description",
            "Budget",
            "is in the past",
        ):
            self.assertIn(expected, message)
        self.assertEqual(lead.registration_state, "draft")
        self.assertFalse(lead.registration_ids)

    def test_customer_and_contact_are_required(self):
        lead = self._lead(partner_id=False, email_from=False, phone=False)
        with self.assertRaises(ValidationError) as err:
            lead.with_user(self.rep).action_registration_submit()
        self.assertIn("Customer:", str(err.exception))
        self.assertIn("Contact:", str(err.exception))

    def test_mandatory_fields_follow_settings(self):
        settings = self.env["res.config.settings"].create({})
        settings.registration_require_need = False
        settings.registration_require_key_person = True
        settings.execute()
        self.assertFalse(self.company.registration_require_need)

        lead = self._lead(
            need_description=False, key_person_identified=False, key_person_name=False
        )
        with self.assertRaises(ValidationError) as err:
            lead.with_user(self.rep).action_registration_submit()
        self.assertIn("Key person", str(err.exception))
        self.assertNotIn("Need description", str(err.exception))

        lead.write({"key_person_identified": True, "key_person_name": "Mr Qian"})
        lead.with_user(self.rep).action_registration_submit()
        self.assertEqual(lead.registration_state, "submitted")

    def test_competitor_type_needs_the_competitor(self):
        lead = self._lead(deal_type="competitor")
        with self.assertRaises(ValidationError) as err:
            lead.with_user(self.rep).action_registration_submit()
        self.assertIn("Competitor", str(err.exception))

    def test_only_ongoing_opportunities_can_be_submitted(self):
        lead = self._lead()
        lead.action_set_won()
        with self.assertRaisesRegex(UserError, "closed"):
            lead.with_user(self.rep).action_registration_submit()
        prospect = self._lead(type="lead")
        with self.assertRaisesRegex(UserError, "convert it"):
            prospect.with_user(self.rep).action_registration_submit()

    # ------------------------------------------------------------
    # Transitions
    # ------------------------------------------------------------

    def test_approve_reject_resubmit(self):
        lead = self._lead()
        lead.with_user(self.rep).action_registration_submit()
        first = lead.registration_id

        with self.assertRaisesRegex(UserError, "Say why"):
            lead.with_user(self.approver).action_registration_reject()
        lead.with_user(self.approver).action_registration_reject(reason="Budget not confirmed")
        self.assertEqual(lead.registration_state, "rejected")
        self.assertEqual(first.close_reason, "Budget not confirmed")
        self.assertTrue(any("Budget not confirmed" in b for b in self._messages(lead)))

        lead.with_user(self.rep).action_registration_submit()
        second = lead.registration_id
        self.assertNotEqual(first, second)
        self.assertEqual(lead.registration_ids, first | second)

        lead.with_user(self.approver).action_registration_approve()
        self.assertEqual(lead.registration_state, "approved")
        self.assertEqual(second.approved_by_id, self.approver)
        self.assertEqual(lead.protection_end_date, self.today + timedelta(days=90))

    def test_nobody_approves_their_own_registration(self):
        lead = self._lead(user=self.approver)
        lead.with_user(self.approver).action_registration_submit()
        with self.assertRaisesRegex(AccessError, "your own registration"):
            lead.with_user(self.approver).action_registration_approve()
        with self.assertRaisesRegex(AccessError, "your own registration"):
            lead.with_user(self.approver).action_registration_reject(reason="x")
        self.assertEqual(lead.registration_state, "submitted")

    def test_reps_cannot_approve(self):
        lead = self._lead(user=self.rep2)
        lead.with_user(self.rep2).action_registration_submit()
        lead.sudo().user_id = self.rep  # rep can now read it, but is no approver
        with self.assertRaisesRegex(AccessError, "not an approver"):
            lead.with_user(self.rep).action_registration_approve()
        self.assertEqual(lead.registration_state, "submitted")

    def test_withdraw_by_owner_only(self):
        lead = self._lead()
        lead.with_user(self.rep).action_registration_submit()
        lead.sudo().user_id = False  # unassigned: every rep can see it, Rep Zhang still owns it
        with self.assertRaisesRegex(AccessError, "Only Rep Zhang"):
            lead.with_user(self.rep2).action_registration_withdraw()
        lead.with_user(self.rep).action_registration_withdraw(reason="Customer postponed")
        self.assertEqual(lead.registration_state, "withdrawn")
        self.assertEqual(lead.registration_id.close_reason, "Customer postponed")

    def test_release_by_owner_or_manager(self):
        mine = self._lead(expected_revenue=5000)
        mine.with_user(self.rep).action_registration_submit()
        self.assertEqual(mine.registration_state, "approved")
        mine.with_user(self.rep).action_registration_release()
        self.assertEqual(mine.registration_state, "released")
        self.assertFalse(mine.protection_end_date)

        other = self._lead(expected_revenue=5000, partner_id=False, partner_name="Other Ltd")
        other.with_user(self.rep).action_registration_submit()
        other.sudo().user_id = self.rep2
        with self.assertRaisesRegex(AccessError, "registration manager"):
            other.with_user(self.rep2).action_registration_release()
        other.with_user(self.manager).action_registration_release(reason="Neglected")
        self.assertEqual(other.registration_state, "released")

    def test_refused_transitions(self):
        lead = self._lead()
        with self.assertRaisesRegex(UserError, "Unregistered"):
            lead.with_user(self.approver).action_registration_approve()
        with self.assertRaisesRegex(UserError, "Unregistered"):
            lead.with_user(self.rep).action_registration_withdraw()
        lead.with_user(self.rep).action_registration_submit()
        with self.assertRaisesRegex(UserError, "already has an active registration"):
            lead.with_user(self.rep).action_registration_submit()
        with self.assertRaisesRegex(UserError, "Pending Review"):
            lead.with_user(self.rep).action_registration_release()
        lead.with_user(self.approver).action_registration_approve()
        with self.assertRaisesRegex(UserError, "Registered"):
            lead.with_user(self.rep).action_registration_withdraw()
        with self.assertRaisesRegex(UserError, "Registered"):
            lead.with_user(self.approver).action_registration_reject(reason="late")
        with self.assertRaisesRegex(UserError, "cannot be approved"):
            lead.registration_id.with_user(self.approver).action_approve()

    def test_expiry_cron(self):
        lead = self._lead(expected_revenue=1000)
        lead.with_user(self.rep).action_registration_submit()
        live = self._lead(expected_revenue=1000, partner_id=False, partner_name="Live Ltd")
        live.with_user(self.rep).action_registration_submit()
        lead.registration_id.sudo().protection_end_date = self.today - timedelta(days=1)
        expired = self.env["crm.lead.registration"]._cron_expire()
        self.assertEqual(expired, lead.registration_id)
        self.assertEqual(lead.registration_state, "expired")
        self.assertEqual(live.registration_state, "approved")
        self.assertTrue(any("expired" in b for b in self._messages(lead)))

    def test_reason_wizard(self):
        lead = self._lead()
        lead.with_user(self.rep).action_registration_submit()
        action = (
            lead.with_user(self.approver)
            .with_context(registration_action="reject")
            .action_open_registration_reason()
        )
        wizard_form = Form(
            self.env[action["res_model"]].with_user(self.approver).with_context(**action["context"])
        )
        wizard_form.reason = "Duplicate of an older deal"
        wizard_form.save().action_confirm()
        self.assertEqual(lead.registration_state, "rejected")
        self.assertEqual(lead.registration_id.close_reason, "Duplicate of an older deal")

    # ------------------------------------------------------------
    # Protection of the mirrored fields
    # ------------------------------------------------------------

    def test_protected_fields_cannot_be_written(self):
        lead = self._lead()
        for user in (self.rep, self.manager):
            with self.assertRaisesRegex(UserError, "registration actions"):
                lead.with_user(user).write({"registration_state": "approved"})
            with self.assertRaisesRegex(UserError, "registration_number"):
                lead.with_user(user).write({"registration_number": "FAKE"})
        with self.assertRaises(UserError):
            self.env["crm.lead"].with_user(self.rep).create(
                self._lead_vals(registration_state="approved")
            )
        self.assertEqual(lead.registration_state, "draft")

    def test_registration_documents_are_read_only_for_users(self):
        lead = self._lead()
        lead.with_user(self.rep).action_registration_submit()
        reg = lead.registration_id
        with self.assertRaises(AccessError):
            reg.with_user(self.rep).write({"state": "approved"})
        with self.assertRaises(AccessError):
            reg.with_user(self.manager).write({"state": "approved"})
        with self.assertRaises(AccessError):
            self.env["crm.lead.registration"].with_user(self.rep).create(
                {
                    "lead_id": lead.id,
                    "user_id": self.rep.id,
                }
            )
        self.assertEqual(reg.state, "submitted")

    # ------------------------------------------------------------
    # Conflicts and flags
    # ------------------------------------------------------------

    def test_second_rep_is_refused_with_owner_and_state(self):
        lead = self._lead()
        lead.with_user(self.rep).action_registration_submit()
        rival = self._lead(user=self.rep2, name="Yuntu ERP (again)")
        self.assertEqual(rival.registration_conflict_ids, lead)
        self.assertIn("Rep Zhang", rival.registration_conflict_message)
        with self.assertRaisesRegex(UserError, "Rep Zhang"):
            rival.with_user(self.rep2).action_registration_submit()
        self.assertEqual(rival.registration_state, "draft")

        lead.with_user(self.rep).action_registration_withdraw()
        rival.invalidate_recordset()
        self.assertFalse(rival.registration_conflict_ids)
        rival.with_user(self.rep2).action_registration_submit()
        self.assertEqual(rival.registration_state, "submitted")

    def test_won_without_registration_is_flagged(self):
        unregistered = self._lead()
        registered = self._lead(expected_revenue=1000, partner_id=False, partner_name="Reg Ltd")
        registered.with_user(self.rep).action_registration_submit()
        (unregistered | registered).action_set_won()
        self.assertTrue(unregistered.won_unregistered)
        self.assertFalse(registered.won_unregistered)

    def test_valid_opportunity(self):
        lead = self._lead()
        self.assertTrue(lead.is_valid_opportunity)
        lead.key_person_identified = False
        self.assertFalse(lead.is_valid_opportunity)
        lead.write({"key_person_identified": True, "expected_revenue": 0})
        self.assertFalse(lead.is_valid_opportunity)

    def test_band_boundaries_are_inclusive(self):
        company = self.company
        Band = self.env["crm.lead.registration.band"]
        self.assertEqual(Band._code_for_amount(company, 19999.99), "small")
        self.assertEqual(Band._code_for_amount(company, 20000), "ordinary")
        self.assertEqual(Band._code_for_amount(company, 49999.99), "ordinary")
        self.assertEqual(Band._code_for_amount(company, 50000), "important")
        self.assertEqual(Band._code_for_amount(company, 199999.99), "important")
        self.assertEqual(Band._code_for_amount(company, 200000), "major")
