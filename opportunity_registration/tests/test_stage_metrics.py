from datetime import date

from odoo.fields import Domain
from odoo.tests import tagged, users

from .common_stage import StageControlCase


@tagged("post_install", "-at_install", "opportunity_registration", "stage_control")
class TestStageMetrics(StageControlCase):
    """Metrics on a hand-built history; expected values computed by hand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        S1, S2, S3, S4 = cls.stage_1, cls.stage_2, cls.stage_3, cls.stage_5  # S4 = won
        cls.won_stage = S4
        leads = cls.env["crm.lead"].create(
            [
                {
                    "name": "Metric %s" % name,
                    "type": "opportunity",
                    "stage_id": S1.id,
                    "user_id": (cls.user_rep2 if name == "L6" else cls.user_rep).id,
                    "team_id": (cls.team2 if name == "L6" else cls.team).id,
                }
                for name in ("L1", "L2", "L3", "L4", "L5", "L6")
            ]
        )
        cls.L1, cls.L2, cls.L3, cls.L4, cls.L5, cls.L6 = leads
        cls.env["crm.lead.stage.history"].search([("lead_id", "in", leads.ids)]).unlink()
        # current states of the leads
        cls.L1.write({"stage_id": S4.id})  # won
        cls.L2.write({"stage_id": S2.id})
        cls.L5.write({"stage_id": S3.id})
        cls.L6.write({"stage_id": S2.id})
        cls.L3.action_set_lost()  # lost, in S1
        cls.env["crm.lead.stage.history"].search([("lead_id", "in", leads.ids)]).unlink()
        # (lead, stage, day in, day out or None, passed, first entry)
        stays = [
            (cls.L1, S1, 0, 2, True, True),
            (cls.L1, S2, 2, 5, True, True),
            (cls.L1, S3, 5, 15, True, True),
            (cls.L1, S4, 15, None, False, True),
            (cls.L2, S1, 0, 4, True, True),
            (cls.L2, S2, 4, None, False, True),
            (cls.L3, S1, 0, 1, True, True),
            (cls.L3, S2, 1, 3, False, True),
            (cls.L3, S1, 3, None, False, False),
            (cls.L4, S1, 0, None, False, True),
            (cls.L5, S1, 0, 6, True, True),
            (cls.L5, S3, 6, None, False, True),
            (cls.L6, S1, 30, 33, True, True),
            (cls.L6, S2, 33, None, False, True),
        ]
        cls.env["crm.lead.stage.history"].create(
            [
                {
                    "lead_id": lead.id,
                    "stage_id": stage.id,
                    "date_in": cls._day(day_in),
                    "date_out": cls._day(day_out) if day_out is not None else False,
                    "days_in_stage": (day_out - day_in) if day_out is not None else False,
                    "is_passed": passed,
                    "is_first_entry": first,
                    "stage_passed": passed and first,
                    "team_id": lead.team_id.id,
                    "salesperson_id": lead.user_id.id,
                    "company_id": lead.company_id.id,
                }
                for lead, stage, day_in, day_out, passed, first in stays
            ]
        )
        cls.env["crm.lead.stage.history"]._sync_lead_status(leads)
        cls.now = cls._day(20)
        cls.team1_domain = Domain("team_id", "=", cls.team.id)

    def test_metrics_per_stage(self):
        metrics = self.History._get_stage_metrics(self.team1_domain, now=self.now)
        S1, S2, S3, S4 = self.stage_1.id, self.stage_2.id, self.stage_3.id, self.won_stage.id
        self.assertEqual(set(metrics), {S1, S2, S3, S4})
        # S1: L1..L5 entered (L3 twice, counted once); L1, L2, L3, L5 moved on;
        # L1 won; finished stays 2, 4, 1, 6 days; no planned duration.
        self.assertEqual(
            metrics[S1],
            {
                "entered": 5,
                "passed": 4,
                "pass_rate": 80.0,
                "won": 1,
                "win_rate": 20.0,
                "target_win_rate": 10.0,
                "avg_days": 3.25,
                "median_days": 3.0,
                "overdue": 0,
            },
        )
        # S2: L1, L2, L3; only L1 moved on (L3 went back); stays 3 and 2 days;
        # L2 in S2 since day 4 = 16 days > 10 planned: overdue.
        self.assertEqual(
            metrics[S2],
            {
                "entered": 3,
                "passed": 1,
                "pass_rate": 33.3,
                "won": 1,
                "win_rate": 33.3,
                "target_win_rate": 25.0,
                "avg_days": 2.5,
                "median_days": 2.5,
                "overdue": 1,
            },
        )
        # S3: L1 (10 days, moved on, won), L5 (skipped S2, since day 6 = 14 days > 5).
        self.assertEqual(
            metrics[S3],
            {
                "entered": 2,
                "passed": 1,
                "pass_rate": 50.0,
                "won": 1,
                "win_rate": 50.0,
                "target_win_rate": 50.0,
                "avg_days": 10.0,
                "median_days": 10.0,
                "overdue": 1,
            },
        )
        # won stage: L1 only, no finished stay, a won opportunity is never overdue.
        self.assertEqual(
            metrics[S4],
            {
                "entered": 1,
                "passed": 0,
                "pass_rate": 0.0,
                "won": 1,
                "win_rate": 100.0,
                "target_win_rate": 100.0,
                "avg_days": 0.0,
                "median_days": 0.0,
                "overdue": 0,
            },
        )

    def test_metrics_per_team_rep_and_period(self):
        History = self.History
        S1, S2 = self.stage_1.id, self.stage_2.id
        everyone = History._get_stage_metrics(
            Domain("team_id", "in", (self.team | self.team2).ids), now=self.now
        )
        self.assertEqual((everyone[S1]["entered"], everyone[S1]["passed"]), (6, 5))
        self.assertEqual(everyone[S1]["pass_rate"], 83.3)
        # L6 in S2 since day 33: not overdue on day 20+... on day 50 it is (17 > 10)
        self.assertEqual(everyone[S2]["overdue"], 1)
        late = History._get_stage_metrics(
            Domain("team_id", "in", (self.team | self.team2).ids), now=self._day(50)
        )
        self.assertEqual(late[S2]["overdue"], 2)
        rep2 = History._get_stage_metrics(
            Domain("salesperson_id", "=", self.user_rep2.id), now=self.now
        )
        self.assertEqual(set(rep2), {S1, S2})
        self.assertEqual(rep2[S1]["entered"], 1)
        self.assertEqual(rep2[S1]["avg_days"], 3.0)
        # period: entered between day 2 and day 10 (team 1): L1 in S2 and S3,
        # L2 in S2, L5 in S3; L3 came back to S1 on day 3, which is a return,
        # not an entry (its stay still counts for the days in stage)
        period = History._get_stage_metrics(
            self.team1_domain
            & Domain("date_in", ">=", self._day(2))
            & Domain("date_in", "<", self._day(10)),
            now=self.now,
        )
        self.assertEqual(
            {k: v["entered"] for k, v in period.items()}, {S1: 0, S2: 2, self.stage_3.id: 2}
        )
        self.assertEqual(period[S2]["avg_days"], 3.0, "L1 3 days, L2 still there")

    @users("opreg_stage_rep2")
    def test_metrics_follow_record_rules(self):
        """A rep measures only the opportunities they may see."""
        metrics = self.env["crm.lead.stage.history"]._get_stage_metrics(now=self.now)
        self.assertEqual(set(metrics), {self.stage_1.id, self.stage_2.id})
        self.assertEqual(metrics[self.stage_1.id]["entered"], 1)

    def test_funnel_table_and_analysis(self):
        funnel = self.History._get_funnel(self.team1_domain, now=self.now)
        self.assertEqual(
            [(row["stage_id"], row["entered"], row["conversion_rate"]) for row in funnel],
            [
                (self.stage_1.id, 5, 100.0),
                (self.stage_2.id, 3, 60.0),
                (self.stage_3.id, 2, 66.7),
                (self.won_stage.id, 1, 50.0),
            ],
        )
        groups = self.env["crm.stage.funnel.analysis"]._read_group(
            [("team_id", "=", self.team.id)],
            ["stage_id"],
            ["entered_count:sum", "passed_count:sum", "won_count:sum"],
        )
        by_stage = {stage.id: rest for stage, *rest in groups}
        self.assertEqual(by_stage[self.stage_1.id], [5, 4, 1])
        self.assertEqual(by_stage[self.stage_2.id], [3, 1, 1])

    def test_overdue_filter_and_card(self):
        Lead = self.env["crm.lead"]
        self.env.cr.execute(
            "UPDATE crm_lead SET date_last_stage_update = now() at time zone 'UTC' - interval '11 days'"
            " WHERE id IN %s",
            (tuple((self.L1 | self.L2 | self.L4 | self.L6).ids),),
        )
        self.env.cr.execute(
            "UPDATE crm_lead SET date_last_stage_update = now() at time zone 'UTC' - interval '4 days'"
            " WHERE id = %s",
            (self.L5.id,),
        )
        Lead.invalidate_model(["date_last_stage_update"])
        # L2, L6: 11 days in S2 (planned 10); L5: 4 days in S3 (planned 5);
        # L1 won, L4 in S1 without planned duration.
        mine = self.L1 | self.L2 | self.L4 | self.L5 | self.L6
        overdue = Lead.search([("stage_overdue", "=", True), ("id", "in", mine.ids)])
        self.assertEqual(overdue, self.L2 | self.L6)
        self.assertTrue(self.L2.stage_overdue)
        self.assertFalse(self.L5.stage_overdue)
        not_overdue = Lead.search(
            [("stage_overdue", "=", False), ("id", "in", (self.L1 | self.L2 | self.L5).ids)]
        )
        self.assertEqual(not_overdue, self.L1 | self.L5)

    def test_funnel_screen_filters(self):
        funnel = self.env["crm.stage.funnel"].create(
            {
                "team_id": self.team.id,
                "date_from": date(2026, 1, 3),
                "date_to": date(2026, 1, 6),
            }
        )
        funnel.action_compute()
        # Jan 3 to Jan 6 = days 2 to 5: L1 entered S2 (day 2) and S3 (day 5),
        # L2 entered S2 (day 4); L3's return to S1 (day 3) is no entry and
        # L5 entered S3 on day 6
        self.assertEqual(
            {line.stage_id: line.entered for line in funnel.line_ids},
            {self.stage_2: 2, self.stage_3: 1},
        )
        funnel.write(
            {"team_id": False, "date_from": False, "date_to": False, "user_id": self.user_rep2.id}
        )
        funnel.action_compute()
        self.assertEqual(funnel.line_ids.mapped("entered"), [1, 1])
        self.assertEqual(funnel.line_ids.mapped("conversion_rate"), [100.0, 100.0])

    def test_analysis_rates(self):
        groups = self.env["crm.stage.funnel.analysis"]._read_group(
            [("team_id", "=", self.team.id)],
            ["stage_id"],
            ["pass_rate:avg", "win_rate:avg", "days_in_stage:avg"],
        )
        by_stage = {stage: rest for stage, *rest in groups}
        self.assertEqual(by_stage[self.stage_1], [80.0, 20.0, 3.25])
        self.assertEqual([round(v, 1) for v in by_stage[self.stage_2]], [33.3, 33.3, 2.5])


@tagged("post_install", "-at_install", "opportunity_registration", "stage_control")
class TestSpecFunnel(StageControlCase):
    def test_spec_funnel_example(self):
        """100 / 80 / 60 / 40 / 20 opportunities per stage give pass
        rates 100 / 80 / 75 / 66.7 / 50 %, measured from real stage moves."""
        leads = self._new_leads(100)
        leads[:80].write({"stage_id": self.stage_2.id})
        leads[:60].write({"stage_id": self.stage_3.id})
        leads[:40].write({"stage_id": self.stage_4.id})
        leads[:20].write({"stage_id": self.stage_5.id})
        funnel_screen = self.env["crm.stage.funnel"].create({"team_id": self.team.id})
        funnel_screen.action_compute()
        lines = funnel_screen.line_ids
        self.assertEqual(lines.stage_id, self.stages)
        self.assertEqual(lines.mapped("entered"), [100, 80, 60, 40, 20])
        self.assertEqual(lines.mapped("conversion_rate"), [100.0, 80.0, 75.0, 66.7, 50.0])
        self.assertEqual(lines.mapped("passed"), [80, 60, 40, 20, 0])
        self.assertEqual(lines.mapped("pass_rate"), [80.0, 75.0, 66.7, 50.0, 0.0])
        self.assertEqual(lines.mapped("won"), [20, 20, 20, 20, 20])
        self.assertEqual(lines.mapped("win_rate"), [20.0, 25.0, 33.3, 50.0, 100.0])
        self.assertEqual(lines.mapped("target_win_rate"), [10.0, 25.0, 50.0, 75.0, 100.0])
