from datetime import timedelta
from unittest.mock import patch

import psycopg2.errors

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged
from odoo.tools import format_date, mute_logger

from .common import RegistrationCase, locked_elsewhere

# Queries of one submission, exactly, from a cold ORM cache, whatever the
# database size and the customer's history: automatic approval (small band),
# and a review (ordinary band: tier review, approver's activity and
# notification); one of them reads the owner's teams (SPEC §9.7). The chatter
# note is two queries beside its message: its subtype and its tracking values.
QUERIES_SUBMIT_SMALL = 27  # + 1: no key of another customer (crm_lead_identity.py)
QUERIES_SUBMIT_REVIEW = 67


@tagged("post_install", "-at_install", "opportunity_registration")
class TestRegistrationLocks(RegistrationCase):
    def _approved(self, user=None, **overrides):
        lead = self._lead(user=user, expected_revenue=5000, **overrides)
        lead.with_user(user or self.rep).action_registration_submit()
        self.assertEqual(lead.registration_state, "approved")
        return lead

    def _age(self, lead, **vals):
        lead.registration_id.sudo().with_context(skip_validation_check=True).write(vals)
        lead._sync_registration()

    # ------------------------------------------------------------
    # Every key identifies the customer
    # ------------------------------------------------------------

    def test_each_key_alone_finds_the_holder(self):
        self.customer.vat = "91330100MA27XK5X1U"
        self._approved()
        other = self.env["res.partner"].create({"name": "Cloud Atlas", "is_company": True})
        # a rival's opportunity of the held account, with other contact details,
        # would rewrite the holder's customer record: refused, naming the holder
        with self.assertRaisesRegex(UserError, "Rep Zhang"), self.env.cr.savepoint():
            self._lead(user=self.rep2, name="rewrite", email_from="x@unrelated.example.org")
        self.env.invalidate_all()
        contact = self.env["res.partner"].create(
            {
                "name": "Ms Zhou",
                "parent_id": self.customer.id,
                "email": "zhou@unrelated-contact.example.org",
                "phone": "+86 21 5555 0001",
            }
        )
        cases = {
            "same partner": {
                "partner_id": contact.id,
                "email_from": contact.email,
                "phone": contact.phone,
            },
            "same name, other spelling": {
                "partner_id": False,
                "partner_name": "杭州云图科技股份有限公司",
            },
            "same tax id": {
                "partner_id": self.env["res.partner"]
                .create({"name": "Yuntu HZ", "is_company": True, "vat": "91330100-MA27XK5X1U"})
                .id
            },
            "same e-mail domain": {"partner_id": other.id, "email_from": "ceo@yuntu.example.com"},
            "same phone": {"partner_id": other.id, "phone": "0571 8888 6666"},
        }
        for label, vals in cases.items():
            vals.setdefault("email_from", "x@unrelated%d.example.org" % len(label))
            vals.setdefault("phone", "+86 21 5555 %04d" % len(label))
            rival = self._lead(user=self.rep2, name=label, **vals)
            self.assertEqual(
                rival.registration_conflict_ids.registration_id.user_id, self.rep, label
            )
            with self.assertRaisesRegex(UserError, "Rep Zhang", msg=label):
                rival.with_user(self.rep2).action_registration_submit()

    def test_free_mail_and_unusable_keys_never_match(self):
        self._approved(email_from="boss@qq.com")
        for name, email in [("Other A", "someone@qq.com"), ("Other B", "!!!@@@")]:
            rival = self._lead(
                user=self.rep2, partner_id=False, partner_name=name, email_from=email
            )
            self.assertFalse(rival.registration_conflict_ids, name)
        rival = self._lead(user=self.rep2, partner_id=False, partner_name="!!!", phone="+")
        self.assertFalse(rival.registration_conflict_ids)

    def test_free_mail_domains_follow_settings(self):
        self.company.registration_free_mail_domains = "yuntu.example.com"
        self._approved()
        rival = self._lead(
            user=self.rep2,
            partner_id=False,
            partner_name="Different Co",
            email_from="a@yuntu.example.com",
            phone="+86 21 1111 2222",
        )
        self.assertFalse(rival.registration_conflict_ids)

    def test_product_line_scope(self):
        self.company.registration_scope = "product_line"
        erp, crm_line = self.env["crm.tag"].create([{"name": "ERP"}, {"name": "CRM"}])
        self._approved(registration_product_line_id=erp.id)
        other_line = self._lead(user=self.rep2, registration_product_line_id=crm_line.id)
        self.assertFalse(other_line.registration_conflict_ids)
        other_line.with_user(self.rep2).action_registration_submit()
        self.assertIn(other_line.registration_state, ("submitted", "approved"))
        same_line = self._lead(user=self.rep2, name="again", registration_product_line_id=erp.id)
        with self.assertRaisesRegex(UserError, "Rep Zhang"):
            same_line.with_user(self.rep2).action_registration_submit()

    def test_sales_team_scope(self):
        self.company.registration_scope = "team"
        # Rep Li works in both teams: one lock per customer in each
        self.env["ir.config_parameter"].sudo().set_param("sales_team.membership_multi", True)
        west = self.env["crm.team"].create(
            {
                "name": "West",
                "user_id": self.approver.id,
                "member_ids": [(6, 0, self.rep2.ids)],
            }
        )
        east_lead = self._approved()
        self.assertEqual(east_lead.registration_id.scope_team_id, self.team)
        west_lead = self._lead(user=self.rep2, team_id=west.id)
        self.assertFalse(
            west_lead.registration_conflict_message, "another team may hold its own lock"
        )
        west_lead.with_user(self.rep2).action_registration_submit()
        self.assertEqual(west_lead.registration_id.scope_team_id, west)
        self.assertIn(west_lead.registration_state, ("submitted", "approved"))

        same_team = self._lead(user=self.rep2, name="again", team_id=self.team.id)
        self.assertIn("Rep Zhang", same_team.registration_conflict_message)
        with self.assertRaisesRegex(UserError, "Rep Zhang"):
            same_team.with_user(self.rep2).action_registration_submit()

        # the database holds it too: one active lock per customer and team
        with (
            self.assertRaises(psycopg2.errors.UniqueViolation),
            self.env.cr.savepoint(),
            mute_logger("odoo.sql_db"),
        ):
            self.env["crm.lead.registration"].sudo().create(
                dict(same_team._prepare_registration_vals(), scope_team_id=self.team.id)
            )

    def test_database_refuses_a_second_active_registration(self):
        """The guard holds without the Python check (two workers racing)."""
        lead = self._approved()
        rival = self._lead(user=self.rep2, name="race")
        vals = rival.with_user(self.rep2)._prepare_registration_vals()
        # Both checks miss the holder (the second one reads committed data only):
        # the insert fails on the unique index and is refused cleanly.
        with self.assertRaisesRegex(UserError, "same moment"), self.env.cr.savepoint():
            Registration = self.env["crm.lead.registration"].with_user(self.rep2)
            original = type(Registration)._refuse_conflicts
            calls = []

            def skip_first_check(model, vals_list, exclude=None):
                calls.append(1)
                if len(calls) > 1:
                    return original(model, vals_list, exclude)
                return None

            self.patch(type(Registration), "_refuse_conflicts", skip_first_check)
            Registration._create_from_leads(rival.with_user(self.rep2))
        self.assertEqual(
            len(calls), 1, "the Python check was skipped, the index refused the insert"
        )
        self.assertTrue(vals["customer_key"])
        self.assertEqual(lead.registration_state, "approved")
        self.assertFalse(rival.registration_ids)

    # ------------------------------------------------------------
    # Protection period
    # ------------------------------------------------------------

    def test_follow_up_renews_up_to_the_maximum(self):
        self.company.write({"registration_renewal_days": 120, "registration_max_days": 100})
        lead = self._approved()
        reg = lead.registration_id
        self.assertEqual(reg.protection_end_date, self.today + timedelta(days=90))

        lead.with_user(self.rep).write({"description": "just an edit"})
        self.assertEqual(reg.protection_end_date, self.today + timedelta(days=90), "not any write")

        lead.with_user(self.rep).message_post(
            body="Visited the plant", message_type="comment", subtype_xmlid="mail.mt_note"
        )
        self.assertEqual(reg.protection_end_date, self.today + timedelta(days=100), "capped")
        self.assertEqual(lead.protection_end_date, reg.protection_end_date)
        self.assertEqual(reg.last_follow_up_date, self.today)
        self.assertIn("renewed", reg.event_ids.mapped("event"))

    def test_done_activity_and_meeting_renew(self):
        lead = self._approved()
        reg = lead.registration_id
        self._age(
            lead,
            protection_end_date=self.today + timedelta(days=3),
            last_follow_up_date=self.today - timedelta(days=20),
        )
        activity = lead.activity_schedule("mail.mail_activity_data_call", user_id=self.rep.id)
        activity.with_user(self.rep).action_feedback(feedback="Called the CFO")
        self.assertEqual(reg.protection_end_date, self.today + timedelta(days=30))
        self.assertEqual(reg.last_follow_up_date, self.today)

        self.company.registration_renewal_days = 45
        self.env["calendar.event"].with_user(self.rep).create(
            {
                "name": "Demo",
                "opportunity_id": lead.id,
                "start": fields.Datetime.now(),
                "stop": fields.Datetime.now() + timedelta(hours=1),
            }
        )
        self.assertEqual(reg.protection_end_date, self.today + timedelta(days=45))

        self.company.registration_renew_on_meeting = False
        self.company.registration_renewal_days = 60
        self.env["calendar.event"].create(
            {
                "name": "Demo 2",
                "opportunity_id": lead.id,
                "start": fields.Datetime.now(),
                "stop": fields.Datetime.now() + timedelta(hours=1),
            }
        )
        self.assertEqual(reg.protection_end_date, self.today + timedelta(days=45), "meetings off")

    def test_neglect_and_end_expire_in_one_pass_and_warn_first(self):
        self.company.write({"registration_neglect_days": 30, "registration_warning_days": 7})
        neglected = self._approved()
        ending = self._approved(partner_id=False, partner_name="Ending Ltd")
        soon = self._approved(partner_id=False, partner_name="Soon Ltd")
        fine = self._approved(partner_id=False, partner_name="Fine Ltd")
        self._age(neglected, last_follow_up_date=self.today - timedelta(days=31))
        self._age(ending, protection_end_date=self.today - timedelta(days=1))
        self._age(soon, protection_end_date=self.today + timedelta(days=5))

        nearly_neglected = self._approved(partner_id=False, partner_name="Quiet Ltd")
        self._age(nearly_neglected, last_follow_up_date=self.today - timedelta(days=25))

        warned = self.env["crm.lead.registration"]._cron_warn_expiry()
        self.assertEqual(
            warned,
            soon.registration_id
            | ending.registration_id
            | neglected.registration_id
            | nearly_neglected.registration_id,
            "every lock about to end is warned, neglect included",
        )
        neglect_warning = nearly_neglected.activity_ids.filtered(
            lambda a: "expires on" in a.summary
        )
        self.assertEqual(
            neglect_warning.date_deadline,
            self.today + timedelta(days=5),
            "the neglect period ends 30 days after the last follow-up",
        )
        self.assertTrue(soon.activity_ids.filtered(lambda a: "expires on" in a.summary))
        mail = self.env["mail.mail"].search([("subject", "=", "Registrations about to expire")])
        self.assertEqual(len(mail), 1, "one e-mail per owner")
        self.assertIn(soon.registration_number, str(mail.body_html))
        self.assertIn(ending.registration_number, str(mail.body_html))
        self.assertFalse(self.env["crm.lead.registration"]._cron_warn_expiry(), "warned once")

        expired = self.env["crm.lead.registration"]._cron_expire()
        self.assertEqual(expired, neglected.registration_id | ending.registration_id)
        self.assertEqual(neglected.registration_state, "expired")
        self.assertFalse(neglected.protection_end_date)
        self.assertEqual(fine.registration_state, "approved")
        self.assertIn("expired", neglected.registration_event_ids.mapped("event"))

    def test_sweeps_skip_registrations_being_written(self):
        """A rep saving an opportunity while a sweep runs does not make the whole
        sweep fail: that registration is skipped, the others expire, and the job
        comes back for it shortly."""
        busy = self._approved(partner_id=False, partner_name="Busy Ltd")
        idle = self._approved(partner_id=False, partner_name="Idle Ltd")
        for lead in busy | idle:
            self._age(lead, protection_end_date=self.today - timedelta(days=1))
        cron = self.env.ref("opportunity_registration.ir_cron_registration_expire")
        Registration = self.env["crm.lead.registration"].with_context(cron_id=cron.id)
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search_count([("cron_id", "=", cron.id)])
        with locked_elsewhere(busy.registration_id):
            self.assertEqual(Registration._cron_expire(), idle.registration_id)
        self.assertEqual(idle.registration_state, "expired")
        self.assertEqual(busy.registration_state, "approved", "skipped while being written")
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), triggers + 1)
        self.assertEqual(Registration._cron_expire(), busy.registration_id)
        self.assertEqual(busy.registration_state, "expired")

    def test_expiry_sweep_goes_by_batches(self):
        """A backlog is expired a batch per run, the job coming back at once for the rest."""
        leads = self._approved(partner_id=False, partner_name="First Ltd") | self._approved(
            partner_id=False, partner_name="Second Ltd"
        )
        for lead in leads:
            self._age(lead, protection_end_date=self.today - timedelta(days=1))
        cron = self.env.ref("opportunity_registration.ir_cron_registration_expire")
        Registration = self.env["crm.lead.registration"].with_context(cron_id=cron.id)
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search_count([("cron_id", "=", cron.id)])
        with patch(
            "odoo.addons.opportunity_registration.models.crm_lead_registration_lifetime.SWEEP_BATCH",
            1,
        ):
            self.assertEqual(len(Registration._cron_expire()), 1)
            self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), triggers + 1)
            self.assertEqual(sorted(leads.mapped("registration_state")), ["approved", "expired"])
            self.assertEqual(len(Registration._cron_expire()), 1)
        self.assertEqual(leads.mapped("registration_state"), ["expired", "expired"])

    def test_warning_sweep_goes_by_batches(self):
        """A backlog of warnings is sent a batch per run, nearest ends first,
        the job coming back at once for the rest."""
        first = self._approved(partner_id=False, partner_name="Warn First Ltd")
        second = self._approved(partner_id=False, partner_name="Warn Second Ltd")
        self._age(first, protection_end_date=self.today + timedelta(days=1))
        self._age(second, protection_end_date=self.today + timedelta(days=2))
        cron = self.env.ref("opportunity_registration.ir_cron_registration_warn")
        Registration = self.env["crm.lead.registration"].with_context(cron_id=cron.id)
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search_count([("cron_id", "=", cron.id)])
        with patch(
            "odoo.addons.opportunity_registration.models.crm_lead_registration_lifetime.SWEEP_BATCH",
            1,
        ):
            self.assertEqual(Registration._cron_warn_expiry(), first.registration_id)
            self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), triggers + 1)
            self.assertEqual(Registration._cron_warn_expiry(), second.registration_id)
        self.assertTrue(all((first | second).registration_id.mapped("expiry_warned")))

    @mute_logger("odoo.sql_db")
    def test_sweep_skips_a_run_whose_registrations_changed_meanwhile(self):
        """A registration changed since the sweep's snapshot: the sweep does nothing
        this time, without failing, and comes back shortly."""
        lead = self._approved(partner_id=False, partner_name="Changed Ltd")
        self._age(lead, protection_end_date=self.today - timedelta(days=1))
        cron = self.env.ref("opportunity_registration.ir_cron_registration_expire")
        Registration = self.env["crm.lead.registration"].with_context(cron_id=cron.id)
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search_count([("cron_id", "=", cron.id)])

        def changed_meanwhile(records, **kwargs):
            self.env.cr.execute("SELECT 1/0")  # any statement error aborts like a conflict

        with (
            patch.object(type(Registration), "try_lock_for_update", changed_meanwhile),
            patch.object(psycopg2.errors, "SerializationFailure", psycopg2.errors.DivisionByZero),
        ):
            self.assertFalse(Registration._cron_expire())
        self.assertEqual(lead.registration_state, "approved")
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), triggers + 1)
        self.assertEqual(Registration._cron_expire(), lead.registration_id)

    def test_expiry_warning_is_a_real_activity_of_the_owner(self):
        """The warnings are inserted in one statement: they must behave like any activity."""
        self.company.registration_warning_days = 7
        self.rep2.tz = "Asia/Shanghai"
        lead = self._approved(user=self.rep2, partner_id=False, partner_name="Soon & <Sons> Ltd")
        lead.message_unsubscribe(partner_ids=self.rep2.partner_id.ids)
        self._age(lead, protection_end_date=self.today + timedelta(days=3))

        self.env["crm.lead.registration"]._cron_warn_expiry()
        warning = lead.activity_ids.filtered(lambda a: "expires on" in a.summary)
        self.assertEqual(len(warning), 1)
        self.assertEqual(warning.user_id, self.rep2)
        self.assertEqual(warning.res_name, lead.display_name)
        self.assertEqual(warning.activity_type_id, self.env.ref("mail.mail_activity_data_todo"))
        self.assertEqual(warning.date_deadline, lead.protection_end_date)
        self.assertEqual(warning.user_tz, "Asia/Shanghai")
        self.assertEqual(warning.state, "planned")
        self.assertTrue(warning.automated)
        self.assertIn(
            "Soon &amp; &lt;Sons&gt; Ltd", str(warning.note), "customer names are escaped"
        )
        self.assertIn(self.rep2.partner_id, lead.message_partner_ids, "the owner follows it again")
        self.assertEqual(lead.with_user(self.rep2).activity_user_id, self.rep2)
        self.assertIn(
            lead,
            self.env["crm.lead"]
            .with_user(self.rep2)
            .search([("activity_user_id", "=", self.rep2.id), ("id", "=", lead.id)]),
        )

        # done, it counts as follow-up like any activity: the lock is renewed
        warning.with_user(self.rep2).action_feedback(feedback="Called the CFO")
        self.assertGreater(lead.protection_end_date, self.today + timedelta(days=3))

    def test_manager_extension(self):
        lead = self._approved()
        with self.assertRaisesRegex(UserError, "Only Rep Zhang"):
            lead.with_user(self.manager).action_registration_request_extension(reason="x")
        lead.with_user(self.rep).action_registration_request_extension(reason="Tender in March")
        request = lead.activity_ids.filtered(lambda a: a.user_id == self.manager)
        self.assertIn("Extension requested", request.summary)
        self.assertIn("Tender in March", str(request.note))
        with self.assertRaises(AccessError):
            lead.registration_id.with_user(self.rep).action_grant_extension(
                self.today + timedelta(days=300)
            )
        end = self.today + timedelta(days=300)
        self._arbitrate(lead, decision="extend", extension_end_date=end, reason="Tender")
        self.assertEqual(lead.protection_end_date, end)
        self.assertEqual(lead.registration_id.extension_end_date, end)
        self.assertIn("extended", lead.registration_event_ids.mapped("event"))

    # ------------------------------------------------------------
    # Public pool, takeover, limits
    # ------------------------------------------------------------

    def test_released_customer_is_claimed_from_the_public_pool(self):
        lead = self._approved()
        lead.with_user(self.rep).action_registration_release(reason="No budget this year")
        pool = self.env["crm.lead.pool"].with_user(self.rep2).search([])
        self.assertIn(
            "杭州云图科技有限公司", pool.mapped("customer_name"), "every rep sees the pool"
        )
        with self.assertRaises(AccessError):
            lead.with_user(self.rep2).write({"name": "mine now"})
        lead.with_user(self.rep2).action_registration_claim()
        self.assertEqual(lead.user_id, self.rep2)
        self.assertEqual(lead.registration_id.user_id, self.rep2)
        self.assertIn(lead.registration_state, ("submitted", "approved"))
        self.assertEqual(len(lead.registration_ids), 2)

    def test_previous_owner_waits_for_the_cooldown(self):
        self.company.registration_claim_cooldown_days = 30
        lead = self._approved()
        lead.with_user(self.rep).action_registration_release()
        with self.assertRaisesRegex(UserError, "may register it again from"):
            lead.with_user(self.rep).action_registration_submit()
        self.company.registration_claim_cooldown_days = 0
        lead.with_user(self.rep).action_registration_submit()
        self.assertIn(lead.registration_state, ("submitted", "approved"))

    def test_cap_on_active_registrations(self):
        self.company.registration_max_active = 1
        self._approved()
        second = self._lead(partner_id=False, partner_name="Second Ltd")
        with self.assertRaisesRegex(UserError, "the most allowed"):
            second.with_user(self.rep).action_registration_submit()

    def test_locked_opportunity_cannot_be_taken_over(self):
        lead = self._approved()
        lead.sudo().user_id = False  # visible to every rep, still locked by Rep Zhang
        with self.assertRaisesRegex(UserError, "registered by Rep Zhang"):
            lead.with_user(self.rep2).write({"user_id": self.rep2.id})
        with self.assertRaisesRegex(UserError, "registered by Rep Zhang"):
            with Form(lead.with_user(self.rep2)) as form:
                form.user_id = self.rep2
        lead.with_user(self.rep2).write({"user_id": self.rep.id})  # back to the owner is fine
        lead.with_user(self.manager).write({"user_id": self.rep2.id})  # a manager may
        self.assertEqual(lead.user_id, self.rep2)

    # ------------------------------------------------------------
    # Arbitration
    # ------------------------------------------------------------

    def _arbitrate(self, lead, **vals):
        action = self.env.ref("opportunity_registration.crm_lead_registration_arbitration_action")
        wizard = (
            self.env[action.res_model]
            .with_user(self.manager)
            .with_context(active_id=lead.id, default_lead_id=lead.id)
            .create(vals)
        )
        wizard.action_confirm()
        return wizard

    def test_arbitration_gives_the_customer_to_the_challenger(self):
        holder = self._approved()
        challenger = self._lead(user=self.rep2, name="Challenger")
        wizard = self._arbitrate(
            challenger, decision="give_to_challenger", reason="Rep Li met them first"
        )
        self.assertEqual(wizard.registration_id, holder.registration_id)
        self.assertEqual(holder.registration_state, "released")
        self.assertIn(challenger.registration_state, ("submitted", "approved"))
        self.assertEqual(challenger.registration_id.user_id, self.rep2)
        self.assertIn("Rep Li met them first", holder.registration_id.close_reason)
        self.assertFalse(
            any("Rep Li met them first" in b for b in self._messages(holder)),
            "the released opportunity is in the public pool: the reason is not",
        )
        self.assertTrue(any("Rep Li met them first" in b for b in self._messages(challenger)))

    def test_arbitration_after_the_holder_let_go(self):
        """The holder released the customer before the manager confirmed: a clear
        refusal, not a database error."""
        holder = self._approved()
        challenger = self._lead(user=self.rep2, name="Challenger")
        holder.with_user(self.rep).action_registration_release(reason="Not a fit")
        Wizard = self.env["crm.lead.registration.arbitration"].with_user(self.manager)
        with self.assertRaisesRegex(UserError, "Nobody holds the customer of Challenger"):
            Wizard.with_context(active_id=challenger.id).create(
                {"lead_id": challenger.id, "decision": "keep", "reason": "Late"}
            )
        self.assertEqual(challenger.registration_state, "draft")

    def test_arbitration_transfers_owner_or_account(self):
        holder = self._approved()
        with self.assertRaisesRegex(UserError, "Say why"):
            holder.registration_id.with_user(self.manager).action_transfer(user=self.rep2)
        with self.assertRaises(AccessError):
            holder.registration_id.with_user(self.rep).action_transfer(user=self.rep2, reason="x")
        self._arbitrate(
            holder,
            decision="transfer_user",
            new_user_id=self.rep2.id,
            reason="Rep Zhang moved to another region",
        )
        self.assertEqual(holder.registration_id.user_id, self.rep2)
        self.assertEqual(holder.user_id, self.rep2)
        self.assertEqual(holder.registration_state, "approved", "no reject and resubmit")
        challenger = self._lead(user=self.rep, name="after the transfer")
        self.assertIn(
            "registered by Rep Li",
            challenger.registration_conflict_message,
            "the check names the new owner",
        )
        self.rep2.name = "Rep Li Na"
        challenger.invalidate_recordset(["registration_conflict_message"])
        self.assertIn(
            "registered by Rep Li Na",
            challenger.registration_conflict_message,
            "and follows a renamed owner",
        )

        group = self.env["res.partner"].create({"name": "Zhejiang Cloud Atlas", "is_company": True})
        self._arbitrate(
            holder,
            decision="transfer_partner",
            new_partner_id=group.id,
            reason="Contract signed by the group",
        )
        self.assertEqual(holder.registration_id.customer_name, "Zhejiang Cloud Atlas")
        self.assertEqual(holder.registration_id.customer_key, "zhejiangcloudatlas")
        events = holder.registration_event_ids.filtered(lambda e: e.event == "transferred")
        self.assertEqual(len(events), 2)

    def test_lock_history_records_each_change(self):
        lead = self._approved()
        lead.with_user(self.rep).action_registration_release(reason="lost interest")
        self.assertEqual(
            sorted(lead.registration_event_ids.mapped("event")), ["granted", "released"]
        )
        released = lead.registration_event_ids.filtered(lambda e: e.event == "released")
        self.assertEqual(released.note, "lost interest")
        self.assertEqual(released.user_id, self.rep)

    def test_conflict_refusal_is_logged_outside_the_transaction(self):
        holder = self._approved()
        logged = []
        Event = type(self.env["crm.lead.registration.event"])
        original = Event.create

        def spy(model, vals_list):
            logged.append(vals_list)
            return original(model, vals_list)

        self.patch(Event, "create", spy)
        rival = self._lead(user=self.rep2, name="rival")
        with self.assertRaises(UserError):
            rival.with_user(self.rep2).action_registration_submit()
        refused = [
            v for v in logged if isinstance(v, dict) and v.get("event") == "conflict_refused"
        ]
        self.assertEqual(len(refused), 1)
        self.assertEqual(refused[0]["registration_id"], holder.registration_id.id)
        self.assertEqual(refused[0]["user_id"], self.rep2.id)
        self.assertEqual(refused[0]["note"], rival.partner_name or rival.partner_id.name)

    def test_submit_costs_a_constant_number_of_queries(self):
        """Submitting does not grow with the database or with the customer's history."""

        def with_history(name, count, amount):
            for index in range(count):
                old = self._lead(partner_id=False, partner_name=name, name="old %d" % index)
                old.with_user(self.rep).action_registration_submit()
                old.with_user(self.rep).action_registration_withdraw()
            return self._lead(
                partner_id=False, partner_name=name, expected_revenue=amount
            ).with_user(self.rep)

        # warm-up: the ORM's and the registry's caches, as on a running server
        self._lead(partner_id=False, partner_name="Warm Up Ltd").with_user(
            self.rep
        ).action_registration_submit()
        self._lead(partner_id=False, partner_name="Warm Up 2 Ltd", expected_revenue=5000).with_user(
            self.rep
        ).action_registration_submit()
        for amount, band, queries in (
            (5000, "small", QUERIES_SUBMIT_SMALL),
            (30000, "ordinary", QUERIES_SUBMIT_REVIEW),
        ):
            for history in (1, 6):
                lead = with_history("History %s %d Ltd" % (band, history), history, amount)
                self.env.flush_all()
                self.env.cr.flush()
                self.env.invalidate_all()
                with self.assertExactQueryCount(queries):
                    lead.action_registration_submit()
                self.assertEqual(lead.registration_id.band, band)

    def test_conflict_check_is_one_query_whatever_the_history(self):
        """What the form checks as a rep picks a customer: one indexed query,
        for a customer with a long history as for one never seen."""
        self._approved()
        for index in range(6):
            self._lead(name="Earlier deal %d" % index)
        unknown = self.env["res.partner"].create(
            {"name": "Never Seen Trading Co., Ltd.", "is_company": True}
        )
        Lead = self.env["crm.lead"].with_user(self.rep2).with_context(lang="en_US")

        def form(partner):
            lead = Lead.new(
                {
                    "type": "opportunity",
                    "name": "Checked as typed",
                    "partner_id": partner.id,
                    "user_id": self.rep2.id,
                    "team_id": self.team.id,
                    "company_id": self.company.id,
                    "email_from": "buyer@%s.example.com" % partner.id,
                }
            )
            # the form has read the customer when the rep picked it
            lead.partner_id.commercial_partner_id.fetch(
                ["name", "is_company", "vat", "email", "phone"]
            )
            return lead

        self.assertTrue(form(self.customer).registration_conflict_message)  # warms the caches
        for partner, held in ((self.customer, True), (unknown, False)):
            lead = form(partner)
            with self.assertExactQueryCount(1):
                message = lead.registration_conflict_message
            self.assertEqual(bool(message), held)

    def test_rep_sees_the_holder_while_filling_the_form(self):
        """The form warns a rep of another rep's lock without exposing that opportunity."""
        self._approved()
        with Form(
            self.env["crm.lead"].with_user(self.rep2).with_context(default_type="opportunity")
        ) as form:
            form.name = "Second try"
            form.partner_id = self.customer
            self.assertIn("Rep Zhang", form.registration_conflict_message)
            self.assertIn("protected until", form.registration_conflict_message)
        with self.assertRaises(AccessError):
            self.env["crm.lead"].with_user(self.rep2).browse(form.record.id).read(
                ["registration_conflict_ids"]
            )

    def test_warning_todo_is_in_its_owners_language(self):
        """The sweep writes each owner's expiry to-do in the owner's language,
        with the date in the owner's format, whoever runs it."""
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["opportunity_registration"], ["zh_CN"])
        self.rep2.lang = "zh_CN"
        self.company.registration_warning_days = 7
        chinese = self._approved(user=self.rep2, partner_id=False, partner_name="Chinese Owner Ltd")
        english = self._approved(partner_id=False, partner_name="English Owner Ltd")
        for lead in chinese | english:
            self._age(lead, protection_end_date=self.today + timedelta(days=3))
        (chinese | english).registration_id._create_warning_activities()
        end = self.today + timedelta(days=3)
        for lead, lang, words in ((chinese, "zh_CN", "将于"), (english, "en_US", "expires on")):
            todo = self.env["mail.activity"].search(
                [
                    ("res_model", "=", "crm.lead"),
                    ("res_id", "=", lead.id),
                    ("activity_type_id", "=", self.env.ref("mail.mail_activity_data_todo").id),
                ]
            )
            self.assertEqual(len(todo), 1)
            self.assertIn(words, todo.summary)
            self.assertIn(format_date(self.env(context={"lang": lang}), end), todo.summary)

    def test_warning_rows_are_the_rows_the_orm_writes(self):
        """The warning sweep creates its to-dos in one batch: row for row,
        activities and followers are what activity_schedule() stores."""
        self.company.registration_warning_days = 7
        swept = self._approved(user=self.rep2, partner_id=False, partner_name="Swept Ltd")
        twin = self._approved(user=self.rep2, partner_id=False, partner_name="Twin Ltd")
        for lead in swept | twin:
            lead.message_unsubscribe(partner_ids=self.rep2.partner_id.ids)
            self._age(lead, protection_end_date=self.today + timedelta(days=3))
        swept.registration_id._create_warning_activities()
        reg = twin.registration_id
        twin.sudo().activity_schedule(
            "mail.mail_activity_data_todo",
            date_deadline=reg._lock_end(),
            user_id=self.rep2.id,
            summary="Registration %s expires on %s" % (reg.name, reg._lock_end()),
            note="<p>Follow up Twin Ltd (a done activity, a logged note or a meeting) to keep "
            "it, or release it.</p>",
        )
        self.env.flush_all()

        def row(table, lead, extra=""):
            self.env.cr.execute(
                "SELECT * FROM %s WHERE res_model = 'crm.lead' AND res_id = %%s %s"
                % (table, extra),
                [lead.id],
            )
            return self.env.cr.dictfetchall()

        ignored = {"id", "res_id", "res_name", "summary", "note", "create_date", "write_date"}
        swept_rows = row("mail_activity", swept, "AND summary LIKE '%%expires on%%'")
        twin_rows = row("mail_activity", twin, "AND summary LIKE '%%expires on%%'")
        self.assertEqual(len(swept_rows), 1)
        self.assertEqual(
            {k: v for k, v in swept_rows[0].items() if k not in ignored},
            {k: v for k, v in twin_rows[0].items() if k not in ignored},
        )
        swept_followers = row(
            "mail_followers", swept, "AND partner_id = %d" % self.rep2.partner_id.id
        )
        twin_followers = row(
            "mail_followers", twin, "AND partner_id = %d" % self.rep2.partner_id.id
        )
        self.assertEqual(len(swept_followers), 1)
        self.assertEqual(
            {k: v for k, v in swept_followers[0].items() if k not in ignored},
            {k: v for k, v in twin_followers[0].items() if k not in ignored},
        )
        subtypes = (
            self.env["mail.followers"]
            .search(
                [
                    ("res_model", "=", "crm.lead"),
                    ("res_id", "in", (swept | twin).ids),
                    ("partner_id", "=", self.rep2.partner_id.id),
                ]
            )
            .grouped("res_id")
        )
        self.assertEqual(subtypes[swept.id].subtype_ids, subtypes[twin.id].subtype_ids)

    def test_expiry_mail_is_in_the_owners_language(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["opportunity_registration"], ["zh_CN"])
        self.rep2.write({"lang": "zh_CN", "email": "li@yuntu-sales.example.com"})
        self.company.registration_warning_days = 7
        lead = self._approved(user=self.rep2, partner_id=False, partner_name="Expiring Co")
        self._age(lead, protection_end_date=self.today + timedelta(days=3))
        self.env["crm.lead.registration"]._cron_warn_expiry()
        mail = (
            self.env["mail.mail"]
            .search(
                [
                    "|",
                    ("email_to", "ilike", "li@yuntu-sales.example.com"),
                    ("recipient_ids", "in", self.rep2.partner_id.ids),
                ]
            )
            .filtered(lambda m: lead.registration_number in str(m.body_html))
        )
        self.assertEqual(len(mail), 1)
        self.assertIn("请跟进以下客户", str(mail.body_html))
        self.assertIn(lead.registration_number, str(mail.body_html))
