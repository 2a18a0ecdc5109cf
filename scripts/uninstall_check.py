"""Uninstalling the module leaves stock CRM working.

On a throw-away database that has the module installed: fill it (a team with
its approvers, registrations approved, pending and released, stage moves and
their history), uninstall the module, then run the stock CRM flow on the same
data and on new data: create a lead, convert it to an opportunity, move it,
win it, lose another, merge two, and open the standard views. Exits 1 with
the reason on the first failure.

    .venv/bin/python scripts/uninstall_check.py --db DB
"""

import argparse
import os
import sys
from datetime import date, timedelta

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks"))

from _common import environment

MODULE = "opportunity_registration"


def fill(env):
    Users = env["res.users"].with_context(no_reset_password=True)
    sales = env.ref("sales_team.group_sale_salesman")
    rep = Users.create(
        {"name": "Uninstall Rep", "login": "uninstall_rep", "group_ids": [(6, 0, sales.ids)]}
    )
    leader = Users.create(
        {
            "name": "Uninstall Leader",
            "login": "uninstall_leader",
            "group_ids": [(6, 0, env.ref("sales_team.group_sale_salesman_all_leads").ids)],
        }
    )
    team = env["crm.team"].create(
        {"name": "Uninstall Team", "user_id": leader.id, "member_ids": [(6, 0, rep.ids)]}
    )
    today = date.today()
    leads = env["crm.lead"]
    for number, amount in enumerate((5000, 30000, 8000), start=1):
        leads |= env["crm.lead"].create(
            {
                "name": "Uninstall deal %d" % number,
                "type": "opportunity",
                "partner_name": "Uninstall Customer %d Ltd" % number,
                "email_from": "buyer@uninstall%d.example.com" % number,
                "phone": "+86 10 6666 %04d" % number,
                "expected_revenue": amount,
                "date_deadline": today + timedelta(days=30),
                "need_description": "A need",
                "key_person_identified": True,
                "key_person_name": "A buyer",
                "user_id": rep.id,
                "team_id": team.id,
            }
        )
    for lead in leads:
        lead.with_user(rep).action_registration_submit()
    leads[2].registration_id.with_user(rep).action_release(reason="Not for us")
    stages = env["crm.stage"].search([], order="sequence", limit=2)
    leads[0].stage_id = stages[-1]
    states = leads.mapped("registration_state")
    assert states == ["approved", "submitted", "released"], states
    assert env["crm.lead.stage.history"].search_count([("lead_id", "in", leads.ids)]) >= 3
    return leads.ids


def stock_flow(env, old_ids):
    Lead = env["crm.lead"]
    assert "registration_state" not in Lead._fields, "the module's fields are gone"
    env.cr.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_name = 'crm_lead' AND column_name LIKE 'registration%%'"
    )
    assert not env.cr.fetchall(), "the module's columns are dropped"
    for view_type in ("form", "list", "kanban", "search"):
        Lead.get_views([(False, view_type)])
    old = Lead.browse(old_ids)
    old.write({"expected_revenue": 12345, "user_id": env.ref("base.user_admin").id})
    old[0].action_set_won()
    old[1].action_set_lost()
    lead = Lead.create(
        {
            "name": "After uninstall",
            "type": "lead",
            "partner_name": "Stock Flow Ltd",
            "email_from": "buyer@stockflow.example.com",
        }
    )
    convert = (
        env["crm.lead2opportunity.partner"]
        .with_context(active_model="crm.lead", active_id=lead.id, active_ids=lead.ids)
        .create({"name": "convert", "action": "create"})
    )
    convert.action_apply()
    assert lead.type == "opportunity", lead.type
    stages = env["crm.stage"].search([("is_won", "=", False)], order="sequence")
    lead.stage_id = stages[-1]
    lead.action_set_won_rainbowman()
    assert lead.won_status == "won" and lead.probability == 100, (lead.won_status, lead.probability)
    twin = Lead.create({"name": "Twin", "type": "opportunity", "partner_id": lead.partner_id.id})
    merged = (twin | old[2]).merge_opportunity()
    assert merged.exists(), "merge works"
    env.flush_all()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    with environment(args.db) as env:
        old_ids = fill(env)
        print("[uninstall] filled: %d opportunities with registrations" % len(old_ids))
    with environment(args.db) as env:
        module = env["ir.module.module"].search([("name", "=", MODULE)])
        module.button_immediate_uninstall()
        print("[uninstall] uninstalled %s" % MODULE)
    with environment(args.db) as env:
        state = env["ir.module.module"].search([("name", "=", MODULE)]).state
        assert state == "uninstalled", state
        stock_flow(env, old_ids)
    print("[uninstall] stock CRM works after uninstalling: lead, convert, win, lose, merge, views")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print("[uninstall] FAILED: %s" % error)
        sys.exit(1)
