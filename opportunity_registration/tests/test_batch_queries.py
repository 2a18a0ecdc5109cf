"""Batch paths cost the same number of queries for one opportunity as for many."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import RegistrationCase

# The escalation sweep over any number of registrations of one band and company
# (its chatter notes: their subtype, their tracking values and the approvers before).
QUERIES_ESCALATE = 33


@tagged("post_install", "-at_install", "opportunity_registration")
class TestBatchQueries(RegistrationCase):
    def _leads(self, count, prefix):
        return self.env["crm.lead"].create(
            [
                self._lead_vals(partner_id=False, partner_name="%s %d Ltd" % (prefix, index))
                for index in range(count)
            ]
        )

    def _cold(self):
        self.env.flush_all()
        self.env.cr.flush()
        self.env.invalidate_all()

    def _count(self, function):
        self._cold()
        start = self.cr.sql_log_count
        function()
        self.env.flush_all()
        self.env.cr.flush()
        return self.cr.sql_log_count - start

    def test_cooldown_and_cap_check_is_one_search(self):
        self.company.write({"registration_claim_cooldown_days": 30, "registration_max_active": 50})
        one, many = self._leads(1, "Cool One"), self._leads(5, "Cool Many")
        for warm in (self._leads(1, "Warm Up"), self._leads(2, "Warm Up Again")):
            self._cold()
            warm.with_user(self.manager)._check_registration_limits()
        counts = [
            self._count(leads.with_user(self.manager)._check_registration_limits)
            for leads in (one, many)
        ]
        self.assertEqual(counts[0], counts[1], "one opportunity or five: the same queries")

    def test_renewal_writes_in_batch(self):
        one, many = self._leads(1, "Renew One"), self._leads(5, "Renew Many")
        warm = self._leads(2, "Renew Warm")
        for leads in (one, many, warm):
            leads.write({"expected_revenue": 5000})
            leads.with_user(self.manager).action_registration_submit()
        self.company.registration_renewal_days = 120
        Registration = self.env["crm.lead.registration"]
        Registration._renew_from_follow_up(warm.ids, "note")
        counts = [
            self._count(lambda leads=leads: Registration._renew_from_follow_up(leads.ids, "note"))
            for leads in (one, many)
        ]
        self.assertEqual(counts[0], counts[1], "one opportunity or five: the same queries")
        self.assertEqual(
            set(many.registration_id.mapped("protection_end_date")),
            {one.registration_id.protection_end_date},
        )

    def test_review_routing_writes_in_batch(self):
        """Routing a batch to its approvers is set-based; the engine's tier
        reviews and each opportunity's to-do and chatter are per record by
        nature and left out of the count."""
        Registration = type(self.env["crm.lead.registration"])
        self.patch(Registration, "request_validation", lambda self: None)
        self.patch(
            Registration, "_schedule_review_activities", lambda self, users, notify=False: None
        )
        calls = []
        start_review = Registration._start_review

        def counted_start_review(regs):
            start = self.cr.sql_log_count
            start_review(regs)
            regs.env.flush_all()
            calls.append(self.cr.sql_log_count - start)

        self.patch(Registration, "_start_review", counted_start_review)
        one, many = self._leads(1, "Review One"), self._leads(5, "Review Many")
        warm = self._leads(2, "Review Warm")
        for leads in (warm, one, many):
            self._cold()
            leads.with_user(self.rep).action_registration_submit()
        self.assertEqual(calls[1], calls[2], "one opportunity or five: the same queries")
        regs = (one | many).registration_id
        self.assertEqual(set(regs.mapped("state")), {"submitted"})
        self.assertEqual(regs.approver_ids, self.approver)
        self.assertTrue(all(regs.mapped("date_review_requested")))

    def test_escalation_sweep_writes_in_batch(self):
        """Escalating one registration or five costs the same queries: no query
        per registration in the sweep. Each approver's to-do is per record by
        nature and left out of the count."""
        Registration = type(self.env["crm.lead.registration"])
        self.patch(
            Registration, "_schedule_review_activities", lambda self, users, notify=False: None
        )
        self.company.registration_escalation_days = 2
        batches = {}
        for name, count in (("warm", 2), ("one", 1), ("many", 5)):
            leads = self._leads(count, "Escalate %s" % name)
            leads.with_user(self.rep).action_registration_submit()
            leads.registration_id.with_context(skip_validation_check=True).write(
                {"date_review_requested": fields.Datetime.now() - timedelta(days=6)}
            )
            batches[name] = leads.registration_id
        # the others wait for their turn; the warm-up run fills the caches
        Sweep = self.env["crm.lead.registration"].with_context(skip_validation_check=True)
        Sweep.search([("escalated", "=", False), ("state", "=", "submitted")]).escalated = True
        batches["warm"].with_env(Sweep.env).escalated = False
        self._cold()
        self.assertEqual(Sweep._cron_escalate(), batches["warm"])
        for name in ("one", "many"):
            batches[name].with_env(Sweep.env).escalated = False
            self._cold()
            with self.assertExactQueryCount(QUERIES_ESCALATE):
                self.assertEqual(Sweep._cron_escalate(), batches[name])
        regs = batches["one"] | batches["many"]
        self.assertEqual(regs.approver_ids, self.approver | self.deputy)
        self.assertIn(self.deputy, regs.review_ids.reviewer_ids)
