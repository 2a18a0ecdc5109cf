from odoo.tests import tagged, users

from .common_stage import StageControlCase


@tagged("post_install", "-at_install", "opportunity_registration", "stage_control")
class TestStageScreens(StageControlCase):
    @users("opreg_stage_rep")
    def test_rep_screens_load(self):
        Lead = self.env["crm.lead"]
        Criterion = self.env["crm.stage.criterion"].sudo()
        Criterion.search([]).unlink()
        form = Lead.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertNotIn("stage_criterion_done_ids", form, "no criteria: no checkboxes to read")
        Criterion.create({"stage_id": self.stage_1.id, "name": "Need confirmed"})
        views = Lead.get_views([(False, "form"), (False, "kanban"), (False, "search")])["views"]
        self.assertIn("stage_criterion_done_ids", views["form"]["arch"])
        self.assertIn("stage_overdue", views["kanban"]["arch"])
        self.assertIn('name="stage_overdue"', views["search"]["arch"])
        lead = self._new_leads(1)
        action = lead.action_open_stage_history()
        self.assertEqual(action["domain"], [("lead_id", "=", lead.id)])
        self.assertEqual(
            self.env[action["res_model"]].search(action["domain"]).stage_id, self.stage_1
        )
        # the funnel screen, opened from its menu (server action)
        server_action = self.env.ref("opportunity_registration.crm_stage_funnel_action").sudo()
        result = server_action.with_user(self.env.user).run()
        funnel = self.env["crm.stage.funnel"].browse(result["res_id"])
        self.assertIn(self.stage_1, funnel.line_ids.stage_id)
        analysis = self.env["crm.stage.funnel.analysis"]
        analysis.get_views([(False, "pivot"), (False, "graph"), (False, "search")])
        self.assertTrue(analysis.search([("lead_id", "=", lead.id)]))

    @users("opreg_stage_manager")
    def test_manager_screens_load(self):
        Stage = self.env["crm.stage"]
        views = Stage.get_views([(False, "form"), (False, "list")])["views"]
        self.assertIn("criterion_ids", views["form"]["arch"])
        self.assertIn("action_load_standard_stages_button", views["list"]["arch"])
        admin = self.env.ref("base.user_admin")
        settings = self.env["res.config.settings"].with_user(admin).create({})
        self.assertIn(
            "stage_probability_source",
            settings.get_views([(False, "form")])["views"]["form"]["arch"],
        )
        action = settings.action_load_standard_stages()
        self.assertEqual(action["res_model"], "crm.stage")
        self.assertEqual(Stage.search_count([("standard_code", "!=", False)]), 6)
        settings.write({"stage_probability_source": "stage", "stage_gate_allow_skip": False})
        settings.execute()
        self.assertEqual(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("opportunity_registration.probability_source"),
            "stage",
        )
        self.assertFalse(self.env.company.stage_gate_allow_skip)
