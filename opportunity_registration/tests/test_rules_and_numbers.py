"""Issue 20, round 2: numbers follow rights, bad input over RPC, multi-company
rules on every model, revenue lines behind their opportunity, system dates,
and a conflict re-check that fails closed (SPEC §9 invariants 1, 4, 5, 9).

Each finding is tested as a class: every metrics entry point against every
kind of caller, every model of the module against a rep of another company,
every system date against a rep and a manager.
"""

import xmlrpc.client
from datetime import timedelta
from unittest.mock import patch

import psycopg2

from odoo import Command, fields
from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException

from ..models.crm_lead_commission import SYSTEM_DATES
from ..models.crm_lead_registration_lock import CrmLeadRegistration
from .common import RegistrationCase
from .common_channel import ChannelCase
from .common_forecast import ForecastCase

MARCH = "2026-03-01"
RATES = (
    "conversion_rate_amount",
    "conversion_rate_count",
    "achievement_rate",
    "valid_conversion_rate_amount",
    "valid_conversion_rate_count",
    "last_achievement_rate",
    "forecast_revenue",
    "forecast_count",
)


class PeopleCase(ForecastCase):
    """ForecastCase's team East (leader: approver, all documents; members rep
    and rep2) plus: West, led by an own-documents leader, with rep2 as member;
    an all-documents rep of East who leads nothing; a rep of another company.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # rep2 belongs to East and West at once
        cls.env["ir.config_parameter"].set_param("sales_team.membership_multi", True)
        cls.west_leader = mail_new_test_user(
            cls.env,
            login="opreg_numbers_west_leader",
            name="Leader Qian",
            groups="sales_team.group_sale_salesman",
            tz="UTC",
        )
        cls.west = cls.env["crm.team"].create(
            {
                "name": "West",
                "user_id": cls.west_leader.id,
                "member_ids": [(6, 0, cls.rep2.ids)],
            }
        )
        cls.all_docs_rep = mail_new_test_user(
            cls.env,
            login="opreg_numbers_all_docs",
            name="Rep Sun (all documents)",
            groups="sales_team.group_sale_salesman_all_leads",
            tz="UTC",
        )
        cls.team.member_ids = [Command.link(cls.all_docs_rep.id)]
        cls.company_b = cls.env["res.company"].create({"name": "Numbers Company B"})
        cls.rep_b = mail_new_test_user(
            cls.env,
            login="opreg_numbers_rep_b",
            name="Rep of Company B",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
            tz="UTC",
        )


@tagged("post_install", "-at_install", "opportunity_registration")
class TestNumbersFollowRights(PeopleCase):
    """A rep's KPIs and forecasts are seen by that rep and their managers only
    (SPEC §9.9): every metrics entry point × (own, other rep, all-documents
    rep, team leader of the rep, manager, rep of another company)."""

    # rep2's numbers in March: P2 50,000 × 20 % open in March.
    REP2_PIPELINE = 10000

    def _metrics(self, user):
        return self.env["crm.forecast.metrics"].with_user(user)

    def _sees_rep2(self, user):
        """Whether ``user`` may read rep2's numbers, through each entry point."""
        return user in (self.rep2, self.approver, self.west_leader, self.manager)

    def test_get_metrics_of_a_rep(self):
        for user in (
            self.rep2,
            self.rep,
            self.all_docs_rep,
            self.approver,
            self.west_leader,
            self.manager,
            self.rep_b,
        ):
            with self.subTest(user=user.name):
                metrics = self._metrics(user)
                if self._sees_rep2(user):
                    values = metrics.get_metrics(MARCH, user_id=self.rep2.id)
                    self.assertEqual(values["pipeline_amount"], self.REP2_PIPELINE)
                    action = metrics.action_open_opportunities("fresh", MARCH, user_id=self.rep2.id)
                    self.assertIn(("user_id", "in", [self.rep2.id]), action["domain"])
                else:
                    with self.assertRaises(AccessError) as refusal:
                        metrics.get_metrics(MARCH, user_id=self.rep2.id)
                    # the refusal says whose numbers the caller may see
                    self.assertIn(user.name, str(refusal.exception))
                    with self.assertRaises(AccessError):
                        metrics.action_open_opportunities("fresh", MARCH, user_id=self.rep2.id)

    def test_get_metrics_of_a_team(self):
        allowed = {self.approver, self.manager}
        for user in (self.rep, self.rep2, self.all_docs_rep, self.west_leader, self.rep_b):
            with self.subTest(user=user.name), self.assertRaises(AccessError):
                self._metrics(user).get_metrics(MARCH, team_id=self.team.id)
        for user in allowed:
            values = self._metrics(user).get_metrics(MARCH, team_id=self.team.id)
            self.assertEqual(values["pipeline_amount"], 65000, user.name)
        # a rep narrows their own numbers to a team: that is still theirs
        own = self._metrics(self.rep2).get_metrics(
            MARCH, team_id=self.team.id, user_id=self.rep2.id
        )
        self.assertEqual(own["pipeline_amount"], self.REP2_PIPELINE)

    def test_company_view_and_groups_hold_only_what_the_caller_may_see(self):
        expected_users = {
            self.rep: {self.rep},
            self.rep2: {self.rep2},
            self.all_docs_rep: set(),
            self.west_leader: {self.rep2},
            self.approver: {self.rep, self.rep2},
            self.manager: {self.rep, self.rep2},
            self.rep_b: set(),
        }
        company_pipeline = {self.rep: 55000, self.rep2: self.REP2_PIPELINE}
        for user, users in expected_users.items():
            with self.subTest(user=user.name):
                metrics = self._metrics(user)
                rows = metrics.get_metrics_by(MARCH, ["user_id"])
                self.assertEqual({row["user_id"] for row in rows}, {u.id for u in users})
                for groupby in (["team_id"], ["team_id", "user_id"], []):
                    total = sum(
                        row["pipeline_amount"] for row in metrics.get_metrics_by(MARCH, groupby)
                    )
                    self.assertEqual(total, sum(company_pipeline.get(u, 0) for u in users))
                self.assertEqual(
                    metrics.get_metrics(MARCH)["pipeline_amount"],
                    sum(company_pipeline.get(u, 0) for u in users),
                )

    def test_another_company_is_never_read(self):
        metrics = self._metrics(self.rep_b).with_context(allowed_company_ids=self.company.ids)
        with self.assertRaises(AccessError):
            metrics.get_metrics(MARCH)
        with self.assertRaises(AccessError):
            metrics.get_metrics_by(MARCH, ["user_id"])

    def test_stored_forecasts(self):
        Snapshot = self.env["crm.forecast.snapshot"]
        Snapshot._store_month(MARCH, self.company)
        rows = Snapshot.search([("month", "=", MARCH)])
        company_row = rows.filtered(lambda r: r.level == "company")
        east_row = rows.filtered(lambda r: r.level == "team" and r.team_id == self.team)
        rep_row = rows.filtered(lambda r: r.level == "user" and r.user_id == self.rep)
        rep2_row = rows.filtered(lambda r: r.level == "user" and r.user_id == self.rep2)
        expected = {
            self.rep: rep_row,
            self.rep2: rep2_row,
            self.all_docs_rep: Snapshot,
            # leads West, to which rep2 belongs: rep2's rows, not East's
            self.west_leader: rep2_row,
            self.approver: east_row | rep_row | rep2_row,
            self.manager: rows,
            self.rep_b: Snapshot,
        }
        self.assertTrue(company_row and east_row and rep_row and rep2_row)
        for user, visible in expected.items():
            with self.subTest(user=user.name):
                found = Snapshot.with_user(user).search_read([("month", "=", MARCH)], ["id"])
                self.assertEqual({row["id"] for row in found}, set(visible.ids))
                groups = Snapshot.with_user(user).read_group(
                    [("month", "=", MARCH)], ["forecast_revenue:sum"], []
                )
                self.assertEqual(groups[0]["__count"], len(visible))

    def test_compliance_cases(self):
        """漏报考核 is a rep's assessment too: the same people see it."""
        for user, name in ((self.rep, "Case of Rep A"), (self.rep2, "Case of Rep B")):
            self._lead(user=user, name=name, partner_id=False, partner_name=name).action_set_won()
        Compliance = self.env["crm.registration.compliance"]
        cases = Compliance.search([("kind", "=", "unregistered")])
        of_rep = cases.filtered(lambda c: c.user_id == self.rep)
        of_rep2 = cases.filtered(lambda c: c.user_id == self.rep2)
        self.assertTrue(of_rep and of_rep2)
        expected = {
            self.rep: of_rep,
            self.rep2: of_rep2,
            self.all_docs_rep: Compliance,
            self.west_leader: of_rep2,
            self.approver: of_rep | of_rep2,
            self.manager: cases,
            self.rep_b: Compliance,
        }
        for user, visible in expected.items():
            with self.subTest(user=user.name):
                found = Compliance.with_user(user).search([("kind", "=", "unregistered")])
                self.assertEqual(set(found.ids), set(visible.ids))


@tagged("post_install", "-at_install", "opportunity_registration")
class TestMetricsInput(PeopleCase):
    """Every argument of the metrics API is checked: a clear UserError, never
    a traceback (SPEC §9.5)."""

    def test_bad_arguments(self):
        Metrics = self.env["crm.forecast.metrics"].with_user(self.manager)
        bad_calls = [
            lambda m: m.with_context(tz="Mars/Olympus").get_metrics(MARCH),
            lambda m: m.with_context(tz=42).get_metrics_by(MARCH, ["user_id"]),
            lambda m: m.get_metrics(MARCH, user_id=2**40),
            lambda m: m.get_metrics(MARCH, team_id=-3),
            lambda m: m.get_metrics(MARCH, team_id=1.5),
            lambda m: m.get_metrics(MARCH, user_id=[1]),
            lambda m: m.get_metrics_by(MARCH, ["team_id", "stage_id"]),
            lambda m: m.get_metrics_by(MARCH, [["team_id"]]),
            lambda m: m.get_metrics_by(MARCH, {"team_id": 1}),
            lambda m: m.get_metrics_by("2026-02-30", ["user_id"]),
            lambda m: m.get_metrics({"month": MARCH}),
            lambda m: m.action_open_opportunities("pipeline", MARCH, user_id="x"),
            lambda m: m.action_open_opportunities(["pipeline"], MARCH),
        ]
        for index, call in enumerate(bad_calls):
            with self.subTest(call=index), self.assertRaises(UserError) as refusal:
                call(Metrics)
            self.assertNotIsInstance(refusal.exception, AccessError)

    def test_groupby_named_twice_counts_once(self):
        Metrics = self.env["crm.forecast.metrics"].with_user(self.manager)
        once = Metrics.get_metrics_by(MARCH, ["user_id"])
        twice = Metrics.get_metrics_by(MARCH, ["user_id", "user_id"])
        self.assertEqual(twice, once)
        self.assertEqual(Metrics.get_metrics_by(MARCH, "user_id"), once)

    def test_no_none_anywhere(self):
        Metrics = self.env["crm.forecast.metrics"].with_user(self.manager)
        results = [Metrics.get_metrics("2020-01-01"), Metrics.get_metrics(MARCH)]
        results += Metrics.get_metrics_by(MARCH, ["team_id", "user_id"])
        results += Metrics.get_metrics_by("2020-01-01", [])
        for values in results:
            self.assertNotIn(None, values.values(), values)
        self.assertIs(results[0]["forecast_revenue"], False)


@tagged("post_install", "-at_install", "opportunity_registration")
class TestMetricsOverRpc(PeopleCase, HttpCase):
    """The README promises get_metrics and get_metrics_by over RPC: they answer
    over XML-RPC and JSON-RPC, with empty data too, and refuse bad input and
    another rep's numbers with the error's own kind."""

    def _xmlrpc(self, login, method, *args, **kwargs):
        """As an integrator's script: xmlrpc.client against /xmlrpc/2/object."""
        db = self.env.cr.dbname
        uid = self.xmlrpc_common.authenticate(db, login, login, {})
        return self.xmlrpc_object.execute_kw(
            db, uid, login, "crm.forecast.metrics", method, list(args), kwargs
        )

    def _jsonrpc(self, login, method, *args, **kwargs):
        self.authenticate(login, login)
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw/crm.forecast.metrics/%s" % method,
            {
                "model": "crm.forecast.metrics",
                "method": method,
                "args": list(args),
                "kwargs": kwargs,
            },
        )

    def test_empty_and_full_months_over_both_protocols(self):
        for call in (self._xmlrpc, self._jsonrpc):
            empty = call(self.manager.login, "get_metrics", "2020-01-01")
            for rate in RATES:
                self.assertIs(empty[rate], False, rate)
            self.assertEqual(empty["pipeline_amount"], 0)
            full = call(self.manager.login, "get_metrics", MARCH)
            self.assertAlmostEqual(full["forecast_revenue"], 57000)
            rows = call(self.manager.login, "get_metrics_by", MARCH, ["team_id", "user_id"])
            self.assertEqual({row["user_id"] for row in rows}, {self.rep.id, self.rep2.id})
            for row in call(self.manager.login, "get_metrics_by", "2020-01-01", []):
                self.assertEqual(row["won_count"], 0)
                self.assertIs(row["forecast_count"], False)
            # a rep's own numbers, with rates that have no data
            own = call(self.rep2.login, "get_metrics", MARCH, user_id=self.rep2.id)
            self.assertIs(own["forecast_revenue"], False)

    def test_refusals_over_xmlrpc(self):
        cases = [
            (4, self.rep.login, ("get_metrics", MARCH), {"user_id": self.rep2.id}),
            (2, self.manager.login, ("get_metrics", "March"), {}),
            (2, self.manager.login, ("get_metrics", MARCH), {"user_id": -5}),
            (2, self.manager.login, ("get_metrics_by", MARCH, ["stage_id"]), {}),
            (2, self.manager.login, ("get_metrics", MARCH), {"context": {"tz": "Nowhere/Land"}}),
        ]
        for code, login, args, kwargs in cases:
            with self.subTest(args=args, kwargs=kwargs):
                with self.assertRaises(xmlrpc.client.Fault) as fault:
                    self._xmlrpc(login, *args, **kwargs)
                self.assertEqual(fault.exception.faultCode, code, fault.exception.faultString)
                self.assertNotIn("Traceback", fault.exception.faultString)

    def test_refusals_over_jsonrpc(self):
        with self.assertRaises(JsonRpcException) as refusal:
            self._jsonrpc(self.rep.login, "get_metrics", MARCH, user_id=self.rep2.id)
        self.assertEqual(refusal.exception.args[0], "odoo.exceptions.AccessError")
        with self.assertRaises(JsonRpcException) as refusal:
            self._jsonrpc(self.manager.login, "get_metrics_by", MARCH, ["team_id", "team_id", "x"])
        self.assertEqual(refusal.exception.args[0], "odoo.exceptions.UserError")
        with self.assertRaises(JsonRpcException) as refusal:  # beyond PostgreSQL's integer
            self._jsonrpc(self.manager.login, "get_metrics", MARCH, team_id=2**40)
        self.assertEqual(refusal.exception.args[0], "odoo.exceptions.UserError")


@tagged("post_install", "-at_install", "opportunity_registration")
class TestRevenueFollowsTheOpportunity(PeopleCase):
    """Actual revenue is read only where its opportunity is, never more."""

    def test_revenue_within_readable_opportunities(self):
        unassigned = self.leads["W3"]
        unassigned.user_id = False
        Revenue = self.env["crm.lead.revenue"]
        for user in (
            self.rep,
            self.rep2,
            self.all_docs_rep,
            self.approver,
            self.west_leader,
            self.manager,
            self.rep_b,
        ):
            with self.subTest(user=user.name):
                lines = Revenue.with_user(user).search([])
                leads = self.env["crm.lead"].with_user(user).with_context(active_test=False)
                readable = leads.search([("id", "in", Revenue.search([]).lead_id.ids)])
                self.assertLessEqual(set(lines.lead_id.ids), set(readable.ids))
                groups = Revenue.with_user(user).read_group([], ["amount:sum"], [])
                self.assertEqual(groups[0]["__count"], len(lines))
        # an unassigned won deal's revenue is nobody's numbers: not every rep's
        for user in (self.rep, self.rep2, self.west_leader, self.rep_b):
            lines = Revenue.with_user(user).search([("lead_id", "=", unassigned.id)])
            self.assertFalse(lines, user.name)
            with self.assertRaises(AccessError):
                unassigned.revenue_ids.with_user(user).read(["amount"])
        self.assertTrue(
            Revenue.with_user(self.all_docs_rep).search([("lead_id", "=", unassigned.id)])
        )
        self.assertTrue(Revenue.with_user(self.manager).search([("lead_id", "=", unassigned.id)]))
        # another rep's revenue stays theirs
        self.assertFalse(
            Revenue.with_user(self.rep2).search([("lead_id.user_id", "=", self.rep.id)])
        )
        with self.assertRaises(AccessError):
            self.leads["W2"].revenue_ids.with_user(self.rep2).read(["amount"])

    def test_a_stricter_opportunity_rule_reaches_its_revenue(self):
        """A rule added on crm.lead later (another module, an administrator)
        applies to the revenue lines at once: they follow the opportunity."""
        self.env["ir.rule"].create(
            {
                "name": "Test: nobody reads W1 any more (a global rule)",
                "model_id": self.env["ir.model"]._get_id("crm.lead"),
                "domain_force": "[('name', '!=', 'W1')]",
            }
        )
        lines = self.env["crm.lead.revenue"].with_user(self.rep).search([])
        self.assertEqual(set(lines.lead_id.mapped("name")), {"W2", "W4"})


@tagged("post_install", "-at_install", "opportunity_registration")
class TestSystemDates(PeopleCase):
    """The dates the system stamps on win, loss and stage change decide
    commission eligibility and the monthly numbers: a rep never rewrites them,
    a manager may correct them."""

    def _value(self, lead, fname):
        return (lead[fname] or fields.Datetime.now()) - timedelta(days=40)

    def test_every_system_date_rep_and_manager(self):
        won, lost, open_lead = self.leads["W4"], self.leads["L1"], self.leads["P1"]
        (open_lead | won).user_id = self.rep
        lost.user_id = self.rep
        for fname in SYSTEM_DATES:
            for lead in (won, lost, open_lead):
                with self.subTest(field=fname, lead=lead.name):
                    before = lead[fname]
                    with self.assertRaises(UserError):
                        lead.with_user(self.rep).write({fname: self._value(lead, fname)})
                    if before:
                        with self.assertRaises(UserError):
                            lead.with_user(self.rep).write({fname: False})
                    self.assertEqual(lead[fname], before)
                    # rewriting the same value changes nothing: not refused
                    lead.with_user(self.rep).write({fname: before})
                    value = self._value(lead, fname)
                    lead.with_user(self.manager).write({fname: value})
                    self.assertEqual(lead[fname], value)
            with self.assertRaises(UserError):
                self.env["crm.lead"].with_user(self.rep).create(
                    {"name": "Backdated", "type": "opportunity", fname: "2020-01-01 00:00:00"}
                )
        with self.assertRaises(UserError):
            won.with_user(self.rep).write({"date_closed": "not a date"})

    def test_system_stamps_still_work_for_a_rep(self):
        """Winning, losing and moving stages as a rep stamp the dates as before;
        an opportunity created directly in a won stage is stamped too."""
        lead = self._lead(partner_id=False, partner_name="Stamp Co", expected_revenue=5000)
        as_rep = lead.with_user(self.rep)
        as_rep.stage_id = self.stage_open
        self.assertTrue(lead.date_last_stage_update)
        as_rep.action_set_won()
        self.assertTrue(lead.date_closed)
        created = (
            self.env["crm.lead"]
            .with_user(self.rep)
            .create({"name": "Won at once", "type": "opportunity", "stage_id": self.stage_won.id})
        )
        self.assertTrue(created.date_closed)
        other = self._lead(partner_id=False, partner_name="Lost Stamp Co", expected_revenue=5000)
        other.with_user(self.rep).action_set_lost()
        self.assertTrue(other.date_closed)


@tagged("post_install", "-at_install", "opportunity_registration")
class TestEveryModelIsCompanyBound(RegistrationCase):
    """Every model of the module with a company has a multi-company rule, and a
    rep of company B reads nothing of company A through any of them."""

    # Odoo itself shares internal users (and their partners) across companies,
    # for mentions and chatter: not the module's data.
    SHARED_BY_ODOO = {"res.users", "res.partner"}

    @classmethod
    def _module_models(cls):
        models = cls.env["ir.model"].sudo().search([("transient", "=", False)])
        return [
            model.model
            for model in models
            if "opportunity_registration" in (model.modules or "").split(", ")
            and model.model in cls.env
            and not cls.env[model.model]._abstract
            and "company_id" in cls.env[model.model]._fields
            and cls.env[model.model]._fields["company_id"].store
        ]

    def test_each_model_with_a_company_has_a_company_rule(self):
        models = self._module_models()
        self.assertIn("crm.lead.registration.band", models)
        Rule = self.env["ir.rule"].sudo()
        missing = []
        for model in models:
            rules = Rule.search([("model_id.model", "=", model), ("active", "=", True)])
            if not any("company_ids" in (rule.domain_force or "") for rule in rules):
                missing.append(model)
        self.assertEqual(missing, [], "models of the module without a multi-company rule")

    def _fill_company_a(self):
        """At least one record of company A in every such model."""
        self.team.company_id = self.company
        lead = self._lead(partner_id=False, partner_name="Company A Pool Co", expected_revenue=5000)
        lead.with_user(self.rep).action_registration_submit()
        lead.with_user(self.rep).action_registration_release()
        pending = self._lead(partner_id=False, partner_name="Company A Pending Co")
        pending.with_user(self.rep).action_registration_submit()  # a review for the approver
        stage = self.env["crm.stage"].create({"name": "Company A Stage", "sequence": 50})
        won = self._lead(partner_id=False, partner_name="Company A Won Co", expected_revenue=5000)
        won.channel_partner_id = self.env["res.partner"].create(
            {"name": "Company A Channel", "is_company": True, "company_id": self.company.id}
        )
        won.stage_id = stage
        won.action_set_won()
        won.revenue_ids = [Command.create({"date": self.today, "amount_currency": 1000})]
        self.env["crm.lead.registration.band"]._get_company_bands(self.company)
        self.env["crm.forecast.snapshot"]._store_month(self.today, self.company)
        self.env["crm.lead.registration.upload"].create(
            {"name": "company-a.csv", "company_id": self.company.id}
        )
        self.env["res.partner"].create(
            {"name": "Company A Customer", "is_company": True, "company_id": self.company.id}
        )
        self.env.flush_all()

    def test_rep_of_company_b_reads_nothing_of_company_a(self):
        company_b = self.env["res.company"].create({"name": "Company-bound B"})
        rep_b = mail_new_test_user(
            self.env,
            login="opreg_bound_rep_b",
            name="Rep B",
            groups="sales_team.group_sale_salesman,sales_team.group_sale_salesman_all_leads",
            company_id=company_b.id,
            company_ids=[(6, 0, company_b.ids)],
        )
        self._fill_company_a()
        models = self._module_models()
        empty = [
            model
            for model in models
            if not self.env[model]
            .sudo()
            .with_context(active_test=False)
            .search_count([("company_id", "=", self.company.id)])
        ]
        self.assertEqual(empty, [], "give these models a record of company A in the fixture")
        for model in models:
            with self.subTest(model=model):
                Model = self.env[model].with_user(rep_b).with_context(active_test=False)
                domain = [("company_id", "=", self.company.id)]
                if model in self.SHARED_BY_ODOO:
                    domain += (
                        [("share", "=", True)]
                        if model == "res.users"
                        else [("partner_share", "=", True)]
                    )
                try:
                    rows = Model.search_read(domain, ["id"])
                    everything = Model.search_read([], ["company_id"])
                except AccessError:
                    continue  # no access to the model at all: nothing read
                self.assertEqual(rows, [])
                if model not in self.SHARED_BY_ODOO:
                    self.assertNotIn(
                        self.company.id,
                        {row["company_id"] and row["company_id"][0] for row in everything},
                    )

    def test_band_limits_stay_in_their_company(self):
        """A rep of company B never reads company A's band limits, and a band
        never names an approver outside its company."""
        company_b = self.env["res.company"].create({"name": "Band Company B"})
        rep_b = mail_new_test_user(
            self.env,
            login="opreg_band_rep_b",
            name="Band Rep B",
            groups="sales_team.group_sale_salesman",
            company_id=company_b.id,
            company_ids=[(6, 0, company_b.ids)],
        )
        Band = self.env["crm.lead.registration.band"]
        bands_a = Band._get_company_bands(self.company)
        bands_b = Band._get_company_bands(company_b)
        rows = Band.with_user(rep_b).search_read([], ["company_id", "lower_bound"])
        self.assertEqual({row["id"] for row in rows}, set(bands_b.ids))
        with self.assertRaises(AccessError):
            bands_a.with_user(rep_b).read(["lower_bound"])
        with self.assertRaises(UserError):
            bands_a[1].write({"approval": "user", "approver_user_id": rep_b.id})


@tagged("post_install", "-at_install", "opportunity_registration")
class TestConflictRecheckFailsClosed(RegistrationCase):
    """The fresh-snapshot re-check of a submission never reads a database
    error as "no conflict": the submission fails, saying to try again."""

    def test_database_error_fails_the_submission(self):
        lead = self._lead(expected_revenue=5000)
        original = CrmLeadRegistration._active_holders
        calls = []

        def failing(registrations, vals_list):
            calls.append(registrations.env.cr)
            if registrations.env.cr is not self.env.cr:  # the fresh cursor
                raise psycopg2.OperationalError("could not serialize access")
            return original(registrations, vals_list)

        with (
            patch.object(CrmLeadRegistration, "_active_holders", failing),
            self.assertRaises(UserError) as refusal,
            self.env.cr.savepoint(),
        ):
            lead.with_user(self.rep).action_registration_submit()
        self.assertIn("try again", str(refusal.exception))
        self.assertGreaterEqual(len(calls), 2)
        self.assertFalse(lead.registration_ids)
        self.assertEqual(lead.registration_state, "draft")


@tagged("post_install", "-at_install", "opportunity_registration")
class TestKeysOfOtherCustomers(RegistrationCase):
    """One registration never holds the keys of other customers: an e-mail
    domain, phone or tax ID of another existing company account is refused,
    naming the key and whose it is (SPEC §9.1)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.by_domain = Partner.create(
            {"name": "Domain Owner Ltd", "is_company": True, "website": "https://www.owner-y.cn"}
        )
        cls.by_email = Partner.create(
            {"name": "Mail Owner GmbH", "is_company": True, "email": "info@owner-m.de"}
        )
        cls.by_phone = Partner.create(
            {"name": "Phone Owner Co", "is_company": True, "phone": "+86 10 6666 1234"}
        )
        cls.by_vat = Partner.create(
            {"name": "Tax Owner Inc", "is_company": True, "vat": "91110000802100433B"}
        )

    def _submit(self, **overrides):
        vals = {
            "partner_id": False,
            "partner_name": "Small Greedy Deal Co",
            "expected_revenue": 5000,
        }
        vals.update(overrides)
        lead = self._lead(**vals)
        lead.with_user(self.rep).action_registration_submit()
        return lead

    def test_each_key_of_another_customer_is_refused(self):
        holder = self.env["res.partner"].create(
            {"name": "Small Greedy Deal Co", "is_company": True, "vat": "CN 91110000802100433B"}
        )
        cases = [
            ({"email_from": "buyer@owner-y.cn"}, "owner-y.cn", self.by_domain),
            ({"email_from": "buyer@owner-m.de"}, "owner-m.de", self.by_email),
            ({"phone": "010-66661234"}, "1066661234", self.by_phone),
            ({"partner_id": holder.id, "partner_name": False}, "91110000802100433B", self.by_vat),
        ]
        for overrides, key, owner in cases:
            with self.subTest(key=key), self.env.cr.savepoint():
                with self.assertRaises(ValidationError) as refusal:
                    self._submit(**overrides)
                message = str(refusal.exception)
                self.assertIn(key, message)
                self.assertIn(owner.name, message)

    def test_own_keys_and_the_same_customer_pass(self):
        # the owner of the domain registers with it
        own = self._submit(
            partner_id=self.by_domain.id, partner_name=False, email_from="ceo@owner-y.cn"
        )
        self.assertEqual(own.registration_state, "approved")
        # a new opportunity typed with the same company name is that customer
        same = self._lead(
            user=self.rep2,
            partner_id=False,
            partner_name="Phone Owner Co., Ltd.",
            phone="+86 10 6666 1234",
            expected_revenue=5000,
        )
        same.with_user(self.rep2).action_registration_submit()
        self.assertEqual(same.registration_state, "approved")

    def test_rekeying_to_another_customers_key_is_refused(self):
        lead = self._submit()
        with self.assertRaises(ValidationError):
            lead.with_user(self.rep).email_from = "buyer@owner-m.de"


@tagged("post_install", "-at_install", "opportunity_registration")
class TestKeysOfOtherCustomersFromThePortal(ChannelCase):
    """A channel partner is refused the same way, without learning whose
    account the key is (SPEC §9.4)."""

    def test_partner_is_refused_without_the_account_name(self):
        with self.assertRaises(ValidationError) as refusal:
            self._portal_register(email="xu@beta.example.com")
        message = str(refusal.exception)
        self.assertIn("beta.example.com", message)
        self.assertNotIn(self.reseller_b.name, message)
        self.assertFalse(
            self.env["crm.lead"].search([("email_from", "=", "xu@beta.example.com")]),
            "nothing half-written",
        )
