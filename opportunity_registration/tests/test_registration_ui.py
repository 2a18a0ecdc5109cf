from odoo.tests import HttpCase, tagged

from .common import RegistrationCase


@tagged("post_install", "-at_install", "opportunity_registration")
class TestRegistrationUi(HttpCase, RegistrationCase):
    def test_submit_from_the_opportunity_form(self):
        lead = self._lead(need_description=False)
        self.start_tour(
            "/odoo/action-crm.crm_lead_action_pipeline/%d" % lead.id,
            "opportunity_registration_submit",
            login="opreg_rep",
        )
        self.assertEqual(lead.registration_state, "submitted")
        self.assertEqual(lead.need_description, "Move 40 buyers off spreadsheets")
        self.assertEqual(lead.registration_id.user_id, self.rep)

    def test_bad_email_is_flagged_as_the_rep_types_it(self):
        lead = self._lead()
        self.start_tour(
            "/odoo/action-crm.crm_lead_action_pipeline/%d" % lead.id,
            "opportunity_registration_bad_email_warning",
            login="opreg_rep",
        )

    def test_approver_approves_from_the_opportunity_form(self):
        lead = self._lead(expected_revenue=30000)
        lead.with_user(self.rep).action_registration_submit()
        self.start_tour(
            "/odoo/action-crm.crm_lead_action_pipeline/%d" % lead.id,
            "opportunity_registration_approve",
            login="opreg_approver",
        )
        self.assertEqual(lead.registration_state, "approved")
        self.assertEqual(lead.registration_id.approved_by_id, self.approver)

    def test_chatter_in_the_readers_language_over_http(self):
        """What the web client loads for the chatter (``/mail/thread/messages``):
        the note a Chinese approver logged reads in Chinese for them and in
        English for the English rep, and the reason typed stays text."""
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["opportunity_registration"], ["zh_CN"])
        self.approver.lang = "zh_CN"
        lead = self._lead(expected_revenue=30000)
        lead.with_user(self.rep).action_registration_submit()
        lead.registration_id.with_user(self.approver).with_context(lang="zh_CN").action_reject(
            reason="<b>Not yet</b>"
        )
        rejected = self.env.ref("opportunity_registration.mt_registration_rejected")
        read = {}
        for login in ("opreg_rep", "opreg_approver"):
            self.authenticate(login, login)
            data = self.make_jsonrpc_request(
                "/mail/thread/messages", {"thread_model": "crm.lead", "thread_id": lead.id}
            )["data"]
            subtypes = {s["id"]: s["description"] for s in data["mail.message.subtype"]}
            (note,) = [m for m in data["mail.message"] if m["subtype_id"] == rejected.id]
            read[login] = (subtypes[note["subtype_id"]], note["body"], note["trackingValues"])
        self.assertEqual(read["opreg_rep"][0], "Registration rejected")
        self.assertEqual(read["opreg_approver"][0], "报备已被驳回")
        for login in read:
            self.assertIn("&lt;b&gt;Not yet&lt;/b&gt;", str(read[login][1]), "text, escaped")
        labels = {
            login: [t["fieldInfo"]["changedField"] for t in values[2]]
            for login, values in read.items()
        }
        self.assertEqual(labels, {"opreg_rep": ["Number"], "opreg_approver": ["编号"]})

    def test_rep_sees_the_registration_on_the_form(self):
        """The form reads no history list on load; the rep still sees the
        status, number, protection end and owner's buttons, opens the lock
        history and the registrations from the Registration page, and is told
        who holds a customer before submitting."""
        lead = self._lead(name="Form Deal", expected_revenue=5000)
        lead.with_user(self.rep).action_registration_submit()
        self.assertEqual(lead.registration_state, "approved")
        self.start_tour(
            "/odoo/action-crm.crm_lead_action_pipeline/%d" % lead.id,
            "opportunity_registration_form_info",
            login="opreg_rep",
        )
        self.assertTrue(lead.with_user(self.rep).registration_is_mine)
        self.assertFalse(lead.with_user(self.rep2).registration_is_mine)
        challenger = self._lead(
            name="Same customer",
            user=self.rep2,
            partner_id=lead.partner_id.id,
            email_from=lead.email_from,
            phone=lead.phone,
        )
        self.start_tour(
            "/odoo/action-crm.crm_lead_action_pipeline/%d" % challenger.id,
            "opportunity_registration_form_conflict",
            login="opreg_rep2",
        )


@tagged("post_install", "-at_install", "opportunity_registration")
class TestEverydayTours(HttpCase, RegistrationCase):
    """The rep's day and the manager's arbitration, clicked in a browser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.registration_require_deadline = False
        cls.holder_customer, cls.free_customer = cls.env["res.partner"].create(
            [
                {"name": "Holder Tour Co", "is_company": True, "email": "info@holdertour.example"},
                {
                    "name": "Free Tour Co",
                    "is_company": True,
                    "email": "info@freetour.example",
                    "phone": "+86 21 5555 0198",
                },
            ]
        )
        cls.holder = cls._holder()

    @classmethod
    def _holder(cls):
        lead = (
            cls.env["crm.lead"]
            .with_user(cls.rep2)
            .create(
                cls._lead_vals(
                    name="Holder's deal",
                    partner_id=cls.holder_customer.id,
                    user_id=cls.rep2.id,
                    expected_revenue=5000,
                )
            )
        )
        lead.action_registration_submit()
        return lead.with_env(cls.env)

    def test_the_reps_day(self):
        self.assertEqual(self.holder.registration_state, "approved")
        self.start_tour(
            "/odoo/action-crm.crm_lead_action_pipeline",
            "opportunity_registration_rep_day",
            login="opreg_rep",
        )
        lead = self.env["crm.lead"].search([("name", "=", "Tour ERP deal")])
        self.assertEqual(lead.partner_id, self.free_customer)
        self.assertEqual(lead.registration_state, "submitted")
        self.assertEqual(lead.registration_id.approver_ids, self.approver)
        self.start_tour(
            "/odoo/action-opportunity_registration.crm_lead_action_registration_pending",
            "opportunity_registration_approver_inbox",
            login="opreg_approver",
        )
        self.assertEqual(lead.registration_state, "approved")
        self.assertEqual(lead.registration_id.approved_by_id, self.approver)
        self.start_tour(
            "/odoo/action-crm.crm_lead_action_pipeline/%d" % lead.id,
            "opportunity_registration_follow_up",
            login="opreg_rep",
        )
        self.assertEqual(lead.registration_id.last_follow_up_date, self.today)

    def test_the_managers_arbitration(self):
        challenger = self._lead(
            name="Challenger's deal", partner_id=self.holder_customer.id, user=self.rep
        )
        self.start_tour(
            "/odoo/action-crm.crm_lead_action_pipeline/%d" % challenger.id,
            "opportunity_registration_arbitration",
            login="opreg_manager",
        )
        events = self.holder.registration_id.event_ids
        self.assertIn("kept", events.mapped("event"))
        self.assertIn("Rep Li met the customer first", events.filtered("note")[:1].note)
        self.assertEqual(self.holder.registration_state, "approved")
