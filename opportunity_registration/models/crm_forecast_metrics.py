"""Forecast and opportunity KPIs (销售预测 / 商机考核指标), set-based.

Every metric is one ``_read_group`` (or one SQL statement for actual revenue)
grouped by sales team and/or salesperson, run as the caller so that record
rules decide what each user sees. Month boundaries of date-times (creation,
closing) are taken in the caller's time zone. Amounts are in the company's
currency: expected revenue is entered in it, actual revenue lines are
converted at their own date.
"""

from collections import defaultdict
from datetime import date, datetime, time

import pytz
from dateutil.relativedelta import relativedelta

from odoo import api, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.tools import SQL

GROUPABLE = ("team_id", "user_id")
MAX_ID = 2**31 - 1  # PostgreSQL integer: a larger id would crash the query

# Metric name → the opportunities behind it, for drill-down from reports.
DRILLDOWN_METRICS = ("pipeline", "fresh", "cohort", "won", "committed", "valid_previous")


def _month_start(day):
    return day.replace(day=1)


def _ratio(numerator, denominator):
    """None ("not enough data") when there is nothing to divide by."""
    return numerator / denominator if denominator else None


class CrmForecastMetrics(models.AbstractModel):
    _name = "crm.forecast.metrics"
    _description = "Opportunity Forecast and KPIs"

    # ------------------------------------------------------------------
    # Periods and domains
    # ------------------------------------------------------------------

    @api.model
    def _parse_month(self, month):
        """The first day of the month given as a date or an ISO date string."""
        if isinstance(month, datetime):
            month = month.date()
        if isinstance(month, str):
            try:
                month = date.fromisoformat(month[:10]) if len(month) > 7 else None
                if month is None:
                    raise ValueError
            except ValueError:
                raise UserError(
                    self.env._("%(month)s is not a date (expected YYYY-MM-DD).", month=month)
                ) from None
        if not isinstance(month, date) or not 1900 <= month.year <= 9000:
            raise UserError(self.env._("A month is given as a date (YYYY-MM-DD)."))
        return _month_start(month)

    def _tz(self):
        """The caller's time zone; an unknown one is refused, never guessed."""
        name = self.env.context.get("tz") or self.env.user.tz or "UTC"
        if not isinstance(name, str) or name not in pytz.all_timezones_set:
            raise UserError(
                self.env._(
                    "%(tz)s is not a time zone: give one such as Asia/Shanghai or UTC.",
                    tz=str(name)[:64],
                )
            )
        return pytz.timezone(name)

    @api.model
    def _check_id(self, value, label):
        """A record id as an RPC client may send it: a positive integer."""
        if not value:
            return False
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
            raise UserError(
                self.env._("%(field)s is given by its id (a positive integer).", field=label)
            )
        return value

    @api.model
    def _check_groupby(self, groupby):
        """``groupby`` as a tuple of distinct groupable fields: a name given
        twice counts once, anything else is refused."""
        if not groupby:
            return ()
        if isinstance(groupby, str):
            groupby = [groupby]
        if not isinstance(groupby, (list, tuple)) or any(
            not isinstance(fname, str) or fname not in GROUPABLE for fname in groupby
        ):
            raise UserError(
                self.env._(
                    "Metrics are grouped by sales team and salesperson only (team_id, user_id)."
                )
            )
        return tuple(dict.fromkeys(groupby))

    def _utc(self, day):
        """Local midnight of ``day`` as the naive UTC date-time stored in the database."""
        local = self._tz().localize(datetime.combine(day, time.min))
        return local.astimezone(pytz.utc).replace(tzinfo=None)

    def _base_domain(self, domain=None):
        company = self.env.company
        return (
            Domain("type", "=", "opportunity")
            & Domain("company_id", "=", company.id)
            & Domain(domain or [])
        )

    @api.model
    def _metric_domain(self, metric, month):
        """The opportunities a metric of ``month`` counts (archived ones included
        where the definition counts them; merged opportunities no longer exist).
        """
        start = self._parse_month(month)
        nxt = start + relativedelta(months=1)
        if metric == "pipeline":
            # 加权商机: open opportunities expected to close in the month.
            return Domain.AND(
                [
                    [("active", "=", True), ("won_status", "=", "pending")],
                    [("date_deadline", ">=", start), ("date_deadline", "<", nxt)],
                ]
            )
        if metric in ("fresh", "cohort"):
            # 鲜活商机: created in the three calendar months ending with this one,
            # expected to close no later than the end of next month; "fresh"
            # keeps those still in progress, "cohort" also the won and lost ones.
            cohort = Domain.AND(
                [
                    [("create_date", ">=", self._utc(start - relativedelta(months=2)))],
                    [("create_date", "<", self._utc(nxt))],
                    [("date_deadline", "<", nxt + relativedelta(months=1))],
                ]
            )
            if metric == "fresh":
                return cohort & Domain([("active", "=", True), ("won_status", "=", "pending")])
            return cohort
        if metric == "won":
            # 商机赢: won in the month.
            return Domain.AND(
                [
                    [("won_status", "=", "won")],
                    [("date_closed", ">=", self._utc(start)), ("date_closed", "<", self._utc(nxt))],
                ]
            )
        if metric == "won_three_months":
            return Domain.AND(
                [
                    [("won_status", "=", "won")],
                    [("date_closed", ">=", self._utc(start - relativedelta(months=2)))],
                    [("date_closed", "<", self._utc(nxt))],
                ]
            )
        if metric == "committed":
            # 有效商机承诺金额: valid opportunities expected to close in the month,
            # still open or won within it.
            return Domain.AND(
                [
                    [("active", "=", True), ("is_valid_opportunity", "=", True)],
                    [("date_deadline", ">=", start), ("date_deadline", "<", nxt)],
                    Domain("won_status", "=", "pending")
                    | Domain("date_closed", ">=", self._utc(start)),
                ]
            )
        if metric == "valid_previous":
            # The valid opportunities that were expected to close in the
            # month, won, lost or still open: the base of the valid conversion.
            return Domain.AND(
                [
                    [("is_valid_opportunity", "=", True)],
                    [("date_deadline", ">=", start), ("date_deadline", "<", nxt)],
                ]
            )
        raise UserError(self.env._("Unknown metric %(metric)s.", metric=metric))

    # ------------------------------------------------------------------
    # Reading
    # ------------------------------------------------------------------

    def _leads(self):
        return self.env["crm.lead"].with_context(active_test=False, tz=self._tz().zone)

    @api.model
    def _group_rows(self, metric, month, groupby, domain, extra_groupby=(), aggregates=()):
        Lead = self._leads()
        rows = Lead._read_group(
            self._base_domain(domain) & self._metric_domain(metric, month),
            list(groupby) + list(extra_groupby),
            list(aggregates),
        )
        width = len(groupby)
        for row in rows:
            key = tuple(rec.id for rec in row[:width])
            yield key, row[width:]

    @api.model
    def _revenue_rows(self, month, groupby, domain):
        """Actual revenue dated in this or the previous month of the
        opportunities won in the three months ending with this one, by won
        month and revenue month: one SQL statement.
        """
        start = self._parse_month(month)
        first_won = start - relativedelta(months=2)
        leads = self._leads()._search(
            self._base_domain(domain)
            & Domain("won_status", "=", "won")
            & Domain("date_closed", ">=", self._utc(first_won))
            & Domain("date_closed", "<", self._utc(start + relativedelta(months=1)))
        )
        self.env["crm.lead"].flush_model(["date_closed", *groupby])
        self.env["crm.lead.revenue"].flush_model(["lead_id", "date", "amount"])
        columns = ["id", "date_closed", *groupby]
        keys = [SQL.identifier("lead", fname) for fname in groupby]
        self.env.cr.execute(
            SQL(
                """
                SELECT %(keys)s
                       date_trunc('month', timezone(%(tz)s, timezone('UTC', lead.date_closed)))::date,
                       date_trunc('month', line.date)::date,
                       SUM(line.amount)
                  FROM crm_lead_revenue line
                  JOIN (%(leads)s) AS lead ON lead.id = line.lead_id
                 WHERE line.date >= %(first)s AND line.date < %(end)s
                 GROUP BY %(groups)s
                """,
                keys=SQL("").join(SQL("%s, ", key) for key in keys),
                tz=self._tz().zone,
                leads=leads.select(
                    *(
                        SQL("%s AS %s", SQL.identifier("crm_lead", column), SQL.identifier(column))
                        for column in columns
                    )
                ),
                first=start - relativedelta(months=1),
                end=start + relativedelta(months=1),
                groups=SQL(", ").join([*keys, SQL("%s", len(keys) + 1), SQL("%s", len(keys) + 2)]),
            )
        )
        width = len(groupby)
        for row in self.env.cr.fetchall():
            yield (
                tuple(value or False for value in row[:width]),
                row[width],
                row[width + 1],
                row[width + 2] or 0.0,
            )

    @api.model
    def _metrics_by(self, month, groupby=(), domain=None):
        """Every metric of ``month`` per group of ``groupby`` (a subset of team
        and salesperson, empty for the company): a dict keyed by the tuple of
        group ids. Six queries whatever the number of opportunities and groups.
        """
        groupby = self._check_groupby(groupby)
        start = self._parse_month(month)
        previous = start - relativedelta(months=1)
        before = start - relativedelta(months=2)
        data = defaultdict(lambda: defaultdict(float))

        for key, (amount, count) in self._group_rows(
            "pipeline", start, groupby, domain, aggregates=("prorated_revenue:sum", "__count")
        ):
            data[key]["pipeline_amount"] += amount
            data[key]["pipeline_count"] += count

        for key, (won_status, active, amount, count) in self._group_rows(
            "cohort",
            start,
            groupby,
            domain,
            extra_groupby=("won_status", "active"),
            aggregates=("expected_revenue:sum", "__count"),
        ):
            data[key]["cohort_amount"] += amount
            data[key]["cohort_count"] += count
            if won_status == "won":
                data[key]["converted_amount"] += amount
                data[key]["converted_count"] += count
            elif won_status == "pending" and active:
                data[key]["fresh_amount"] += amount
                data[key]["fresh_count"] += count

        won_by_month = defaultdict(lambda: defaultdict(float))
        for key, (won_month, amount, count) in self._group_rows(
            "won_three_months",
            start,
            groupby,
            domain,
            extra_groupby=("date_closed:month",),
            aggregates=("expected_revenue:sum", "__count"),
        ):
            won_month = won_month.date() if isinstance(won_month, datetime) else won_month
            won_by_month[key, won_month]["amount"] += amount
            won_by_month[key, won_month]["count"] += count
            data.setdefault(key, defaultdict(float))

        revenue = defaultdict(float)
        for key, won_month, revenue_month, amount in self._revenue_rows(start, groupby, domain):
            revenue[key, won_month, revenue_month] += amount
            data.setdefault(key, defaultdict(float))

        for key, (amount, count) in self._group_rows(
            "committed", start, groupby, domain, aggregates=("expected_revenue:sum", "__count")
        ):
            data[key]["committed_amount"] += amount
            data[key]["committed_count"] += count

        for key, (won_status, amount, count) in self._group_rows(
            "valid_previous",
            previous,
            groupby,
            domain,
            extra_groupby=("won_status",),
            aggregates=("expected_revenue:sum", "__count"),
        ):
            data[key]["valid_previous_amount"] += amount
            data[key]["valid_previous_count"] += count
            if won_status == "won":
                data[key]["valid_previous_won_amount"] += amount
                data[key]["valid_previous_won_count"] += count

        result = {}
        for key, values in data.items():
            won = won_by_month[key, start]
            won_previous = won_by_month[key, previous]
            won_before = won_by_month[key, before]
            contribution = revenue[key, previous, start]
            previous_contribution = revenue[key, before, previous]
            metrics = {
                "pipeline_amount": values["pipeline_amount"],
                "pipeline_count": int(values["pipeline_count"]),
                "fresh_amount": values["fresh_amount"],
                "fresh_count": int(values["fresh_count"]),
                "cohort_amount": values["cohort_amount"],
                "cohort_count": int(values["cohort_count"]),
                "converted_amount": values["converted_amount"],
                "converted_count": int(values["converted_count"]),
                "conversion_rate_amount": _ratio(
                    values["converted_amount"], values["cohort_amount"]
                ),
                "conversion_rate_count": _ratio(values["converted_count"], values["cohort_count"]),
                "won_amount": won["amount"],
                "won_count": int(won["count"]),
                "previous_won_amount": won_previous["amount"],
                "win_contribution": contribution,
                "achievement_rate": _ratio(contribution, won_previous["amount"]),
                "committed_amount": values["committed_amount"],
                "committed_count": int(values["committed_count"]),
                "valid_conversion_rate_amount": _ratio(
                    values["valid_previous_won_amount"], values["valid_previous_amount"]
                ),
                "valid_conversion_rate_count": _ratio(
                    values["valid_previous_won_count"], values["valid_previous_count"]
                ),
                "last_achievement_rate": _ratio(previous_contribution, won_before["amount"]),
                "actual_revenue": revenue[key, previous, start] + revenue[key, start, start],
                "actual_count": int(won["count"]),
            }
            metrics.update(self._forecast(metrics))
            result[key] = metrics
        return result

    @api.model
    def _forecast(self, metrics):
        """下月新签客户收入(预测) — new-signing revenue forecast of a month: the
        valid opportunities committed for that month (有效商机承诺金额: valid, open
        or won within the month, expected to close in it) × the previous
        month's valid-opportunity amount conversion rate (上月有效商机承诺金额转化率:
        won ÷ all valid opportunities that were expected to close then) × the
        previous month's commitment achievement rate (上月新签客户承诺金额达成率:
        revenue in that month of the deals won the month before ÷ their
        expected revenue).

        下月新签客户数量(预测) — new-customer count forecast: the count of those
        committed valid opportunities × the previous month's valid-opportunity
        conversion rate by count. Either is None ("not enough data") when a
        rate has nothing to divide by.
        """
        revenue = None
        if (
            metrics["valid_conversion_rate_amount"] is not None
            and metrics["last_achievement_rate"] is not None
        ):
            revenue = (
                metrics["committed_amount"]
                * metrics["valid_conversion_rate_amount"]
                * metrics["last_achievement_rate"]
            )
        count = None
        if metrics["valid_conversion_rate_count"] is not None:
            count = metrics["committed_count"] * metrics["valid_conversion_rate_count"]
        return {"forecast_revenue": revenue, "forecast_count": count}

    @api.model
    def _empty_metrics(self):
        metrics = dict.fromkeys(
            (
                "pipeline_amount",
                "fresh_amount",
                "cohort_amount",
                "converted_amount",
                "won_amount",
                "previous_won_amount",
                "win_contribution",
                "committed_amount",
                "actual_revenue",
            ),
            0.0,
        )
        metrics.update(
            dict.fromkeys(
                (
                    "pipeline_count",
                    "fresh_count",
                    "cohort_count",
                    "converted_count",
                    "won_count",
                    "committed_count",
                    "actual_count",
                ),
                0,
            )
        )
        metrics.update(
            dict.fromkeys(
                (
                    "conversion_rate_amount",
                    "conversion_rate_count",
                    "achievement_rate",
                    "valid_conversion_rate_amount",
                    "valid_conversion_rate_count",
                    "last_achievement_rate",
                    "forecast_revenue",
                    "forecast_count",
                ),
                None,
            )
        )
        return metrics

    # ------------------------------------------------------------------
    # Who sees whose numbers (SPEC §9.9)
    # ------------------------------------------------------------------

    @api.model
    def _numbers_scope(self):
        """Whose numbers the caller may see: ``None`` for everyone's (registration
        and sales managers), else ``(users, teams)``: themselves and the
        members of the teams they lead (team leader, deputy or branch
        manager), and those teams. All-documents rights let a rep read the
        opportunities, not judge the people: their KPIs are their own.
        """
        if self.env.su or self.env.user.has_group(
            "opportunity_registration.group_registration_manager"
        ):
            return None
        uid = self.env.uid
        teams = (
            self.env["crm.team"]
            .sudo()
            .search(
                Domain("user_id", "=", uid)
                | Domain("deputy_manager_id", "=", uid)
                | Domain("branch_manager_id", "=", uid)
            )
        )
        return self.env.user | teams.member_ids, teams

    @api.model
    def _scope_domain(self, scope):
        """The opportunities whose numbers ``scope`` covers: the users' own,
        and the unassigned ones of the teams led."""
        if scope is None:
            return Domain.TRUE
        users, teams = scope
        return Domain("user_id", "in", users.ids) | (
            Domain("user_id", "=", False) & Domain("team_id", "in", teams.ids)
        )

    @api.model
    def _refuse_numbers(self, scope):
        users, teams = scope
        raise AccessError(
            self.env._(
                "A rep's numbers are seen by that rep and their managers only. You may "
                "see the numbers of %(users)s%(teams)s; a sales manager sees everyone's.",
                users=", ".join(users.sudo().mapped("name")),
                teams=teams
                and self.env._(
                    " and of the sales teams %(teams)s", teams=", ".join(teams.mapped("name"))
                )
                or "",
            )
        )

    @api.model
    def _check_numbers_asked(self, team_id, user_id):
        """The caller's scope, once sure they may see the numbers they ask for:
        a salesperson in it, or a team they lead (a rep narrowing their own
        numbers to a team is still asking for their own)."""
        scope = self._numbers_scope()
        if scope is not None:
            users, teams = scope
            if user_id and user_id not in users.ids:
                self._refuse_numbers(scope)
            if team_id and team_id not in teams.ids and not user_id:
                self._refuse_numbers(scope)
        return scope

    @api.model
    def _readable_metrics(self, scope):
        """This model as superuser within the caller's company and time zone,
        once the caller's rights decided what it reads (``scope``)."""
        company = self.env.company  # checked against the caller's companies
        tz = self._tz().zone
        return self.sudo().with_company(company).with_context(tz=tz), self._scope_domain(scope)

    @staticmethod
    def _rpc_safe(metrics):
        """No None over XML-RPC: a rate without data is False."""
        return {name: False if value is None else value for name, value in metrics.items()}

    # ------------------------------------------------------------------
    # Public, read-only API (runs on a read replica when there is one)
    # ------------------------------------------------------------------

    @api.model
    @api.readonly
    def get_metrics(self, month, team_id=False, user_id=False):
        """The metrics of one month for the company, a sales team or a
        salesperson, as far as the caller may see them (their own numbers, and
        their teams' for a team leader; everyone's for a manager); rates are
        fractions, False means "not enough data". Asking for someone else's
        numbers raises AccessError saying whose the caller may see.
        """
        team_id = self._check_id(team_id, self.env._("Sales Team"))
        user_id = self._check_id(user_id, self.env._("Salesperson"))
        scope = self._check_numbers_asked(team_id, user_id)
        metrics, domain = self._readable_metrics(scope)
        if team_id:
            domain &= Domain("team_id", "=", team_id)
        if user_id:
            domain &= Domain("user_id", "=", user_id)
        result = metrics._metrics_by(month, (), domain)
        return self._rpc_safe(result.get((), self._empty_metrics()))

    @api.model
    @api.readonly
    def get_metrics_by(self, month, groupby=("team_id", "user_id")):
        """The metrics of one month per sales team and/or salesperson, as a list
        of dicts carrying the group ids (False for none), over the numbers the
        caller may see (see get_metrics); False means "not enough data".
        """
        groupby = self._check_groupby(groupby)
        metrics, domain = self._readable_metrics(self._numbers_scope())
        rows = []
        for key, values in metrics._metrics_by(month, groupby, domain).items():
            rows.append(dict(zip(groupby, key, strict=True), **self._rpc_safe(values)))
        return rows

    @api.model
    def action_open_opportunities(self, metric, month, team_id=False, user_id=False):
        """The opportunities behind one number of the reports."""
        if not isinstance(metric, str) or metric not in DRILLDOWN_METRICS:
            raise UserError(self.env._("Unknown metric %(metric)s.", metric=str(metric)[:64]))
        team_id = self._check_id(team_id, self.env._("Sales Team"))
        user_id = self._check_id(user_id, self.env._("Salesperson"))
        self._check_numbers_asked(team_id, user_id)
        domain = self._base_domain() & self._metric_domain(metric, month)
        if team_id:
            domain &= Domain("team_id", "=", team_id)
        if user_id:
            domain &= Domain("user_id", "=", user_id)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Opportunities"),
            "res_model": "crm.lead",
            "views": [[False, "list"], [False, "kanban"], [False, "form"]],
            "domain": list(domain.optimize(self.env["crm.lead"])),
            "context": {"active_test": False, "create": False},
        }
