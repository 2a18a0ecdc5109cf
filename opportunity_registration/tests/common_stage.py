from datetime import datetime, timedelta

from odoo.tests import TransactionCase

from .common import new_user


class StageControlCase(TransactionCase):
    """Five stages of our own (far after crm's), a team, a rep and a manager."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.user_rep = new_user(cls.env, "opreg_stage_rep", "Stage Rep", "rep")
        cls.user_rep2 = new_user(cls.env, "opreg_stage_rep2", "Stage Rep 2", "rep")
        cls.user_manager = new_user(cls.env, "opreg_stage_manager", "Stage Manager", "manager")
        cls.team = cls.env["crm.team"].create({"name": "Stage Team"})
        cls.team2 = cls.env["crm.team"].create({"name": "Stage Team 2"})
        Stage = cls.env["crm.stage"]
        cls.stage_1 = Stage.create(
            {
                "name": "S1 Understand",
                "sequence": 1001,
                "win_probability": 10,
                "target_win_rate": 10,
            }
        )
        cls.stage_2 = Stage.create(
            {
                "name": "S2 Confirm",
                "sequence": 1002,
                "win_probability": 25,
                "target_win_rate": 25,
                "planned_duration": 10,
            }
        )
        cls.stage_3 = Stage.create(
            {
                "name": "S3 Solution",
                "sequence": 1003,
                "win_probability": 50,
                "target_win_rate": 50,
                "planned_duration": 5,
            }
        )
        cls.stage_4 = Stage.create(
            {
                "name": "S4 Negotiation",
                "sequence": 1004,
                "win_probability": 75,
            }
        )
        cls.stage_5 = Stage.create(
            {
                "name": "S5 Won",
                "sequence": 1005,
                "win_probability": 100,
                "is_won": True,
            }
        )
        cls.stages = cls.stage_1 | cls.stage_2 | cls.stage_3 | cls.stage_4 | cls.stage_5
        cls.History = cls.env["crm.lead.stage.history"]

    def _new_leads(self, count, stage=None, user=None, team=None, **vals):
        user = user or self.user_rep
        return self.env["crm.lead"].create(
            [
                {
                    "name": "Opportunity %s" % index,
                    "type": "opportunity",
                    "user_id": user.id,
                    "team_id": (team or self.team).id,
                    "stage_id": (stage or self.stage_1).id,
                    **vals,
                }
                for index in range(count)
            ]
        )

    def _history(self, leads):
        return self.History.sudo().search(
            [("lead_id", "in", leads.ids)], order="lead_id, date_in, id"
        )

    @staticmethod
    def _day(days):
        return datetime(2026, 1, 1) + timedelta(days=days)

    def _track(self, lead, moves):
        """Stage tracking messages as stock crm leaves them: ``moves`` are
        ``(day, old stage, new stage)``. Returns the messages."""
        field = self.env["ir.model.fields"]._get("crm.lead", "stage_id")
        return self.env["mail.message"].create(
            [
                {
                    "model": "crm.lead",
                    "res_id": lead.id,
                    "date": self._day(day),
                    "message_type": "notification",
                    "tracking_value_ids": [
                        (
                            0,
                            0,
                            {
                                "field_id": field.id,
                                "old_value_integer": old.id,
                                "old_value_char": old.name,
                                "new_value_integer": new.id,
                                "new_value_char": new.name,
                            },
                        )
                    ],
                }
                for day, old, new in moves
            ]
        )
