from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged, users
from odoo.tools import SQL

from .common_forecast import ForecastCase


@tagged("post_install", "-at_install")
class TestForecastSnapshot(ForecastCase):
    def _rows(self, month):
        return self.env["crm.forecast.snapshot"].search(
            [("month", "=", month), ("company_id", "=", self.company.id)]
        )

    @freeze_time("2026-04-10")
    def test_snapshot_actual_accuracy_cycle(self):
        Snapshot = self.env["crm.forecast.snapshot"]
        Snapshot._store_month("2026-03-01", self.company)
        rows = self._rows("2026-03-01")
        company = rows.filtered(lambda r: r.level == "company")
        team = rows.filtered(lambda r: r.level == "team" and r.team_id == self.team)
        rep = rows.filtered(lambda r: r.level == "user" and r.user_id == self.rep)
        rep2 = rows.filtered(lambda r: r.level == "user" and r.user_id == self.rep2)
        self.assertEqual((len(company), len(team), len(rep), len(rep2)), (1, 1, 1, 1))
        # 190,000 × 40 % × 75 % (see test_forecast_formulas_worked_example).
        self.assertAlmostEqual(company.forecast_revenue, 57000)
        self.assertAlmostEqual(team.forecast_revenue, 57000)
        self.assertAlmostEqual(company.forecast_count, 1.5)
        self.assertTrue(company.has_enough_data)
        # Rep B had no win in January: not enough data, shown as 0.
        self.assertFalse(rep2.has_enough_data)
        self.assertEqual(rep2.forecast_revenue, 0)
        # March has passed on April 10th: the actual is beside the forecast.
        # Actual 85,000; error 85,000 − 57,000 = 28,000; accuracy 1 − 28,000 / 85,000.
        self.assertTrue(company.actual_filled)
        self.assertEqual(company.actual_revenue, 85000)
        self.assertEqual(company.forecast_error, 28000)
        self.assertEqual(company.forecast_abs_error, 28000)
        self.assertAlmostEqual(company.accuracy, 1 - 28000 / 85000)
        # Rep A: 87,692.31 forecast, 50,000 + 25,000 actual → |75,000 − 87,692.31| = 12,692.31.
        self.assertEqual(rep.actual_revenue, 75000)
        self.assertAlmostEqual(rep.forecast_abs_error, 12692.31, places=2)
        # Rep B's accuracy is unknown without a forecast.
        self.assertEqual(rep2.actual_revenue, 10000)
        self.assertFalse(rep2.accuracy)

        # Re-running replaces the month, never duplicates it.
        count = len(rows)
        self.leads["P1"].expected_revenue = 200000
        Snapshot._store_month("2026-03-01", self.company)
        rows = self._rows("2026-03-01")
        self.assertEqual(len(rows), count)
        company = rows.filtered(lambda r: r.level == "company")
        # (200,000 + 30,000 + 60,000) × 40 % × 75 % = 87,000.
        self.assertAlmostEqual(company.forecast_revenue, 87000)

    @freeze_time("2026-03-02")
    def test_current_month_has_no_actual_yet(self):
        self.env["crm.forecast.snapshot"]._cron_store_forecasts()
        rows = self._rows("2026-03-01")
        self.assertTrue(rows)
        self.assertFalse(any(rows.mapped("actual_filled")))

    @freeze_time("2026-04-10")
    @users("opreg_manager")
    def test_manager_button(self):
        Snapshot = self.env["crm.forecast.snapshot"]
        Snapshot.sudo()._store_month("2026-03-01", self.company)
        Snapshot.action_compute_forecasts()
        months = set(Snapshot.search([]).mapped("month"))
        self.assertTrue({"2026-03-01", "2026-04-01", "2026-05-01"} <= {str(m) for m in months})
        company_row = Snapshot.search([("month", "=", "2026-03-01"), ("level", "=", "company")])
        self.assertTrue(company_row.actual_filled)

    @users("opreg_rep")
    def test_rep_cannot_store_and_reads_own_rows(self):
        with self.assertRaises(AccessError):
            self.env["crm.forecast.snapshot"].action_compute_forecasts()
        self.env["crm.forecast.snapshot"].sudo()._store_month("2026-03-01", self.company)
        rows = self.env["crm.forecast.snapshot"].search([])
        self.assertEqual(rows.user_id, self.rep)
        with self.assertRaises(AccessError):
            rows.write({"forecast_revenue": 1})


@tagged("post_install", "-at_install")
class TestForecastCategory(ForecastCase):
    def test_category_from_stage_outcome_and_override(self):
        leads = self.leads
        self.assertEqual(self.stage_open.forecast_category, "pipeline")
        self.assertEqual(self.stage_won.forecast_category, "closed")
        self.assertEqual(leads["P1"].forecast_category, "pipeline")
        self.assertEqual(leads["W1"].forecast_category, "closed")
        self.assertEqual(leads["L1"].forecast_category, "omitted")
        self.stage_open.forecast_category = "best_case"
        self.assertEqual(leads["P1"].forecast_category, "best_case")
        leads["P1"].with_user(self.rep).forecast_category_override = "commit"
        self.assertEqual(leads["P1"].forecast_category, "commit")
        # A stock Forecast-report style group-by works on it.
        groups = dict(
            self.env["crm.lead"]._read_group(
                [("id", "in", [leads["P1"].id, leads["O2"].id, leads["W1"].id])],
                ["forecast_category"],
                ["prorated_revenue:sum"],
            )
        )
        self.assertEqual(groups, {"commit": 40000, "best_case": 15000, "closed": 200000})

    def test_stage_category_reaches_its_opportunities_in_one_statement(self):
        leads = self.leads
        leads["O2"].forecast_category_override = "commit"
        self.env.flush_all()
        # The stage's own write, then one UPDATE of its open opportunities,
        # whatever their number (P1, P2, O3, P3 here).
        with self.assertQueryCount(4):
            self.stage_open.forecast_category = "best_case"
            self.env.flush_all()
        self.assertEqual(leads["P1"].forecast_category, "best_case")
        self.assertEqual(leads["O2"].forecast_category, "commit")
        self.assertEqual(leads["W1"].forecast_category, "closed")
        self.assertEqual(leads["L1"].forecast_category, "omitted")
        self.assertEqual(
            self.env["crm.lead"].search_count([("forecast_category", "=", "best_case")]),
            self.env["crm.lead"].search_count(
                [
                    ("stage_id", "=", self.stage_open.id),
                    ("won_status", "=", "pending"),
                    ("forecast_category_override", "=", False),
                ]
            ),
        )

    def test_existing_opportunities_filled_by_the_scheduled_action(self):
        leads = self.leads
        leads["O2"].forecast_category_override = "commit"
        self.env.flush_all()
        # As right after installing on a database with these opportunities.
        self.env.cr.execute(
            SQL(
                "UPDATE crm_lead SET forecast_category = NULL WHERE id IN %s",
                tuple(lead.id for lead in leads.values()),
            )
        )
        self.env["ir.config_parameter"].set_param(
            "opportunity_registration.forecast_category_backfill_below",
            max(lead.id for lead in leads.values()) + 1,
        )
        self.env.invalidate_all()
        # Each id range is committed by the cron; here the test's transaction stays open.
        with patch.object(
            self.registry["ir.cron"], "_commit_progress", lambda cron, *args, **kwargs: 1.0
        ):
            self.assertEqual(self.env["crm.lead"]._cron_backfill_forecast_category(batch_size=3), 0)
        self.assertEqual(
            {
                name: lead.forecast_category
                for name, lead in leads.items()
                if name in ("P1", "O2", "W1", "L1")
            },
            {"P1": "pipeline", "O2": "commit", "W1": "closed", "L1": "omitted"},
        )

    def test_locked_categories(self):
        self.env["ir.config_parameter"].set_param(
            "opportunity_registration.forecast_category_locked", "True"
        )
        lead = self.leads["P1"].with_user(self.rep)
        self.assertTrue(lead.forecast_category_locked)
        with self.assertRaises(UserError):
            lead.forecast_category_override = "commit"
        with self.assertRaises(UserError):
            self.env["crm.lead"].with_user(self.rep).create(
                {"name": "X", "forecast_category_override": "commit"}
            )
        manager_lead = self.leads["P1"].with_user(self.manager)
        self.assertFalse(manager_lead.forecast_category_locked)
        manager_lead.forecast_category_override = "commit"
        self.assertEqual(lead.forecast_category, "commit")
