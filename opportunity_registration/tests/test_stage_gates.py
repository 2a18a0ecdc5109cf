from odoo.exceptions import AccessError, RedirectWarning, UserError, ValidationError
from odoo.tests import Form, tagged, users

from ..exceptions import StageGateWarning
from .common import chatter
from .common_stage import StageControlCase


@tagged("post_install", "-at_install", "opportunity_registration", "stage_control")
class TestStageGates(StageControlCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.criterion_need = cls.env["crm.stage.criterion"].create(
            {
                "stage_id": cls.stage_1.id,
                "name": "Customer need identified",
                "sequence": 1,
            }
        )
        cls.criterion_contact = cls.env["crm.stage.criterion"].create(
            {
                "stage_id": cls.stage_1.id,
                "name": "Contact person known",
                "sequence": 2,
            }
        )
        cls.stage_1.gate_field_ids = cls.env["ir.model.fields"]._get("crm.lead", "date_deadline")

    def _meet_gate(self, lead):
        lead.write(
            {
                "stage_criterion_done_ids": [
                    (6, 0, (self.criterion_need | self.criterion_contact).ids)
                ],
                "date_deadline": "2030-01-01",
            }
        )

    @users("opreg_stage_rep")
    def test_refusal_names_what_is_missing(self):
        lead = self._new_leads(1)
        lead.stage_criterion_done_ids = self.criterion_need
        self.assertEqual(
            lead.stage_gate_missing,
            "Exit criterion not met: Contact person known\nRequired field empty: Expected Closing",
        )
        with self.assertRaises(UserError) as refusal:
            lead.write({"stage_id": self.stage_2.id})
        message = str(refusal.exception)
        self.assertIn("cannot move from S1 Understand to S2 Confirm", message)
        self.assertIn("Exit criterion not met: Contact person known", message)
        self.assertNotIn("Customer need identified", message)
        self.assertIn("Required field empty: Expected Closing", message)
        self.assertEqual(lead.stage_id, self.stage_1, "nothing half-saved")
        self.assertEqual(len(self._history(lead)), 1)

        self._meet_gate(lead)
        self.assertFalse(lead.stage_gate_missing)
        lead.write({"stage_id": self.stage_2.id})
        self.assertEqual(lead.stage_id, self.stage_2)

    @users("opreg_stage_rep")
    def test_gate_met_in_the_same_save(self):
        """Ticking the criteria and moving in one save passes the gate."""
        lead = self._new_leads(1)
        lead.write(
            {
                "stage_criterion_done_ids": [
                    (6, 0, (self.criterion_need | self.criterion_contact).ids)
                ],
                "date_deadline": "2030-01-01",
                "stage_id": self.stage_2.id,
            }
        )
        self.assertEqual(lead.stage_id, self.stage_2)
        other = self._new_leads(1)
        with Form(other) as form:
            form.stage_criterion_done_ids.add(self.criterion_need)
            form.stage_criterion_done_ids.add(self.criterion_contact)
            form.date_deadline = "2030-01-01"
            form.stage_id = self.stage_3
        self.assertEqual(other.stage_id, self.stage_3)
        self.assertEqual(self._history(other).stage_id, self.stage_1 | self.stage_3)

    @users("opreg_stage_rep")
    def test_refusal_in_form_and_batch(self):
        ready, blocked = self._new_leads(2)
        self._meet_gate(ready)
        with self.assertRaises(UserError):
            (ready | blocked).write({"stage_id": self.stage_2.id})
        self.assertEqual((ready | blocked).stage_id, self.stage_1, "the whole batch is refused")
        form = Form(blocked)
        with self.assertLogs("odoo.tests.form.onchange", "WARNING"):
            form.stage_id = self.stage_3  # refused at once: the form stays in its stage
        self.assertEqual(form.stage_id, self.stage_1)
        form.save()
        self.assertEqual(blocked.stage_id, self.stage_1)

    @users("opreg_stage_rep")
    def test_stages_without_criteria_are_free(self):
        """Default settings, no criteria: stock behaviour (any move)."""
        lead = self._new_leads(1, stage=self.stage_1)
        self._meet_gate(lead)
        lead.write({"stage_id": self.stage_2.id})
        lead.write({"stage_id": self.stage_5.id})
        lead.write({"stage_id": self.stage_2.id})
        lead.write({"stage_id": self.stage_1.id})
        self.assertEqual(lead.stage_id, self.stage_1)

    @users("opreg_stage_rep")
    def test_skip_setting(self):
        lead = self._new_leads(1)
        self._meet_gate(lead)
        self.company.sudo().stage_gate_allow_skip = False
        with self.assertRaises(UserError) as refusal:
            lead.write({"stage_id": self.stage_4.id})
        self.assertIn(
            "Stages cannot be skipped: go through S2 Confirm, S3 Solution first.",
            str(refusal.exception),
        )
        lead.write({"stage_id": self.stage_2.id})  # the next stage is fine
        self.company.sudo().stage_gate_allow_skip = True
        lead.write({"stage_id": self.stage_4.id})
        self.assertEqual(lead.stage_id, self.stage_4)

    @users("opreg_stage_rep")
    def test_back_setting(self):
        lead = self._new_leads(1, stage=self.stage_1)
        self._meet_gate(lead)
        lead.write({"stage_id": self.stage_3.id})
        self.company.sudo().stage_gate_allow_back = False
        with self.assertRaises(UserError) as refusal:
            lead.write({"stage_id": self.stage_2.id})
        self.assertIn("cannot go back to an earlier stage (S2 Confirm)", str(refusal.exception))
        self.assertEqual(lead.stage_id, self.stage_3)
        lead.write({"stage_id": self.stage_4.id})  # forward still fine
        self.company.sudo().stage_gate_allow_back = True
        lead.write({"stage_id": self.stage_2.id})
        self.assertEqual(lead.stage_id, self.stage_2)

    def test_manager_override_with_reason(self):
        lead = self._new_leads(1).with_user(self.user_manager)
        # a manager is refused too, but offered the override
        with self.assertRaises(RedirectWarning) as refusal:
            lead.write({"stage_id": self.stage_2.id})
        action = refusal.exception.args[1]
        self.assertEqual(action["res_model"], "crm.lead.stage.override")
        self.assertEqual(action["context"]["default_stage_id"], self.stage_2.id)
        wizard = (
            self.env["crm.lead.stage.override"]
            .with_user(self.user_manager)
            .with_context(**action["context"])
            .create({"reason": "Customer's CEO signed off on the phone"})
        )
        self.assertEqual(wizard.lead_ids, lead)
        wizard.action_confirm()
        self.assertEqual(lead.stage_id, self.stage_2)
        stay = self._history(lead)[-1]
        self.assertEqual(stay.override_reason, "Customer's CEO signed off on the phone")
        self.assertEqual(stay.moved_by_id, self.user_manager)
        log = lead.message_ids.filtered(
            lambda m: (
                m.subtype_id
                == self.env.ref("opportunity_registration.mt_registration_stage_gate_overridden")
            )
        )
        self.assertEqual(len(log), 1)
        self.assertIn("Customer's CEO signed off on the phone", str(log.body))

    def test_manager_refusal_is_titled_and_writes_nothing(self):
        lead = self._new_leads(1).with_user(self.user_manager)
        with self.assertRaises(StageGateWarning) as refusal:
            # the criterion ticked with the move is saved before the gate is checked
            lead.write(
                {
                    "stage_id": self.stage_2.id,
                    "stage_criterion_done_ids": [(4, self.criterion_need.id)],
                }
            )
        self.assertIsInstance(refusal.exception, RedirectWarning, "still Odoo's redirect warning")
        self.assertEqual(refusal.exception.context["title"], "Stage gate not met")
        self.assertEqual(refusal.exception.args[2], "Override with a Reason")
        lead.invalidate_recordset()
        self.assertEqual(lead.stage_id, self.stage_1)
        self.assertFalse(lead.stage_criterion_done_ids, "nothing of the refused save is kept")
        self.assertEqual(self._history(lead).stage_id, self.stage_1)

    def _chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["opportunity_registration"], ["zh_CN"])
        self.stage_1.with_context(lang="zh_CN").name = "S1 了解需求"
        self.stage_2.with_context(lang="zh_CN").name = "S2 确认需求"
        self.criterion_need.with_context(lang="zh_CN").name = "已识别客户需求"

    def _override_note(self, lead, lang):
        lead.with_user(self.user_manager).with_context(
            lang=lang, stage_gate_override_reason="CEO signed off"
        ).write({"stage_id": self.stage_2.id})
        subtype = self.env.ref("opportunity_registration.mt_registration_stage_gate_overridden")
        self.assertEqual(len(lead.message_ids.filtered(lambda m: m.subtype_id == subtype)), 1)
        return subtype

    def _read_as(self, lead, subtype, user):
        return next(text for m, text in chatter(lead, user) if m.subtype_id == subtype)

    def test_override_note_reads_in_each_readers_language(self):
        self._chinese()
        self.user_rep.lang = "zh_CN"
        lead = self._new_leads(1)
        subtype = self._override_note(lead, "en_US")
        english = self._read_as(lead, subtype, self.user_manager)
        chinese = self._read_as(lead, subtype, self.user_rep)
        self.assertIn("Stage gate overridden: the opportunity moved on with exit criteria", english)
        self.assertIn("已越过阶段关卡", chinese)
        self.assertIn("CEO signed off", chinese, "the reason as it was typed")
        self.assertNotIn("Stage gate overridden", chinese)

    def test_override_by_a_chinese_manager_reads_in_english(self):
        self._chinese()
        self.user_manager.lang = "zh_CN"
        lead = self._new_leads(1)
        subtype = self._override_note(lead, "zh_CN")
        english = self._read_as(lead, subtype, self.user_rep)
        self.assertIn("Stage gate overridden", english)
        self.assertIn("CEO signed off", english)
        self.assertNotIn("阶段关卡", english)

    def test_refusal_title_is_in_the_managers_language(self):
        self._chinese()
        lead = self._new_leads(1).with_user(self.user_manager).with_context(lang="zh_CN")
        with self.assertRaises(StageGateWarning) as refusal:
            lead.write({"stage_id": self.stage_2.id})
        self.assertEqual(refusal.exception.context["title"], "未通过阶段关卡")

    def test_override_refused_to_rep_and_needs_reason(self):
        lead = self._new_leads(1).with_user(self.user_rep)
        with self.assertRaises(AccessError):
            lead.with_context(stage_gate_override_reason="I say so").write(
                {"stage_id": self.stage_2.id}
            )
        self.assertEqual(lead.stage_id, self.stage_1)
        wizard = (
            self.env["crm.lead.stage.override"]
            .with_user(self.user_manager)
            .create(
                {
                    "lead_ids": [(6, 0, lead.ids)],
                    "stage_id": self.stage_2.id,
                    "reason": "   ",
                }
            )
        )
        with self.assertRaises(UserError):
            wizard.action_confirm()

    def test_gate_that_cannot_be_met(self):
        with self.assertRaises(ValidationError) as error:
            self.stage_2.gate_field_ids = self.env["ir.model.fields"]._get(
                "crm.lead", "stage_history_ids"
            )
        self.assertIn("can never be met", str(error.exception))

    @users("opreg_stage_rep")
    def test_create_or_copy_into_a_later_stage_passes_the_gates(self):
        """Creating straight into a later stage is moving through the earlier ones."""
        with self.assertRaises(UserError) as refusal:
            self._new_leads(1, stage=self.stage_3)
        self.assertIn("cannot start in S3 Solution", str(refusal.exception))
        self.assertIn(
            "Exit criterion of S1 Understand not met: Customer need identified",
            str(refusal.exception),
        )
        # criteria met and the gate field given: the new opportunity may start there
        lead = self._new_leads(
            1,
            stage=self.stage_3,
            date_deadline="2030-01-01",
            stage_criterion_done_ids=[(6, 0, (self.criterion_need | self.criterion_contact).ids)],
        )
        self.assertEqual(lead.stage_id, self.stage_3)
        # a copy of an opportunity in a later stage goes through the same gate
        gated = self._new_leads(1)
        self._meet_gate(gated)
        gated.write({"stage_id": self.stage_3.id})
        self.assertNotEqual(gated.copy().stage_id, self.stage_3, "a plain copy starts over")
        with self.assertRaisesRegex(UserError, "cannot start in S3 Solution"):
            gated.copy({"stage_id": self.stage_3.id})
        # skipping forbidden: a new opportunity starts in the first stage
        self.company.sudo().stage_gate_allow_skip = False
        first = self.env["crm.stage"].search(
            ["|", ("team_ids", "=", False), ("team_ids", "in", self.team.ids)],
            order="sequence, id",
            limit=1,
        )
        with self.assertRaisesRegex(
            UserError, "Stages cannot be skipped: a new opportunity starts in %s" % first.name
        ):
            self._new_leads(1, stage=self.stage_2)
        self.assertEqual(self._new_leads(1, stage=first).stage_id, first)
