import datetime
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged, users
from odoo.tools.safe_eval import safe_eval

from .common import RegistrationCase


@tagged("post_install", "-at_install", "opportunity_registration")
class TestEverydayUse(RegistrationCase):
    """What reps, approvers and admins read and click on the standard screens."""

    def _approved(self, user=None, **overrides):
        lead = self._lead(user=user, expected_revenue=5000, **overrides)
        lead.with_user(user or self.rep).action_registration_submit()
        self.assertEqual(lead.registration_state, "approved")
        return lead

    def _arch(self, model, view_type, action=None):
        Model = self.env[model]
        views = Model.get_views([(action and action.view_id.id or False, view_type)])
        return views["views"][view_type]["arch"]

    # ------------------------------------------------------------
    # The rep's form
    # ------------------------------------------------------------

    def _warning(self, lead):
        result = lead._onchange_registration_warn()
        return result and result["warning"]["message"] or ""

    @users("opreg_rep")
    def test_bad_values_are_flagged_as_the_rep_types(self):
        lead = self.env["crm.lead"].new(self._lead_vals())
        self.assertEqual(self._warning(lead), "", "a sound opportunity raises nothing")
        lead.expected_revenue = -5
        self.assertIn("cannot be negative", self._warning(lead))
        lead.expected_revenue = 1000
        lead.email_from = "abc"
        self.assertIn("abc is not a valid e-mail address", self._warning(lead))
        lead.email_from = "buyer@yuntu.example.com"
        lead.date_deadline = self.today - timedelta(days=3)
        self.assertIn("is in the past", self._warning(lead))
        lead.date_deadline = self.today + timedelta(days=3)
        lead.name = "x" * 5000
        self.assertIn("at most 500 characters", self._warning(lead))

    @users("opreg_rep")
    def test_forecast_column_date_is_not_flagged(self):
        """Creating in the Forecast's current-month column gives the 1st of the
        month, maybe already past: not something the rep typed, no warning (it
        blocked stock CRM's Forecast quick create with a dialog)."""
        first = (self.today - timedelta(days=3)).replace(day=1)
        Lead = self.env["crm.lead"].with_context(default_date_deadline=str(first))
        lead = Lead.new(self._lead_vals(date_deadline=first))
        self.assertNotIn("in the past", self._warning(lead))
        lead.date_deadline = first - timedelta(days=1)
        self.assertIn("is in the past", self._warning(lead), "a date typed is still checked")

    @users("opreg_rep")
    def test_form_warns_when_a_bad_email_is_typed(self):
        lead = self._lead().with_user(self.env.user)
        with self.assertLogs("odoo.tests.form.onchange", "WARNING") as logs:
            with Form(lead) as form:
                form.email_from = "abc"
                form.email_from = "buyer@yuntu.example.com"
        self.assertIn("abc is not a valid e-mail address", logs.output[0])

    @users("opreg_rep")
    def test_form_names_the_fields_a_submission_would_refuse(self):
        with Form(self.env["crm.lead"].with_context(default_type="opportunity")) as form:
            form.name = "Quoting tool"
            form.partner_id = self.customer
            form.email_from = "abc"
            form.date_deadline = self.today - timedelta(days=2)
            self.assertIn(" email_from ", form.registration_problem_fields)
            self.assertIn(" date_deadline ", form.registration_problem_fields)
            self.assertIn(" need_description ", form.registration_problem_fields)
            self.assertIn("abc is not a valid e-mail address", form.registration_problems)
            form.email_from = "buyer@yuntu.example.com"
            form.date_deadline = self.today + timedelta(days=20)
            form.need_description = "Quotes in one place"
            form.expected_revenue = 30000
            self.assertFalse(form.registration_problem_fields)
            self.assertFalse(form.registration_problems)

    def test_refusal_prints_dates_with_the_year_in_the_readers_format(self):
        past = self.today - timedelta(days=400)
        lead = self._lead(date_deadline=past)
        with self.assertRaises(ValidationError) as refused:
            lead.with_user(self.rep).action_registration_submit()
        self.assertIn(past.strftime("%m/%d/%Y"), str(refused.exception))
        self.assertNotIn(past.isoformat(), str(refused.exception))

    def test_conflict_alert_sits_under_the_title_and_is_bounded(self):
        arch = etree.fromstring(self._arch("crm.lead", "form"))
        alert = arch.xpath("//div[hasclass('o_registration_conflict')]")[0]
        self.assertNotIn("d-flex", alert.getparent().get("class", ""))
        self.assertIn("max-height", alert.get("style"))
        self.assertFalse(arch.xpath("//field[@name='customer_key']"), "no raw customer key")

    def test_registered_customer_stays_with_holder_after_arbitration(self):
        holder = self._approved()
        challenger = self._lead(user=self.rep2, name="Challenger")
        self.assertIn("arbitrate", challenger.registration_conflict_message)
        wizard = self.env["crm.lead.registration.arbitration"].with_user(self.manager)
        wizard.with_context(active_id=challenger.id).create(
            {"lead_id": challenger.id, "decision": "keep", "reason": "Rep Zhang met them first"}
        ).action_confirm()
        events = holder.registration_id.event_ids
        self.assertIn("kept", events.mapped("event"))
        self.assertNotIn("transferred", events.mapped("event"))
        self.assertIn("kept", challenger.registration_event_visible_ids.mapped("event"))
        challenger.invalidate_recordset(["registration_conflict_message"])
        self.assertNotIn("arbitrate", challenger.with_user(self.rep2).registration_conflict_message)
        self.assertIn(
            "stays with Rep Zhang", challenger.with_user(self.rep2).registration_conflict_message
        )

    def test_lost_opportunity_is_not_released_to_the_pool(self):
        lead = self._approved()
        lead.with_user(self.rep).action_set_lost()
        event = lead.registration_id.event_ids[:1]
        self.assertEqual(event.event, "lost")
        labels = dict(event._fields["event"]._description_selection(self.env))
        self.assertNotIn("Pool", labels["lost"])
        self.assertIn("the opportunity was lost or archived", " ".join(self._messages(lead)))
        self.assertNotIn("public pool", " ".join(self._messages(lead)))

    def test_cooldown_speaks_to_the_rep(self):
        self.company.registration_claim_cooldown_days = 30
        lead = self._approved()
        lead.with_user(self.rep).action_registration_release()
        with self.assertRaisesRegex(UserError, "^You let .* you may register it again from"):
            lead.with_user(self.rep).action_registration_submit()

    def test_release_and_claim_close_the_old_owners_follow_up(self):
        self.company.registration_claim_cooldown_days = 0
        lead = self._approved()
        follow_up = self.env.ref(
            "opportunity_registration.mail_activity_type_registration_follow_up"
        )
        self.assertTrue(
            lead.activity_ids.filtered(
                lambda a: a.activity_type_id == follow_up and a.user_id == self.rep
            )
        )
        lead.with_user(self.rep).action_registration_release(reason="Budget frozen")
        self.assertFalse(lead.activity_ids.filtered(lambda a: a.user_id == self.rep))
        lead.with_user(self.rep2).action_registration_claim()
        self.assertEqual(lead.registration_id.user_id, self.rep2)
        self.assertFalse(lead.activity_ids.filtered(lambda a: a.user_id == self.rep))

    def test_pool_offers_claim_only(self):
        arch = etree.fromstring(self._arch("crm.lead", "form"))
        for button in arch.xpath("//button[@name='action_registration_submit']"):
            self.assertIn("'released', 'expired'", button.get("invisible"))
        approve = arch.xpath("//button[@name='action_registration_approve']")[0]
        self.assertTrue(approve.get("confirm"), "approving asks for a confirmation")

    def test_refused_stage_leaves_the_rep_where_they_were(self):
        first = self.env["crm.stage"].create({"name": "Gate One", "sequence": 0})
        second = self.env["crm.stage"].create({"name": "Gate Two", "sequence": 0})
        self.assertLess(first._stage_key(), second._stage_key())
        need, contact = self.env["crm.stage.criterion"].create(
            [
                {"stage_id": first.id, "name": "Need confirmed"},
                {"stage_id": first.id, "name": "Contact met"},
            ]
        )
        lead = self._lead(stage_id=first.id)
        with self.assertLogs("odoo.tests.form.onchange", "WARNING") as logs:
            with Form(lead.with_user(self.rep)) as form:
                form.stage_criterion_done_ids.add(need)
                form.stage_id = second
                self.assertEqual(form.stage_id, first, "the refused stage is not kept")
                self.assertIn("Contact met", form.stage_gate_missing)
        self.assertIn("Gate Two is not reached yet", logs.output[0])
        self.assertEqual(lead.stage_id, first)
        self.assertEqual(lead.stage_criterion_done_ids, need, "the ticked box is saved")
        with Form(lead.with_user(self.rep)) as form:
            form.stage_criterion_done_ids.add(contact)
            self.assertFalse(form.stage_gate_missing, "the gate updates before saving")
            form.stage_id = second
        self.assertEqual(lead.stage_id, second)

    def test_stage_playbook_reaches_the_rep(self):
        self.env["crm.stage"].with_user(self.manager).action_load_standard_stages()
        stage = self.env["crm.stage"].search([("standard_code", "=", "A")])
        stage.write({"stage_content": "Visit the buyer", "diagnosis_key": "Who decides?"})
        lead = self._lead(stage_id=stage.id).with_user(self.rep)
        self.assertEqual(lead.stage_goal, stage.stage_goal)
        self.assertEqual(lead.stage_content, "Visit the buyer")
        self.assertEqual(lead.stage_diagnosis_key, "Who decides?")
        arch = etree.fromstring(self._arch("crm.lead", "form"))
        self.assertTrue(arch.xpath("//page[@name='stage_playbook']//field[@name='stage_goal']"))
        funnel = self.env["crm.stage.funnel"].browse(
            self.env["crm.stage.funnel"].action_open()["res_id"]
        )
        line = funnel.line_ids.filtered(lambda row: row.stage_id == stage)
        self.assertAlmostEqual(line.target_pass_ratio, stage.target_pass_rate / 100.0)

    # ------------------------------------------------------------
    # Messages in the reader's language
    # ------------------------------------------------------------

    def _chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["opportunity_registration"], ["zh_CN"])
        self.rep2.lang = "zh_CN"
        self.approver.lang = "zh_CN"

    def _note(self, lead, subtype, user):
        """What ``user`` reads, in their language, of the lead's one note of ``subtype``."""
        subtype = self.env.ref("opportunity_registration.mt_registration_%s" % subtype)
        texts = [
            text for message, text in self._chatter(lead, user) if message.subtype_id == subtype
        ]
        self.assertEqual(len(texts), 1, "one note, not one per language")
        return texts[0]

    def test_chatter_reads_in_each_readers_language(self):
        """One note for everyone, no copy per language: its subtype says what
        happened and its tracking values the data, each read in the reader's
        language (the web client formats the amount in the reader's format)."""
        self._chinese()
        self.assertNotIn("registration_bodies", self.env["mail.message"]._fields)
        lead = self._lead(expected_revenue=35000)
        lead.with_user(self.rep).with_context(lang="en_US").action_registration_submit()
        number = lead.registration_number
        english, chinese = (
            self._note(lead, "submitted", self.rep),
            self._note(lead, "submitted", self.rep2),
        )
        self.assertIn("Registration submitted for review", english)
        self.assertIn("Number:  → %s" % number, english)
        self.assertIn("Amount:  → 35000.0", english, "a number the web client formats")
        self.assertIn(
            "报备已提交，等待审核", chinese, "a Chinese reader reads Chinese, whoever acted"
        )
        self.assertIn("编号:  → %s" % number, chinese, "the field's label in Chinese")
        self.assertIn("金额:  → 35000.0", chinese)
        self.assertNotIn("submitted", chinese)
        message = lead.message_ids.filtered(
            lambda m: m.subtype_id.description == "Registration submitted for review"
        )
        self.assertFalse(message.body, "nobody typed anything: no body")

    def test_chinese_actor_english_reader(self):
        self._chinese()
        lead = self._lead(user=self.rep2, expected_revenue=35000)
        lead.with_user(self.rep2).with_context(lang="zh_CN").action_registration_submit()
        lead.registration_id.with_user(self.approver).with_context(lang="zh_CN").action_reject(
            reason="预算未确认 <b>now</b>"
        )
        english = self._note(lead, "rejected", self.rep)
        chinese = self._note(lead, "rejected", self.rep2)
        self.assertIn("Registration rejected", english)
        self.assertIn("预算未确认 <b>now</b>", english, "the reason as it was typed, as text")
        self.assertIn("报备已被驳回", chinese)
        self.assertNotIn("驳回", english.replace("预算未确认", ""))
        message = lead.message_ids.filtered(lambda m: "预算未确认" in str(m.body))
        self.assertIn("&lt;b&gt;now&lt;/b&gt;", str(message.body), "escaped")

    def test_review_todo_is_written_in_the_approvers_language(self):
        self._chinese()
        lead = self._lead(expected_revenue=35000)
        lead.with_user(self.rep).with_context(lang="en_US").action_registration_submit()
        todo = lead.activity_ids.filtered(lambda a: a.user_id == self.approver)
        self.assertTrue(todo)
        self.assertNotIn("Review registration", todo.summary)
        self.assertIn(lead.registration_number, todo.summary)

    def test_review_todo_ends_with_the_decision(self):
        """The decision is the note, read in each reader's language: the
        approver's to-do goes, leaving no "done" line in the approver's
        language; the comment is the note's text."""
        self._chinese()
        lead = self._lead(user=self.rep2, expected_revenue=35000)
        lead.with_user(self.rep2).action_registration_submit()
        lead.registration_id.with_user(self.approver).action_approve(comment="Budget fine")
        self.assertEqual(lead.registration_state, "approved")
        review_type = self.env.ref(
            "opportunity_registration.mail_activity_type_registration_review"
        )
        self.assertFalse(lead.activity_ids.filtered(lambda a: a.activity_type_id == review_type))
        self.assertFalse(
            lead.message_ids.filtered(lambda m: m.mail_activity_type_id == review_type)
        )
        english = self._note(lead, "approved", self.rep)
        chinese = self._note(lead, "approved", self.rep2)
        self.assertIn("Registration approved: the customer is protected", english)
        self.assertIn("Protection End:  → %s" % lead.protection_end_date, english)
        self.assertIn("Budget fine", english)
        self.assertIn("报备已审核通过", chinese)
        self.assertIn("保护期截止:  → %s" % lead.protection_end_date, chinese)
        self.assertIn("Budget fine", chinese)

    def test_lock_history_reads_in_each_language(self):
        """The lock history's sentence is computed in the reader's language;
        its note is what the manager typed, once."""
        self._chinese()
        holder = self._approved()
        challenger = self._lead(user=self.rep2, name="Challenger")
        wizard = self.env["crm.lead.registration.arbitration"].with_user(self.manager)
        wizard.with_context(active_id=challenger.id, lang="zh_CN").create(
            {"lead_id": challenger.id, "decision": "keep", "reason": "first"}
        ).action_confirm()
        event = holder.registration_id.event_ids.filtered(lambda e: e.event == "kept")[:1]
        self.assertEqual(event.note, "first")
        self.assertEqual(
            event.with_context(lang="en_US").description,
            "Arbitration by Manager Chen: Rep Zhang keeps the customer.",
        )
        self.assertEqual(
            event.with_context(lang="zh_CN").description,
            "Manager Chen 仲裁：Rep Zhang 保留该客户。",
        )
        self.assertIn(
            "Arbitration: the current holder keeps the customer",
            self._note(challenger, "arbitration_kept", self.rep),
        )
        self.assertIn(
            "仲裁：当前持有人保留该客户", self._note(challenger, "arbitration_kept", self.rep2)
        )

    def test_transfer_reads_in_each_readers_language(self):
        self._chinese()
        self.manager.lang = "zh_CN"
        lead = self._approved()
        lead.registration_id.with_user(self.manager).with_context(lang="zh_CN").action_transfer(
            user=self.rep2, reason="Li runs the account now"
        )
        english = self._note(lead, "transferred", self.rep)
        chinese = self._note(lead, "transferred", self.rep2)
        self.assertIn("Registration transferred by arbitration", english)
        self.assertIn("Owner: Rep Zhang → Rep Li", english)
        self.assertIn("Li runs the account now", english)
        self.assertIn("负责人: Rep Zhang → Rep Li", chinese, "the change itself is in Chinese")
        self.assertIn("Li runs the account now", chinese, "the reason as it was typed")
        self.assertNotIn("Owner", chinese)
        event = lead.registration_id.event_ids.filtered(lambda e: e.event == "transferred")
        self.assertEqual(event.note, "Li runs the account now")
        self.assertEqual(
            event.with_context(lang="en_US").description,
            "Manager Chen transferred %s to Rep Li." % lead.registration_number,
        )
        self.assertIn("转移给 Rep Li", event.with_context(lang="zh_CN").description)

    # ------------------------------------------------------------
    # Approver's inbox and public pool
    # ------------------------------------------------------------

    def test_inbox_and_pool_lists(self):
        for xmlid, columns in (
            (
                "opportunity_registration.crm_lead_action_registration_pending",
                {
                    "registration_customer_name",
                    "registration_band",
                    "expected_revenue",
                    "registration_user_id",
                    "registration_date_submitted",
                },
            ),
        ):
            action = self.env.ref(xmlid)
            arch = etree.fromstring(self._arch("crm.lead", "list", action))
            self.assertEqual(arch.get("create"), "false")
            self.assertLessEqual(columns, set(arch.xpath("//field/@name")))
            self.assertFalse(arch.xpath("//button[@name='action_generate_leads']"))

    def test_expiring_filter_lists_locks_ending_within_a_week(self):
        """Expiring in 7 Days: the registered opportunities whose protection
        ends within a week (or has ended, not swept yet), nothing else."""
        soon, later = (
            self._approved(partner_id=False, partner_name=name) for name in ("Soon Co", "Later Co")
        )
        soon.registration_id.sudo().with_context(skip_validation_check=True).write(
            {"protection_end_date": self.today + timedelta(days=3)}
        )
        soon._sync_registration()
        unregistered = self._lead(partner_id=False, partner_name="Draft Co")
        arch = etree.fromstring(
            self.env["crm.lead"].get_views(
                [(self.env.ref("crm.view_crm_case_opportunities_filter").id, "search")]
            )["views"]["search"]["arch"]
        )
        domain = safe_eval(
            arch.xpath("//filter[@name='registration_expiring']")[0].get("domain"),
            {"context_today": datetime.date.today, "relativedelta": relativedelta},
        )
        found = (
            self.env["crm.lead"]
            .with_user(self.rep)
            .search(domain + [("id", "in", (soon | later | unregistered).ids)])
        )
        self.assertEqual(found, soon)

        arch = etree.fromstring(self._arch("crm.lead.registration", "kanban"))
        self.assertLessEqual(
            {"customer_name", "amount", "band", "user_id", "date_submitted"},
            set(arch.xpath("//field/@name")),
        )

    # ------------------------------------------------------------
    # Admin
    # ------------------------------------------------------------

    def test_bands_show_upper_bounds_and_empty_roles(self):
        bands = self.env["crm.lead.registration.band"]._get_company_bands(self.company)
        by_code = {band.code: band for band in bands}
        self.assertEqual(by_code["small"].upper_bound, by_code["ordinary"].lower_bound)
        self.assertFalse(by_code["major"].upper_bound)
        self.env["crm.team"].create({"name": "Leaderless", "company_id": self.company.id})
        bands.invalidate_recordset(["missing_role_warning"])
        self.assertIn("Leaderless", by_code["ordinary"].missing_role_warning)
        self.assertFalse(by_code["small"].missing_role_warning, "automatic needs nobody")
        settings = self.env["res.config.settings"].create({})
        self.assertIn("Leaderless", settings.registration_band_warning)

    def test_stage_funnel_has_a_title_and_percentages(self):
        action = self.env["crm.stage.funnel"].action_open()
        self.assertEqual(action["name"], "Stage Funnel")
        funnel = self.env["crm.stage.funnel"].browse(action["res_id"])
        self.assertEqual(funnel.display_name, "Stage Funnel")
        arch = etree.fromstring(self._arch("crm.stage.funnel", "form"))
        self.assertEqual(arch.get("create"), "false")
        self.assertEqual(
            len(arch.xpath("//field[@name='line_ids']//field[@widget='percentage']")), 5
        )

    def test_choosing_a_free_customer_clears_the_conflict(self):
        holder_customer, free_customer = self.env["res.partner"].create(
            [
                {"name": "Holder Form Co", "is_company": True, "email": "info@holderform.example"},
                {
                    "name": "Free Form Co",
                    "is_company": True,
                    "email": "info@freeform.example",
                    "phone": "+86 21 5555 0199",
                },
            ]
        )
        self._approved(user=self.rep2, partner_id=holder_customer.id)
        with Form(
            self.env["crm.lead"].with_user(self.rep).with_context(default_type="opportunity")
        ) as form:
            form.name = "Switching"
            form.partner_id = holder_customer
            self.assertIn("Rep Li", form.registration_conflict_message or "")
            form.partner_id = free_customer
            self.assertEqual(form.email_from, "info@freeform.example")
            self.assertFalse(form.registration_conflict_message)
