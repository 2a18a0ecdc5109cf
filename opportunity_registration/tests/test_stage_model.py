from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged, users
from odoo.tools import mute_logger

from .common_stage import StageControlCase


@tagged("post_install", "-at_install", "opportunity_registration", "stage_control")
class TestStageModel(StageControlCase):
    def test_stage_parameters_bad_input(self):
        for vals in (
            {"win_probability": 120},
            {"win_probability": -1},
            {"planned_duration": -3},
            {"target_pass_rate": 101},
            {"target_win_rate": -5},
        ):
            with (
                self.subTest(vals=vals),
                mute_logger("odoo.sql_db"),
                self.assertRaises(ValidationError),
            ):
                self.stage_2.write(vals)
                self.stage_2.flush_recordset()
        self.stage_2.invalidate_recordset()
        self.assertEqual(self.stage_2.win_probability, 25.0, "nothing half-saved")
        with self.assertRaises(ValidationError) as error:
            self.stage_2.write({"name": "Bad", "win_probability": 150})
        self.assertIn("between 0 and 100", str(error.exception))

    def test_stage_parameters_defaults(self):
        stage = self.env["crm.stage"].create(
            {
                "name": "Plain",
                "win_probability": 40,
                "stage_goal": "Goal",
                "stage_content": "Content",
                "diagnosis_key": "Key",
                "diagnostic_indicators": "Indicators",
                "participants": "Rep, presales",
                "lifecycle_period": "development",
            }
        )
        self.assertEqual(stage.target_win_rate, 40.0, "preset win rate follows the probability")
        stage.target_win_rate = 35
        stage.win_probability = 45
        self.assertEqual(stage.target_win_rate, 45.0)

    @users("opreg_stage_manager")
    def test_load_standard_stage_model(self):
        Stage = self.env["crm.stage"]
        before = Stage.search([])
        names_before = before.mapped("name")
        stages = Stage.action_load_standard_stages()
        self.assertEqual(stages.mapped("standard_code"), ["A", "B", "C", "D", "E", "F"])
        self.assertEqual(stages.mapped("win_probability"), [10.0, 25.0, 50.0, 75.0, 90.0, 100.0])
        self.assertEqual(stages.mapped("is_won"), [False] * 5 + [True])
        stage_c = stages[2]
        self.assertEqual((stage_c.planned_duration, stage_c.target_pass_rate), (10, 60.0))
        self.assertEqual(
            stages.mapped("lifecycle_period"),
            ["identification", "development", "development", "maturity", "maturity", "harvest"],
        )
        self.assertEqual(stages[0].name, "A Understand")
        self.assertTrue(stages[0].criterion_ids)
        self.assertTrue(all(s.sequence > max(before.mapped("sequence")) for s in stages))
        self.assertEqual(
            [
                data.name
                for data in self.env["ir.model.data"]
                .sudo()
                .search([("model", "=", "crm.stage"), ("res_id", "in", stages.ids)], order="name")
            ],
            ["standard_stage_%s" % code for code in "abcdef"],
            "each standard stage has an XML id, so its translations come from the .po files",
        )
        # existing stages untouched; loading again creates nothing
        self.assertEqual(before.mapped("name"), names_before)
        self.assertFalse(Stage.action_load_standard_stages())
        self.assertEqual(Stage.search_count([]), len(before) + 6)

    def test_load_standard_stage_model_in_chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        stages = self.env["crm.stage"].action_load_standard_stages()
        zh_stages = stages.with_context(lang="zh_CN")
        self.assertEqual(
            zh_stages.mapped("name"),
            ["A 了解商机", "B 确认商机", "C 方案论证", "D 商务谈判", "E 销售成交", "F 交接回款"],
        )
        self.assertEqual(zh_stages[2].criterion_ids.mapped("name"), ["已提交方案", "客户认可方案"])
        self.assertEqual(stages[2].name, "C Solution", "English stays the source text")

    def test_chinese_installed_after_loading_translates_the_standard_stages(self):
        stages = self.env["crm.stage"].action_load_standard_stages()
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"].search(
            [("name", "=", "opportunity_registration")]
        )._update_translations(["zh_CN"])
        self.env.invalidate_all()
        self.assertEqual(stages[0].with_context(lang="zh_CN").name, "A 了解商机")
        self.assertEqual(
            stages[0].with_context(lang="zh_CN").criterion_ids.mapped("name"),
            ["已识别客户需求", "已知联系人"],
        )

    @users("opreg_stage_rep")
    def test_load_standard_stage_model_is_for_managers(self):
        with self.assertRaises(AccessError):
            self.env["crm.stage"].action_load_standard_stages()


@tagged("post_install", "-at_install", "opportunity_registration", "stage_control")
class TestProbabilitySource(StageControlCase):
    def _set_mode(self, mode, locked=False):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("opportunity_registration.probability_source", mode)
        params.set_param("opportunity_registration.probability_locked", locked)

    def test_default_is_predictive(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.stage_probability_source, "predictive")
        lead = self._new_leads(1)
        lead.write({"stage_id": self.stage_3.id})
        self.assertEqual(
            lead.probability, lead.automated_probability, "predictive scoring keeps the probability"
        )
        self.assertNotEqual(lead.probability, 50.0)

    @users("opreg_stage_rep")
    def test_stage_probability(self):
        self._set_mode("stage")
        lead = self._new_leads(1)
        self.assertEqual(lead.probability, 10.0, "created in S1 (10%)")
        lead.write({"stage_id": self.stage_3.id})
        self.assertEqual(lead.probability, 50.0)
        with Form(lead) as form:
            form.probability = 60.0  # the rep may adjust it
        self.assertEqual(lead.probability, 60.0)
        lead.write({"stage_id": self.stage_4.id})
        self.assertEqual(lead.probability, 75.0, "entering a stage sets its probability")
        lead.write({"stage_id": self.stage_5.id})
        self.assertEqual((lead.probability, lead.won_status), (100.0, "won"))

    @users("opreg_stage_rep")
    def test_locked_stage_probability(self):
        self._set_mode("stage", locked=True)
        lead = self._new_leads(1, stage=self.stage_2)
        self.assertEqual(lead.probability, 25.0)
        self.assertTrue(lead.stage_probability_locked)
        with self.assertRaises(UserError) as refusal:
            lead.write({"probability": 60.0})
        self.assertIn("follows its stage (25.0%)", str(refusal.exception))
        lead.write({"stage_id": self.stage_3.id})
        self.assertEqual(lead.probability, 50.0)
        lead.action_set_lost()  # probability 0 stays possible
        self.assertEqual(lead.won_status, "lost")
        # a sales administrator may change it
        lead_as_manager = lead.with_user(self.user_manager)
        self.assertFalse(lead_as_manager.stage_probability_locked)
        lead_as_manager.action_unarchive()
        lead_as_manager.write({"probability": 65.0})
        self.assertEqual(lead.probability, 65.0)
