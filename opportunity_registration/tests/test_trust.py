"""Regression tests of the ways a curious rep walked around a lock or an approval.

Each test is one break reported against the module, tried the way a rep would:
with nothing but the standard ORM/RPC methods and ordinary CRM operations.
"""

from datetime import timedelta

from odoo import fields
from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from ..models.customer_identity import normalize_phone
from .common import RegistrationCase


@tagged("post_install", "-at_install", "opportunity_registration")
class TestTrust(RegistrationCase):
    def _submitted(self, amount, user=None, **overrides):
        lead = self._lead(user=user, expected_revenue=amount, **overrides)
        lead.with_user(user or self.rep).action_registration_submit()
        return lead

    def _approved(self, user=None, **overrides):
        lead = self._submitted(5000, user=user, **overrides)
        self.assertEqual(lead.registration_state, "approved")
        return lead

    def _refused(self, exception, pattern, method, *args, **kwargs):
        """Call as one RPC call would be: refused, and rolled back."""
        with self.assertRaisesRegex(exception, pattern), self.env.cr.savepoint():
            method(*args, **kwargs)
        self.env.invalidate_all()

    def _age(self, lead, **vals):
        lead.registration_id.sudo().with_context(skip_validation_check=True).write(vals)
        lead._sync_registration()

    # ------------------------------------------------------------
    # Approval
    # ------------------------------------------------------------

    def test_rep_cannot_forge_or_erase_reviews(self):
        lead = self._submitted(900000)
        reg = lead.registration_id
        review = reg.sudo().review_ids
        self.assertEqual(review.reviewer_ids, self.branch)
        Review = self.env["tier.review"].with_user(self.rep)
        with self.assertRaises(AccessError):
            review.with_user(self.rep).unlink()
        with self.assertRaises(AccessError):
            review.with_user(self.rep).write({"status": "approved"})
        with self.assertRaises(AccessError):
            Review.create(
                {
                    "model": reg._name,
                    "res_id": reg.id,
                    "definition_id": review.definition_id.id,
                    "requested_by": self.rep.id,
                }
            )
        # a rival cannot block a pending registration by writing its review
        with self.assertRaises(AccessError):
            review.with_user(self.rep2).write({"status": "rejected"})
        # not even a registration manager writes the engine's records by hand
        with self.assertRaises(AccessError):
            review.with_user(self.manager).write({"status": "approved"})
        self.assertEqual(review.status, "pending")
        self.assertEqual(reg.state, "submitted")

    def test_owner_cannot_restart_or_request_validation(self):
        lead = self._submitted(80000)
        reg = lead.registration_id.with_user(self.rep)
        with self.assertRaises(AccessError):
            reg.restart_validation()
        with self.assertRaises(AccessError):
            reg.request_validation()
        with self.assertRaises(AccessError):
            reg.with_user(self.manager).restart_validation()
        self.assertTrue(reg.sudo().review_ids, "the reviews are still there")

    def test_without_reviews_only_the_band_approver_decides(self):
        """Reviews gone (as an earlier restart would leave them): the team leader
        may still not approve an important registration."""
        lead = self._submitted(80000)
        reg = lead.registration_id
        reg.sudo().review_ids.unlink()
        with self.assertRaises(AccessError):
            reg.with_user(self.approver).action_approve()
        with self.assertRaises(AccessError):
            reg.with_user(self.rep).action_approve()
        reg.with_user(self.deputy).action_approve()
        self.assertEqual(reg.state, "approved")
        self.assertEqual(reg.approved_by_id, self.deputy)

    def test_engine_wizard_decides_through_the_registration_checks(self):
        """The engine's comment wizard, given another registration's review."""
        mine = self._submitted(30000)  # ordinary: Leader Wang
        major = self._submitted(500000, partner_id=False, partner_name="Major Account Ltd")
        wizard = (
            self.env["comment.wizard"]
            .with_user(self.approver)
            .create(
                {
                    "res_model": "crm.lead.registration",
                    "res_id": major.registration_id.id,
                    "review_ids": [(6, 0, mine.registration_id.sudo().review_ids.ids)],
                    "validate_reject": "validate",
                    "comment": "ok",
                }
            )
        )
        with self.assertRaises(AccessError):
            wizard.add_comment()
        self.assertEqual(major.registration_state, "submitted")
        self.assertEqual(mine.registration_id.sudo().review_ids.status, "pending")

    def test_raising_a_pending_amount_reroutes_the_review(self):
        lead = self._submitted(30000)
        reg = lead.registration_id
        lead.with_user(self.rep).expected_revenue = 500000
        self.assertEqual(reg.band, "major")
        self.assertEqual(reg.amount, 500000)
        self.assertEqual(reg.state, "submitted")
        self.assertEqual(reg.sudo().review_ids.reviewer_ids, self.branch)
        with self.assertRaises(AccessError):
            lead.with_user(self.approver).action_registration_approve()
        self.assertFalse(lead.with_user(self.approver).registration_can_review)
        lead.with_user(self.branch).action_registration_approve()
        self.assertEqual(lead.registration_state, "approved")
        self.assertEqual(reg.amount, lead.expected_revenue)

    def test_approved_amount_raise_reviews_again_and_keeps_the_lock_ending(self):
        lead = self._approved()
        reg = lead.registration_id
        end = reg.protection_end_date
        lead.with_user(self.rep).expected_revenue = 80000
        self.assertEqual(reg.state, "submitted")
        self.assertEqual(reg.sudo().review_ids.reviewer_ids, self.deputy)
        self.assertEqual(reg.protection_end_date, end, "the lock still ends")
        self._age(lead, protection_end_date=self.today - timedelta(days=1))
        self.env["crm.lead.registration"]._cron_expire()
        self.assertEqual(reg.state, "expired", "a re-approval never freezes expiry")

    def test_archived_approver_is_skipped(self):
        self.deputy.active = False
        lead = self._submitted(80000)
        reg = lead.registration_id
        self.assertNotIn(self.deputy, reg.approver_ids)
        self.assertIn(self.manager, reg.approver_ids, "registration managers decide instead")
        reg.with_user(self.manager).action_approve()
        self.assertEqual(reg.state, "approved")

    def test_approver_preview_names_people(self):
        lead = self._lead(expected_revenue=80000)
        self.assertEqual(lead.with_user(self.rep).registration_approver_names, "Deputy Zhao")
        lead.expected_revenue = 5000
        self.assertEqual(lead.registration_approver_names, "Automatic")
        self.team.deputy_manager_id = False
        lead.expected_revenue = 80000
        self.assertIn("Registration managers", lead.registration_approver_names)
        self.assertIn("Manager Chen", lead.registration_approver_names)

    def test_approver_preview_is_cached_and_follows_changes(self):
        """The form reads who would approve without a query once known, and
        shows a renamed, replaced or archived approver at once."""
        lead = self._lead(expected_revenue=80000).with_user(self.rep)
        self.assertEqual(lead.registration_approver_names, "Deputy Zhao")
        lead.invalidate_recordset(["registration_approver_names"])
        with self.assertQueryCount(0):
            self.assertEqual(lead.registration_approver_names, "Deputy Zhao")
        self.deputy.partner_id.name = "Deputy Zhao Wei"
        lead.invalidate_recordset(["registration_approver_names"])
        self.assertEqual(lead.registration_approver_names, "Deputy Zhao Wei")
        self.team.deputy_manager_id = self.approver
        lead.invalidate_recordset(["registration_approver_names"])
        self.assertEqual(lead.registration_approver_names, self.approver.name)
        self.approver.active = False
        lead.invalidate_recordset(["registration_approver_names"])
        self.assertIn("Registration managers", lead.registration_approver_names)
        self.assertIn("Manager Chen", lead.registration_approver_names)
        lead.sudo().action_set_won()
        self.assertFalse(lead.registration_approver_names, "nothing to submit any more")

    # ------------------------------------------------------------
    # One owner per customer
    # ------------------------------------------------------------

    def test_company_typed_into_contact_is_the_same_customer(self):
        self._approved()  # 杭州云图科技有限公司, an organization
        person = (
            self.env["res.partner"]
            .with_user(self.rep2)
            .create(
                {
                    "name": "杭州云图科技有限公司",
                    "is_company": False,
                }
            )
        )
        rival = self._lead(user=self.rep2, partner_id=person.id)
        self.assertIn("Rep Zhang", rival.with_user(self.rep2).registration_conflict_message)
        with self.assertRaisesRegex(UserError, "Rep Zhang"):
            rival.with_user(self.rep2).action_registration_submit()

    def test_company_without_legal_form_typed_as_person_still_collides(self):
        globex = self.env["res.partner"].create({"name": "Globex", "is_company": True})
        self._approved(partner_id=globex.id)
        person = self.env["res.partner"].create({"name": "GLOBEX"})
        rival = self._lead(user=self.rep2, partner_id=person.id)
        with self.assertRaisesRegex(UserError, "Rep Zhang"):
            rival.with_user(self.rep2).action_registration_submit()

    def test_two_persons_sharing_a_name_are_two_customers(self):
        first = self.env["res.partner"].create({"name": "Wang Wei"})
        second = self.env["res.partner"].create({"name": "Wang Wei"})
        self._approved(partner_id=first.id)
        other = self._approved(user=self.rep2, partner_id=second.id)
        self.assertEqual(other.registration_state, "approved")

    def test_changing_the_customer_of_a_registered_opportunity_is_checked(self):
        held = self._approved()  # Rep Zhang holds Yuntu
        mine = self._approved(user=self.rep2, partner_id=False, partner_name="Free Trade Ltd")
        # to a customer someone else holds: refused, naming the holder
        self._refused(
            UserError,
            "Rep Zhang",
            mine.with_user(self.rep2).write,
            {"email_from": "boss@yuntu.example.com"},
        )
        self._refused(
            UserError,
            "Rep Zhang",
            mine.with_user(self.manager).write,
            {"partner_name": "杭州云图科技股份有限公司"},
        )
        # to another, free customer: a new registration, not a silent move
        self._refused(
            UserError,
            "cannot change",
            mine.with_user(self.rep2).write,
            {"partner_name": "Other Free Co"},
        )
        self.assertEqual(mine.partner_name, "Free Trade Ltd", "nothing half-written")
        self.assertEqual(mine.registration_id.customer_name, "Free Trade Ltd")
        # a registration manager moves it, through the same check
        mine.with_user(self.manager).write({"partner_name": "Other Free Co"})
        reg = mine.registration_id
        self.assertEqual(reg.customer_name, "Other Free Co")
        self.assertEqual(reg.customer_key, "otherfree")
        self.assertIn("rekeyed", reg.event_ids.mapped("event"))
        self.assertEqual(held.registration_state, "approved")

    def test_pending_registration_keeps_its_customer(self):
        """A pending registration holds its customer too: renaming it would free
        the name while the rep keeps the lock under another."""
        self._approved()
        pending = self._submitted(
            30000, user=self.rep2, partner_id=False, partner_name="Pending Co"
        )
        self._refused(
            UserError,
            "cannot change",
            pending.with_user(self.rep2).write,
            {"partner_name": "Pending Holdings Co"},
        )
        self._refused(
            UserError,
            "Rep Zhang",
            pending.with_user(self.manager).write,
            {"partner_name": "杭州云图科技"},
        )
        pending.with_user(self.manager).write({"partner_name": "Pending Holdings Co"})
        self.assertEqual(pending.registration_id.customer_key, "pendingholdings")
        # contact details go through the same check, for the rep too
        self._refused(
            UserError,
            "Rep Zhang",
            pending.with_user(self.rep2).write,
            {"phone": "+86 571 8888 6666"},
        )
        pending.with_user(self.rep2).write({"phone": "+86 21 6666 1234"})
        self.assertEqual(pending.registration_id.phone_key, normalize_phone("+86 21 6666 1234"))

    def test_renaming_a_partner_cannot_make_a_second_holder(self):
        held = self._approved()
        other = self.env["res.partner"].create({"name": "Blue Sky Ltd", "is_company": True})
        self._approved(user=self.rep2, partner_id=other.id)
        # renaming a held customer frees its name: not for a rep, the holder included
        self._refused(
            UserError,
            "cannot change",
            setattr,
            self.customer.with_user(self.rep2),
            "name",
            "Renamed Yuntu",
        )
        self._refused(
            UserError,
            "cannot change",
            setattr,
            self.customer.with_user(self.rep),
            "name",
            "Renamed Yuntu",
        )
        self.assertEqual(held.registration_id.customer_key, "杭州云图科技")
        # a registration manager renames, through the conflict check
        self._refused(
            UserError,
            "Rep Zhang",
            setattr,
            other.with_user(self.manager),
            "name",
            "杭州云图科技有限公司",
        )
        other.with_user(self.manager).name = "Blue Sky Holdings Ltd"
        reg = self.env["crm.lead.registration"].search([("partner_id", "=", other.id)])
        self.assertEqual(reg.customer_key, "blueskyholdings", "the lock follows the rename")

    def test_partner_contact_details_are_checked(self):
        """The e-mail or phone of a customer account flows into every opportunity
        of that account: the change goes through the check."""
        self._approved()
        other = self.env["res.partner"].create(
            {"name": "Blue Sky Ltd", "is_company": True, "email": "info@bluesky.example.com"}
        )
        mine = self._approved(user=self.rep2, partner_id=other.id, email_from=False)
        self.assertEqual(mine.registration_id.domain_key, "bluesky.example.com")
        self._refused(
            UserError,
            "Rep Zhang",
            setattr,
            other.with_user(self.rep2),
            "email",
            "ceo@yuntu.example.com",
        )
        # another rep cannot change a registered customer's details
        self._refused(
            UserError,
            "change through Rep Li",
            setattr,
            other.with_user(self.rep),
            "email",
            "sales@bluesky-group.example.com",
        )
        other.with_user(self.rep2).email = "sales@bluesky-group.example.com"
        self.assertEqual(mine.registration_id.domain_key, "bluesky-group.example.com")

    def test_merging_partners_cannot_make_a_second_holder(self):
        self._approved()
        twin = self.env["res.partner"].create({"name": "Yuntu Hangzhou", "is_company": True})
        self._approved(user=self.rep2, partner_id=twin.id)
        wizard = self.env["base.partner.merge.automatic.wizard"].create({})
        with self.assertRaisesRegex(UserError, "already registered|already has a registration"):
            wizard._merge((self.customer | twin).ids, self.customer)
        self.assertTrue(twin.exists())

    def test_merging_opportunities_keeps_registrations_and_history(self):
        held = self._approved()
        draft = self._lead(name="Duplicate of Yuntu", expected_revenue=1000, probability=90)
        self.assertEqual(
            (held | draft)._sort_by_confidence_level(reverse=True)[0],
            draft,
            "the registered opportunity is the one merged away",
        )
        reg = held.registration_id
        events = reg.event_ids
        survivor = (held | draft).with_user(self.manager).merge_opportunity()
        self.assertTrue(reg.exists())
        self.assertEqual(reg.lead_id, survivor)
        self.assertEqual(survivor.registration_id, reg)
        self.assertEqual(survivor.registration_state, "approved")
        self.assertEqual(survivor.user_id, self.rep, "the lock stays with its owner")
        self.assertTrue(events <= survivor.registration_event_ids)
        self.assertIn("merged", survivor.registration_event_ids.mapped("event"))

    def test_merging_two_holders_is_refused(self):
        first = self._approved()
        second = self._approved(user=self.rep2, partner_id=False, partner_name="Second Co")
        with self.assertRaisesRegex(UserError, "withdraw or release all but one"):
            (first | second).with_user(self.manager).merge_opportunity()

    def test_registered_opportunity_cannot_be_deleted(self):
        lead = self._approved()
        with self.assertRaisesRegex(UserError, "archive it instead"):
            lead.sudo().unlink()
        self.assertTrue(lead.registration_id.exists())

    def test_client_context_key_does_not_bypass_the_salesperson_guard(self):
        lead = self._approved()
        lead.sudo().user_id = False
        forged = lead.with_user(self.rep2).with_context(
            registration_transfer=True,
            skip_validation_check=True,
        )
        with self.assertRaisesRegex(UserError, "registered by Rep Zhang"):
            forged.write({"user_id": self.rep2.id})

    def test_registration_that_identifies_no_one_is_refused(self):
        lead = self._lead(
            partner_id=False,
            partner_name="🙂🙂",
            email_from="someone@gmail.com",
            phone=False,
        )
        with self.assertRaisesRegex(ValidationError, "does not identify a customer"):
            lead.with_user(self.rep).action_registration_submit()
        self.assertFalse(lead.registration_id)

    # ------------------------------------------------------------
    # Every lock ends
    # ------------------------------------------------------------

    def test_pending_registration_expires_after_the_settings_delay(self):
        self.company.write({"registration_pending_days": 10, "registration_warning_days": 3})
        lead = self._submitted(30000)
        reg = lead.registration_id
        self._age(lead, date_review_requested=fields.Datetime.now() - timedelta(days=8))
        warned = self.env["crm.lead.registration"]._cron_warn_expiry()
        self.assertEqual(warned, reg)
        warning = lead.activity_ids.filtered(lambda a: "expires on" in (a.summary or ""))
        self.assertEqual(warning.user_id, self.rep, "the owner is warned")
        self.assertTrue(reg.sudo().review_ids.last_reminder_date, "the approver is reminded")
        self._age(lead, date_review_requested=fields.Datetime.now() - timedelta(days=11))
        self.env["crm.lead.registration"]._cron_expire()
        # nobody decided: back to its owner, not into the pool
        self.assertEqual(reg.state, "withdrawn")
        self.assertFalse(reg.sudo().review_ids.filtered(lambda r: r.status == "pending"))

    def test_lost_or_archived_opportunity_releases_its_lock(self):
        lead = self._approved()
        reason = self.env["crm.lost.reason"].create({"name": "Too expensive"})
        lead.with_user(self.rep).action_set_lost(lost_reason_id=reason.id)
        reg = lead.registration_id
        self.assertEqual(reg.state, "released")
        self.assertEqual(reg.close_reason, "Too expensive")
        self.assertIn("lost", reg.event_ids.mapped("event"))
        pending = self._submitted(30000, partner_id=False, partner_name="Archived Co")
        pending.with_user(self.rep).action_archive()
        self.assertEqual(pending.registration_id.state, "withdrawn")

    def test_won_opportunity_closes_its_registration_as_won(self):
        lead = self._approved()
        lead.with_user(self.rep).action_set_won()
        self.assertEqual(lead.registration_state, "won")
        self.assertFalse(lead.protection_end_date)
        self.assertFalse(lead.won_unregistered)
        # the customer is free again
        rival = self._approved(user=self.rep2, name="Next deal")
        self.assertEqual(rival.registration_state, "approved")

    def test_won_customer_stays_with_the_winner_for_the_settings_days(self):
        self.company.registration_won_keep_days = 60
        lead = self._approved()
        lead.with_user(self.rep).action_set_won()
        reg = lead.registration_id
        self.assertEqual(reg.state, "approved")
        self.assertEqual(reg.protection_end_date, self.today + timedelta(days=60))
        rival = self._lead(user=self.rep2, name="Next deal", expected_revenue=5000)
        with self.assertRaisesRegex(UserError, "Rep Zhang"):
            rival.with_user(self.rep2).action_registration_submit()
        self._age(lead, protection_end_date=self.today - timedelta(days=1))
        self.env["crm.lead.registration"]._cron_expire()
        self.assertEqual(reg.state, "won")

    # ------------------------------------------------------------
    # Need to know
    # ------------------------------------------------------------

    def test_other_company_learns_nothing_through_the_form(self):
        self._approved()
        company_b = self.env["res.company"].create({"name": "Company B"})
        rep_b = mail_new_test_user(
            self.env,
            login="opreg_rep_b",
            name="Rep B",
            company_id=company_b.id,
            company_ids=[(6, 0, company_b.ids)],
            groups="sales_team.group_sale_salesman",
        )
        form = Form(self.env["crm.lead"].with_user(rep_b).with_company(company_b))
        form.name = "Probe"
        form.partner_name = "杭州云图科技有限公司"
        self.assertFalse(form.registration_conflict_message)
        # forging the company in the onchange values changes nothing
        probe = (
            self.env["crm.lead"]
            .with_user(rep_b)
            .new(
                {
                    "name": "Probe",
                    "partner_name": "杭州云图科技有限公司",
                    "company_id": self.company.id,
                }
            )
        )
        self.assertFalse(probe.registration_conflict_message)

    def test_registration_user_without_sales_reads_only_their_own(self):
        self._approved()
        self._approved(user=self.rep2, partner_id=False, partner_name="Rep Li Co")
        outsider = mail_new_test_user(
            self.env,
            login="opreg_reg_only",
            name="Registration Only",
            groups="opportunity_registration.group_registration_user",
        )
        Registration = self.env["crm.lead.registration"].with_user(outsider)
        self.assertFalse(Registration.search([]))
        self.assertFalse(Registration.read_group([], ["amount:sum"], [])[0]["amount"])
        self.assertFalse(self.env["crm.lead.registration.event"].with_user(outsider).search([]))
        # a rep reads their own registrations, not a colleague's
        own = self.env["crm.lead.registration"].with_user(self.rep2).search([])
        self.assertEqual(own.user_id, self.rep2)

    # ------------------------------------------------------------
    # The server decides; bad input
    # ------------------------------------------------------------

    def test_manager_methods_take_plain_ids_and_strings(self):
        lead = self._approved()
        reg = lead.registration_id.with_user(self.manager)
        reg.action_transfer(user=self.rep2.id, reason="Rep Zhang moved to another region")
        self.assertEqual(reg.user_id, self.rep2)
        self.assertEqual(lead.user_id, self.rep2)
        reg.action_grant_extension(str(self.today + timedelta(days=200)), reason="Long tender")
        self.assertEqual(reg.protection_end_date, self.today + timedelta(days=200))
        for bad in ("garbage", "2020-13-45", None, 12):
            with self.assertRaises(UserError, msg=bad) as refusal:
                reg.action_grant_extension(bad)
            self.assertIs(type(refusal.exception), UserError)
        for bad in ("abc", -3, 999999999, 1.5):
            with self.assertRaises(UserError, msg=bad):
                reg.action_transfer(user=bad, reason="x")
        with self.assertRaises(UserError):
            reg.action_transfer(user=self.rep.id, reason="x" * 5000)

    def test_absurd_amounts_are_refused(self):
        lead = self._lead()
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("id", "!=", self.company.currency_id.id)], limit=1)
        )
        currency.active = True
        for amount in (float("nan"), float("inf"), 1e308):
            with self.assertRaises(ValidationError, msg=amount):
                lead.write({"budget_currency_id": currency.id, "budget_amount_currency": amount})
            with self.assertRaises(ValidationError, msg=amount):
                lead.write({"expected_revenue": amount})
        self.assertEqual(lead.registration_band, "ordinary", "still readable")

    def test_oversized_contact_details_are_refused(self):
        with self.assertRaisesRegex(ValidationError, "at most"):
            self._lead(phone="1" * 30000)
        with self.assertRaisesRegex(ValidationError, "at most"):
            self._lead(email_from="a" * 300000 + "@example.com")
        lead = self._lead(phone="1" * 100)
        with self.assertRaisesRegex(ValidationError, "not a valid phone number"):
            lead.with_user(self.rep).action_registration_submit()

    def test_hostile_arguments_get_clear_errors(self):
        lead = self._approved()
        reg = lead.registration_id.with_user(self.manager)
        for bad in (float("inf"), float("-inf"), float("nan"), 2**80, "1e9", [1], {"id": 1}):
            with self.assertRaises(UserError, msg=repr(bad)):
                reg.action_transfer(user=bad, reason="x")
        # control characters in a reason are dropped, not stored
        pending = self._submitted(30000, partner_id=False, partner_name="Nul Co")
        pending.with_user(self.approver).action_registration_approve(comment="ok\x00 fine")
        self.assertEqual(pending.registration_id.sudo().review_ids.comment, "ok fine")
        with self.assertRaisesRegex(UserError, "not a document model"):
            self.env["tier.review"].with_user(self.rep).create(
                {
                    "model": "crm.lead.registration ",
                    "res_id": pending.registration_id.id,
                }
            )

    def test_release_reason_stays_off_the_public_pool(self):
        lead = self._approved()
        lead.with_user(self.rep).action_registration_release(reason="Customer owes us 30k")
        self.assertEqual(lead.registration_state, "released")
        self.assertFalse(
            any("owes" in body for body in self._messages(lead)),
            "whoever claims it reads the chatter",
        )
        self.assertEqual(lead.registration_id.close_reason, "Customer owes us 30k")

    def test_rep_cannot_clear_the_approvers_to_do(self):
        lead = self._submitted(30000)
        todo = lead.activity_ids.filtered(lambda a: a.user_id == self.approver)
        self.assertEqual(
            todo.activity_type_id,
            self.env.ref("opportunity_registration.mail_activity_type_registration_review"),
        )
        with self.assertRaises(AccessError):
            todo.with_user(self.rep).unlink()
        with self.assertRaises(AccessError):
            todo.with_user(self.rep).action_feedback(feedback="done")
        self.assertTrue(todo.exists())

    def test_withdraw_and_resubmit_keeps_the_pending_age(self):
        self.company.registration_pending_days = 10
        lead = self._submitted(30000)
        first = lead.registration_id
        self._age(lead, date_review_requested=fields.Datetime.now() - timedelta(days=9))
        lead.with_user(self.rep).action_registration_withdraw()
        lead.with_user(self.rep).action_registration_submit()
        second = lead.registration_id
        self.assertNotEqual(first, second)
        self.assertEqual(second.date_review_requested, first.date_review_requested)
        self.env["crm.lead.registration"]._cron_expire()
        self.assertEqual(second.state, "submitted")
        self._age(lead, date_review_requested=fields.Datetime.now() - timedelta(days=11))
        self.env["crm.lead.registration"]._cron_expire()
        self.assertEqual(second.state, "withdrawn")
        # raising the amount re-routes the review, it does not restart the clock
        again = self._submitted(30000, partner_id=False, partner_name="Clock Co")
        requested = again.registration_id.date_review_requested
        again.with_user(self.rep).expected_revenue = 80000
        self.assertEqual(again.registration_id.date_review_requested, requested)

    def test_lookalike_letters_are_one_customer(self):
        acme = self.env["res.partner"].create({"name": "Acme Robotics Ltd", "is_company": True})
        self._approved(partner_id=acme.id, email_from="buyer@acme-robotics.example.com")
        homoglyph = self._lead(
            user=self.rep2, partner_id=False, partner_name="\u0410cme Robotics Ltd"
        )  # Cyrillic А
        with self.assertRaisesRegex(UserError, "Rep Zhang"):
            homoglyph.with_user(self.rep2).action_registration_submit()

    def test_band_with_two_steps_is_approved_in_order(self):
        major = (
            self.env["crm.lead.registration.band"]
            ._get_company_bands(self.company)
            .filtered(lambda b: b.code == "major")
        )
        major.write({"approval": "team_leader", "second_approval": "branch_manager"})
        lead = self._lead(expected_revenue=500000)
        self.assertEqual(
            lead.with_user(self.rep).registration_approver_names,
            "Leader Wang, then Branch Manager Sun",
        )
        lead.with_user(self.rep).action_registration_submit()
        reg = lead.registration_id
        self.assertEqual(reg.approver_ids, self.approver)
        self.assertEqual(reg.second_approver_ids, self.branch)
        self.assertEqual(len(reg.sudo().review_ids), 2)
        with self.assertRaisesRegex(AccessError, "waits for Leader Wang first"):
            lead.with_user(self.branch).action_registration_approve()
        self.assertFalse(lead.with_user(self.branch).registration_can_review)
        lead.with_user(self.approver).action_registration_approve(comment="Fits our roadmap")
        self.assertEqual(reg.state, "submitted", "the second step is still to come")
        self.assertTrue(
            any(
                "waiting for the next approvers" in b and "Branch Manager Sun" in b
                for b in self._messages(lead)
            )
        )
        self.assertFalse(lead.with_user(self.approver).registration_can_review)
        self.assertTrue(lead.with_user(self.branch).registration_can_review)
        lead.with_user(self.branch).action_registration_approve()
        self.assertEqual(reg.state, "approved")
        self.assertEqual(reg.approved_by_id, self.branch)

    def test_only_the_salesperson_or_a_manager_submits(self):
        """A rejection stands until the rep resubmits: an approver cannot
        resubmit the rep's opportunity in the rep's name."""
        lead = self._submitted(30000)
        lead.with_user(self.approver).action_registration_reject(reason="Budget not confirmed")
        with self.assertRaisesRegex(UserError, "only Rep Zhang or a registration manager"):
            lead.with_user(self.approver).action_registration_submit()
        lead.with_user(self.rep).action_registration_submit()
        self.assertEqual(lead.registration_id.submitted_by_id, self.rep)

    def test_ended_registration_leaves_no_follow_up_to_do(self):
        follow_up = self.env.ref(
            "opportunity_registration.mail_activity_type_registration_follow_up"
        )
        lead = self._approved()
        self.assertTrue(lead.activity_ids.filtered(lambda a: a.activity_type_id == follow_up))
        lead.with_user(self.rep).action_set_won()
        self.assertFalse(lead.activity_ids.filtered(lambda a: a.activity_type_id == follow_up))

    def test_messages_carry_amounts_for_the_reader_to_format(self):
        """An amount is a monetary tracking value with its currency: each
        reader's web client formats it (digits, symbol) as they read numbers."""
        lead = self._submitted(35000)
        submitted = lead.message_ids.filtered(
            lambda m: (
                m.subtype_id == self.env.ref("opportunity_registration.mt_registration_submitted")
            )
        )
        amount = submitted.sudo().tracking_value_ids.filtered(lambda t: t.field_id.name == "amount")
        self.assertEqual(amount.new_value_float, 35000)
        self.assertEqual(amount.currency_id, self.company.currency_id)
        lead.with_user(self.rep).expected_revenue = 80000
        moved = next(b for b in self._messages(lead) if "band of its new amount" in b)
        self.assertIn("Amount: 35000.0 → 80000.0", moved)

    def test_raising_then_lowering_the_amount_never_renews_a_lock(self):
        lead = self._approved()
        reg = lead.registration_id
        self._age(
            lead,
            date_approved=fields.Datetime.now() - timedelta(days=60),
            protection_end_date=self.today + timedelta(days=30),
        )
        approved_on, end = reg.date_approved, reg.protection_end_date
        lead.with_user(self.rep).expected_revenue = 80000
        self.assertEqual(reg.state, "submitted")
        lead.with_user(self.rep).expected_revenue = 5000
        self.assertEqual(reg.state, "approved", "back within the band it was approved in")
        self.assertEqual(reg.date_approved, approved_on)
        self.assertEqual(reg.protection_end_date, end)
        self.assertFalse(reg.sudo().review_ids.filtered(lambda r: r.status == "pending"))
        # an ordinary approval stands when the amount comes back from the important band
        other = self._submitted(30000, partner_id=False, partner_name="Band Back Co")
        other.with_user(self.approver).action_registration_approve()
        first_approval = other.registration_id.date_approved
        other.with_user(self.rep).expected_revenue = 80000
        other.with_user(self.rep).expected_revenue = 40000
        self.assertEqual(other.registration_state, "approved")
        self.assertEqual(other.registration_id.date_approved, first_approval)

    def test_rep_cannot_rewrite_the_approvers_to_do(self):
        lead = self._submitted(30000)
        todo = lead.activity_ids.filtered(lambda a: a.user_id == self.approver)
        for vals in (
            {"user_id": self.rep.id},
            {"date_deadline": self.today + timedelta(days=300)},
            {"activity_type_id": self.env.ref("mail.mail_activity_data_todo").id},
            {"active": False},
        ):
            with self.assertRaises(AccessError, msg=vals):
                todo.with_user(self.rep).write(vals)
        todo.with_user(self.approver).write({"date_deadline": self.today + timedelta(days=1)})

    def test_tax_id_copied_to_contacts_still_needs_a_manager(self):
        """Odoo copies a company's tax ID to its contacts as superuser: that is
        not a manager's decision."""
        self.customer.vat = "91330100MA27XK5X1U"
        self.env["res.partner"].create({"name": "Ms Zhou", "parent_id": self.customer.id})
        held = self._approved()
        self.assertEqual(held.registration_id.vat_key, "91330100MA27XK5X1U")
        self._refused(
            UserError,
            "cannot change",
            setattr,
            self.customer.with_user(self.rep2),
            "vat",
            "91330100MA27XK5X2V",
        )
        self.assertEqual(held.registration_id.vat_key, "91330100MA27XK5X1U")

    def test_unassigned_opportunity_becomes_the_submitters(self):
        lead = self._lead(user=self.rep)
        lead.sudo().user_id = False
        lead.with_user(self.rep2).action_registration_submit()
        self.assertEqual(lead.user_id, self.rep2)
        self.assertEqual(lead.registration_id.user_id, self.rep2)

    def test_mirror_update_stamps_who_changed_the_opportunity(self):
        lead = self._submitted(30000)
        lead.with_user(self.approver).action_registration_approve()
        self.assertEqual(lead.registration_state, "approved")
        self.assertEqual(lead.write_uid, self.approver, "the mirror is a change like any other")
