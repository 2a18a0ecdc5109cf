from datetime import date, datetime

from odoo import Command
from odoo.tools import SQL

from .common import RegistrationCase


class ForecastCase(RegistrationCase):
    """Three months of history (January to March 2026) for two reps of one
    team, small enough to compute every metric by hand.

    ==== ==== ======= ==== ===== =========== =========== ========= ============
    name rep  amount  prob valid created     deadline    outcome   revenue
    ==== ==== ======= ==== ===== =========== =========== ========= ============
    P1   A    100,000 40   yes   2026-02-01  2026-03-15  open
    P2   B     50,000 20   no    2026-03-02  2026-03-20  open
    O2   A     30,000 50   yes   2025-11-01  2026-03-31  open
    O3   A     70,000 10   yes   2026-03-10  2026-05-15  open
    P3   A     50,000 10   yes   2025-12-20  2026-02-25  open
    W1   A    200,000      yes   2025-12-01  2026-01-20  won 01-20  30,000 on 01-25,
                                                                   150,000 on 02-15
    W2   A     80,000      yes   2026-01-05  2026-02-10  won 02-10  50,000 on 03-10
    W3   B     20,000      yes   2026-02-01  2026-02-28  won 02-25  5,000 EUR on 03-31
                                                                   (= 10,000 at 03-01's rate)
    W4   A     60,000      yes   2026-02-15  2026-03-05  won 03-05  25,000 on 03-20
    L1   B     40,000      yes   2026-01-10  2026-03-10  lost
    L2   B    100,000      yes   2025-12-15  2026-02-20  lost
    ==== ==== ======= ==== ===== =========== =========== ========= ============
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tz="UTC", tracking_disable=True))
        (cls.rep | cls.rep2 | cls.manager | cls.approver).tz = "UTC"
        company_currency = cls.company.currency_id
        cls.foreign = (
            cls.env.ref("base.EUR")
            if company_currency != cls.env.ref("base.EUR")
            else cls.env.ref("base.USD")
        )
        cls.foreign.active = True
        # 1 company unit = 0.5 foreign units from March 1st, 0.25 from April 1st.
        cls.env["res.currency.rate"].create(
            [
                {
                    "currency_id": cls.foreign.id,
                    "company_id": cls.company.id,
                    "name": "2026-03-01",
                    "rate": 0.5,
                },
                {
                    "currency_id": cls.foreign.id,
                    "company_id": cls.company.id,
                    "name": "2026-04-01",
                    "rate": 0.25,
                },
            ]
        )
        cls.stage_open = cls.env["crm.stage"].create({"name": "Forecast Open", "sequence": 1})
        cls.stage_won = cls.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        specs = {
            "P1": (cls.rep, 100000, 40, True, "2026-02-01", "2026-03-15", None),
            "P2": (cls.rep2, 50000, 20, False, "2026-03-02", "2026-03-20", None),
            "O2": (cls.rep, 30000, 50, True, "2025-11-01", "2026-03-31", None),
            "O3": (cls.rep, 70000, 10, True, "2026-03-10", "2026-05-15", None),
            "P3": (cls.rep, 50000, 10, True, "2025-12-20", "2026-02-25", None),
            "W1": (cls.rep, 200000, 100, True, "2025-12-01", "2026-01-20", "won"),
            "W2": (cls.rep, 80000, 100, True, "2026-01-05", "2026-02-10", "won"),
            "W3": (cls.rep2, 20000, 100, True, "2026-02-01", "2026-02-28", "won"),
            "W4": (cls.rep, 60000, 100, True, "2026-02-15", "2026-03-05", "won"),
            "L1": (cls.rep2, 40000, 10, True, "2026-01-10", "2026-03-10", "lost"),
            "L2": (cls.rep2, 100000, 10, True, "2025-12-15", "2026-02-20", "lost"),
        }
        cls.leads = {}
        for name, (user, amount, probability, valid, created, deadline, outcome) in specs.items():
            lead = cls.env["crm.lead"].create(
                {
                    "name": name,
                    "type": "opportunity",
                    "user_id": user.id,
                    "team_id": cls.team.id,
                    "stage_id": cls.stage_open.id,
                    "expected_revenue": amount,
                    "probability": probability,
                    "date_deadline": deadline,
                    "need_description": "A real need.",
                    "key_person_identified": valid,
                }
            )
            if outcome == "won":
                lead.action_set_won()
                lead.date_closed = datetime.fromisoformat(deadline + " 12:00:00")
            elif outcome == "lost":
                lead.action_set_lost()
            cls.env.flush_all()
            cls.env.cr.execute(
                SQL(
                    "UPDATE crm_lead SET create_date = %s WHERE id = %s",
                    datetime.fromisoformat(created + " 12:00:00"),
                    lead.id,
                )
            )
            cls.leads[name] = lead
        cls.env.invalidate_all()
        leads = cls.leads
        leads["W1"].revenue_ids = [
            Command.create({"date": "2026-01-25", "amount_currency": 30000}),
            Command.create({"date": "2026-02-15", "amount_currency": 150000}),
        ]
        leads["W2"].revenue_ids = [Command.create({"date": "2026-03-10", "amount_currency": 50000})]
        leads["W3"].revenue_ids = [
            Command.create(
                {"date": "2026-03-31", "amount_currency": 5000, "currency_id": cls.foreign.id}
            )
        ]
        leads["W4"].revenue_ids = [Command.create({"date": "2026-03-20", "amount_currency": 25000})]
        cls.march = date(2026, 3, 1)
        cls.Metrics = cls.env["crm.forecast.metrics"]
