from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import RegistrationCase


@tagged("post_install", "-at_install")
class TestCachedSettings(RegistrationCase):
    """The form reads bands, lock settings and stage gates from caches kept
    across requests: a change made in Settings must show on the very next form."""

    def _form(self, user=None, **vals):
        form = Form(self.env["crm.lead"].with_user(user or self.rep))
        form.name = "Cached settings"
        for name, value in vals.items():
            setattr(form, name, value)
        return form

    def test_band_change_reaches_the_form(self):
        form = self._form(expected_revenue=30000)
        self.assertEqual(form.registration_band, "ordinary")
        bands = self.env["crm.lead.registration.band"]._get_company_bands(self.company)
        bands.filtered(lambda b: b.code == "important").lower_bound = 25000
        self.assertEqual(self._form(expected_revenue=30000).registration_band, "important")
        self.assertEqual(
            self.env["crm.lead.registration.band"]._code_for_amount(self.company, 24999.99),
            "ordinary",
        )

    def test_free_mail_domains_change_reaches_the_check(self):
        holder = self._lead(partner_id=self.customer.id, email_from="ceo@yuntu.example.com")
        holder.action_registration_submit()
        form = self._form(
            user=self.rep2, partner_name="Other Name Ltd", email_from="x@yuntu.example.com"
        )
        self.assertIn("Rep Zhang", form.registration_conflict_message or "")

        settings = self.env["res.config.settings"].create({})
        settings.registration_free_mail_domains = "qq.com\nyuntu.example.com"
        settings.execute()
        form = self._form(
            user=self.rep2, partner_name="Other Name Ltd", email_from="x@yuntu.example.com"
        )
        self.assertFalse(form.registration_conflict_message)

    def test_scope_change_reaches_the_check(self):
        line_a = self.env["crm.tag"].create({"name": "Cloud"})
        line_b = self.env["crm.tag"].create({"name": "Hardware"})
        self.company.registration_scope = "product_line"
        cloud = self._lead(registration_product_line_id=line_a.id)
        cloud.action_registration_submit()
        hardware = self._lead(user=self.rep2, registration_product_line_id=line_b.id)
        self.assertFalse(
            hardware.registration_conflict_message, "another line of the customer is free"
        )
        hardware.with_user(self.rep2).action_registration_submit()
        self.assertEqual(hardware.registration_state, "submitted")

        # back to one lock per customer: the per-line locks still hold it
        self.company.registration_scope = "customer"
        whole = self._lead(user=self.rep2, name="Whole customer")
        self.assertIn("Rep Zhang", whole.registration_conflict_message)
        with self.assertRaisesRegex(UserError, "already has a registration by Rep Zhang"):
            whole.with_user(self.rep2).action_registration_submit()

    def test_locks_granted_for_the_whole_customer_survive_a_scope_change(self):
        whole = self._lead()
        whole.action_registration_submit()
        self.company.registration_scope = "product_line"
        line = self.env["crm.tag"].create({"name": "Cloud"})
        challenger = self._lead(user=self.rep2, registration_product_line_id=line.id)
        self.assertIn("Rep Zhang", challenger.registration_conflict_message)
        with self.assertRaisesRegex(UserError, "Rep Zhang"):
            challenger.with_user(self.rep2).action_registration_submit()

    def test_stage_gate_change_reaches_the_form(self):
        stage = self.env["crm.stage"].create({"name": "Gate Stage", "sequence": 2000})
        lead = self._lead(stage_id=stage.id)
        self.assertFalse(lead.stage_has_criteria)

        criterion = self.env["crm.stage.criterion"].create(
            {"stage_id": stage.id, "name": "Budget confirmed"}
        )
        lead.invalidate_recordset(["stage_gate_missing", "stage_has_criteria"])
        self.assertTrue(lead.stage_has_criteria)
        self.assertIn("Budget confirmed", lead.stage_gate_missing)

        criterion.name = "Budget signed off"
        stage.gate_field_ids = self.env["ir.model.fields"]._get("crm.lead", "competitor_name")
        lead.invalidate_recordset(["stage_gate_missing"])
        self.assertIn("Budget signed off", lead.stage_gate_missing)
        self.assertIn("Competitor", lead.stage_gate_missing)

        lead.stage_criterion_done_ids = criterion
        lead.competitor_name = "Kingdee"
        self.assertFalse(lead.stage_gate_missing)

        criterion.unlink()
        stage.gate_field_ids = False
        lead.invalidate_recordset(["stage_gate_missing", "stage_has_criteria"])
        self.assertFalse(lead.stage_has_criteria)
