from datetime import date

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged, users

from .common_forecast import ForecastCase


@tagged("post_install", "-at_install")
class TestForecastMetrics(ForecastCase):
    """Every metric of March 2026 against the dataset of ForecastCase, by hand."""

    def test_company_metrics_march(self):
        m = self.Metrics.get_metrics("2026-03-01")
        # Weighted pipeline: open, expected to close in March:
        # P1 100,000 × 40% + P2 50,000 × 20% + O2 30,000 × 50% = 40,000 + 10,000 + 15,000.
        self.assertEqual(m["pipeline_amount"], 65000)
        self.assertEqual(m["pipeline_count"], 3)
        # Created January–March, expected to close by April 30 (won, lost and open):
        # P1 100,000 + P2 50,000 + W2 80,000 + W3 20,000 + W4 60,000 + L1 40,000 = 350,000 (6).
        # O2, P3, W1, L2 were created before January; O3 closes in May.
        self.assertEqual(m["cohort_amount"], 350000)
        self.assertEqual(m["cohort_count"], 6)
        # Fresh (still in progress): P1 + P2 = 150,000 (2).
        self.assertEqual(m["fresh_amount"], 150000)
        self.assertEqual(m["fresh_count"], 2)
        # Converted: W2 + W3 + W4 = 160,000 (3) → 160,000 / 350,000 and 3 / 6.
        self.assertAlmostEqual(m["conversion_rate_amount"], 160000 / 350000)
        self.assertEqual(m["conversion_rate_count"], 0.5)
        # Won in March: W4, 60,000.
        self.assertEqual(m["won_count"], 1)
        self.assertEqual(m["won_amount"], 60000)
        # Achievement: deals won in February (W2 80,000 + W3 20,000 = 100,000) earned
        # in March 50,000 + 5,000 EUR at March 1st's rate (× 2 = 10,000) = 60,000 → 60%.
        self.assertEqual(m["previous_won_amount"], 100000)
        self.assertEqual(m["win_contribution"], 60000)
        self.assertAlmostEqual(m["achievement_rate"], 0.6)
        # Actual new-signing revenue of March: revenue dated in March of the deals won
        # in February or March: 50,000 + 10,000 + W4's 25,000.
        self.assertEqual(m["actual_revenue"], 85000)
        self.assertEqual(m["actual_count"], 1)

    def test_forecast_formulas_worked_example(self):
        m = self.Metrics.get_metrics("2026-03-01")
        # 有效商机承诺金额: valid, active, expected to close in March, open or won in March:
        # P1 100,000 + O2 30,000 + W4 60,000 = 190,000 (3). P2 has no key person, L1 is lost.
        self.assertEqual(m["committed_amount"], 190000)
        self.assertEqual(m["committed_count"], 3)
        # 上月有效商机承诺金额转化率: valid opportunities expected to close in February:
        # P3 50,000 (open), W2 80,000 (won), W3 20,000 (won), L2 100,000 (lost)
        # → 100,000 / 250,000 = 40 %, and 2 / 4 = 50 % by count.
        self.assertAlmostEqual(m["valid_conversion_rate_amount"], 0.4)
        self.assertEqual(m["valid_conversion_rate_count"], 0.5)
        # 上月新签客户承诺金额达成率: W1 (won in January, 200,000) earned 150,000 in
        # February (its 30,000 of January does not count) → 75 %.
        self.assertAlmostEqual(m["last_achievement_rate"], 0.75)
        # 下月新签客户收入(预测) = 190,000 × 40 % × 75 % = 57,000.
        self.assertAlmostEqual(m["forecast_revenue"], 57000)
        # 下月新签客户数量(预测) = 3 × 50 % = 1.5.
        self.assertAlmostEqual(m["forecast_count"], 1.5)

    def test_metrics_by_salesperson(self):
        rows = {
            row["user_id"]: row for row in self.Metrics.get_metrics_by("2026-03-01", ["user_id"])
        }
        rep, rep2 = rows[self.rep.id], rows[self.rep2.id]
        # Rep A: committed P1 + O2 + W4 = 190,000; February's valid: P3 50,000 open,
        # W2 80,000 won → 80/130; W1 gives 75 % → 190,000 × 80/130 × 0.75 = 87,692.31.
        self.assertAlmostEqual(rep["forecast_revenue"], 190000 * 80000 / 130000 * 0.75)
        self.assertEqual(rep["pipeline_amount"], 55000)
        # Rep B won nothing in January: no achievement rate, no revenue forecast; his
        # committed count is 0 (P2 is not valid), so 0 × (1 of 2 won in February).
        self.assertIs(rep2["last_achievement_rate"], False)
        self.assertIs(rep2["forecast_revenue"], False)
        self.assertEqual(rep2["forecast_count"], 0)
        self.assertAlmostEqual(rep2["valid_conversion_rate_amount"], 20000 / 120000)
        # Team rows add up to the company.
        team = self.Metrics.get_metrics_by("2026-03-01", ["team_id"])
        self.assertEqual(len(team), 1)
        self.assertEqual(team[0]["team_id"], self.team.id)
        self.assertAlmostEqual(team[0]["forecast_revenue"], 57000)

    @users("opreg_rep")
    def test_rep_sees_own_opportunities_only(self):
        m = self.env["crm.forecast.metrics"].get_metrics("2026-03-01")
        # P1 40,000 + O2 15,000; P2 is Rep B's.
        self.assertEqual(m["pipeline_amount"], 55000)
        self.assertEqual(m["fresh_count"], 1)

    @users("opreg_manager")
    def test_one_team_and_one_rep(self):
        Metrics = self.env["crm.forecast.metrics"]
        self.assertAlmostEqual(
            Metrics.get_metrics("2026-03-01", team_id=self.team.id)["forecast_revenue"], 57000
        )
        self.assertEqual(
            Metrics.get_metrics("2026-03-01", user_id=self.rep2.id)["pipeline_amount"], 10000
        )

    def test_empty_month_not_enough_data(self):
        m = self.Metrics.get_metrics("2020-01-01")
        self.assertEqual(m["pipeline_amount"], 0)
        self.assertEqual(m["won_count"], 0)
        for rate in ("conversion_rate_amount", "achievement_rate", "valid_conversion_rate_amount"):
            self.assertIs(m[rate], False, rate)  # "not enough data", never None (XML-RPC)
        self.assertIs(m["forecast_revenue"], False)
        self.assertIs(m["forecast_count"], False)
        # January: W1 won but nothing was expected to close in December → no rates.
        january = self.Metrics.get_metrics(date(2026, 1, 15))
        self.assertEqual(january["won_amount"], 200000)
        self.assertIs(january["forecast_revenue"], False)

    def test_metric_queries_do_not_grow_with_groups(self):
        self.Metrics.get_metrics_by("2026-03-01", ["team_id", "user_id"])
        with self.assertExactQueryCount(6):
            self.Metrics.get_metrics_by("2026-03-01", ["team_id", "user_id"])
        with self.assertExactQueryCount(6):
            self.Metrics.get_metrics("2026-03-01")

    def test_bad_arguments(self):
        with self.assertRaises(UserError):
            self.Metrics.get_metrics("March")
        with self.assertRaises(UserError):
            self.Metrics.get_metrics("2026-13-01")
        with self.assertRaises(UserError):
            self.Metrics.get_metrics("9999-12-31")
        with self.assertRaises(UserError):
            self.Metrics.get_metrics(["2026-03-01"])
        with self.assertRaises(UserError):
            self.Metrics.get_metrics("2026-03-01", team_id="1; DROP TABLE crm_lead")
        with self.assertRaises(UserError):
            self.Metrics.get_metrics_by("2026-03-01", ["stage_id"])

    def test_drilldown_matches_numbers(self):
        action = self.Metrics.action_open_opportunities("committed", "2026-03-01")
        leads = self.env["crm.lead"].with_context(active_test=False).search(action["domain"])
        self.assertEqual(set(leads.mapped("name")), {"P1", "O2", "W4"})
        action = self.Metrics.action_open_opportunities("fresh", "2026-03-01", user_id=self.rep.id)
        self.assertEqual(self.env["crm.lead"].search(action["domain"]).mapped("name"), ["P1"])


@tagged("post_install", "-at_install")
class TestActualRevenue(ForecastCase):
    def test_converted_at_the_line_date(self):
        line = self.leads["W3"].revenue_ids
        # 5,000 foreign at March 1st's rate (0.5 per company unit) = 10,000, not April's 20,000.
        self.assertEqual(line.amount, 10000)
        line.date = "2026-04-02"
        self.assertEqual(line.amount, 20000)
        self.assertEqual(self.leads["W1"].actual_revenue, 180000)

    def test_new_opportunity_form(self):
        with Form(self.env["crm.lead"].with_context(default_type="opportunity")) as form:
            form.name = "Fresh deal"
            self.assertEqual(form.forecast_category, "pipeline")
        self.assertEqual(form.record.actual_revenue, 0)

    @users("opreg_manager")
    def test_refused_lines(self):
        Revenue = self.env["crm.lead.revenue"]
        won, open_lead = self.leads["W2"], self.leads["P1"]
        before = Revenue.search_count([])
        with self.assertRaises(ValidationError) as caught:
            Revenue.create({"lead_id": won.id, "date": "2026-03-01", "amount_currency": -1})
        self.assertIn("between 0 and", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            Revenue.create({"lead_id": won.id, "date": False, "amount_currency": 100})
        self.assertIn("needs the date", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            Revenue.create({"lead_id": open_lead.id, "date": "2026-03-01", "amount_currency": 100})
        self.assertIn("is not won", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            Revenue.create(
                {"lead_id": won.id, "date": "2026-03-01", "amount_currency": float("inf")}
            )
        self.assertIn("between 0 and", str(caught.exception))
        self.assertEqual(Revenue.search_count([]), before)

    @users("opreg_rep")
    def test_rep_cannot_enter_revenue(self):
        with self.assertRaises(AccessError):
            self.env["crm.lead.revenue"].create(
                {"lead_id": self.leads["W2"].id, "date": "2026-03-01", "amount_currency": 1}
            )
        # ... but reads the revenue of their own opportunities, not of others'.
        lines = self.env["crm.lead.revenue"].search([])
        self.assertEqual(set(lines.lead_id.mapped("name")), {"W1", "W2", "W4"})
