from odoo.tests import HttpCase, tagged

from .common_stage import StageControlCase


@tagged("post_install", "-at_install", "opportunity_registration", "stage_control")
class TestStageGateTour(HttpCase, StageControlCase):
    def test_stage_gate_tour(self):
        stage_1 = self.env["crm.stage"].create({"name": "Tour S1", "sequence": 0})
        stage_2 = self.env["crm.stage"].create({"name": "Tour S2", "sequence": 0})
        stage_1.criterion_ids = [
            (0, 0, {"name": "Tour need", "sequence": 1}),
            (0, 0, {"name": "Tour contact", "sequence": 2}),
        ]
        self.assertLess(stage_1._stage_key(), stage_2._stage_key())
        lead = self._new_leads(1, stage=stage_1)
        self.start_tour(
            "/odoo/action-crm.crm_lead_action_pipeline/%s" % lead.id,
            "opportunity_registration_stage_gate_tour",
            login="opreg_stage_rep",
        )
        self.assertEqual(lead.stage_id, stage_2)
        self.assertEqual(self._history(lead).stage_id, stage_1 | stage_2)

    def test_stage_override_tour(self):
        stage_1 = self.env["crm.stage"].create({"name": "Tour S1", "sequence": 0})
        stage_2 = self.env["crm.stage"].create({"name": "Tour S2", "sequence": 0})
        stage_1.criterion_ids = [(0, 0, {"name": "Tour need"})]
        lead = self._new_leads(1, stage=stage_1, user=self.user_manager)
        self.start_tour(
            "/odoo/action-crm.crm_lead_action_pipeline/%s" % lead.id,
            "opportunity_registration_stage_override_tour",
            login="opreg_stage_manager",
        )
        self.assertEqual(lead.stage_id, stage_2)
        self.assertEqual(
            self._history(lead)[-1].override_reason, "Signed off by the customer's CEO"
        )

    def test_manager_refused_by_a_gate_sees_a_titled_dialog_and_nothing_is_saved(self):
        stage_1 = self.env["crm.stage"].create({"name": "Tour S1", "sequence": 0})
        stage_2 = self.env["crm.stage"].create({"name": "Tour S2", "sequence": 0})
        stage_1.criterion_ids = [
            (0, 0, {"name": "Tour need", "sequence": 1}),
            (0, 0, {"name": "Tour contact", "sequence": 2}),
        ]
        self.assertLess(stage_1._stage_key(), stage_2._stage_key())
        lead = self._new_leads(1, stage=stage_1, user=self.user_manager)
        messages = lead.message_ids
        self.start_tour(
            "/odoo/action-crm.crm_lead_action_pipeline/%s" % lead.id,
            "opportunity_registration_stage_gate_manager_refused_tour",
            login="opreg_stage_manager",
        )
        lead.invalidate_recordset()
        self.assertEqual(lead.stage_id, stage_1)
        self.assertFalse(
            lead.stage_criterion_done_ids, "the criterion ticked with the refused move is not kept"
        )
        self.assertEqual(self._history(lead).stage_id, stage_1)
        self.assertEqual(lead.message_ids, messages, "nothing is logged")
