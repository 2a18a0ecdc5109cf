"""Demo data that tells the registration story, in English and Chinese.

Run by ``make run`` once, after the module is installed with Odoo's demo
data: three sales teams with their leaders, deputy and branch managers; reps
(one of them reads Chinese; zh_CN is installed); the standard stage model
A-F; a dozen customers with registrations in every state — one live
conflict, one pending approval in each band, one lock about to expire, a
public pool — three months of stage history with won deals and their actual
revenue, stored monthly forecasts, and a channel partner's portal login
(partner.demo / demo) with two deals, so that the funnel, the forecast and
accuracy dashboards and the partner portal show real numbers.

    .venv/bin/python scripts/demo.py --db DB
"""

import argparse
import os
import sys
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks"))

from _common import environment

MARKER = "opportunity_registration.demo_story"
PASSWORD = "demo"

TEAMS = [
    # name, leader, deputy, branch manager, reps
    (
        "East China",
        "Wang Lei 王磊",
        "Zhao Min 赵敏",
        "Sun Hong 孙宏",
        ["Zhang Wei 张伟", "Li Na 李娜"],
    ),
    ("North China", "Liu Yang 刘洋", "Chen Jing 陈静", "Sun Hong 孙宏", ["Zhou Qiang 周强"]),
    (
        "International",
        "Emma Clark",
        "Noah Baker",
        "Olivia Hayes",
        ["James Miller", "Sophie Turner"],
    ),
]
CHINESE_REPS = {"Zhang Wei 张伟", "Li Na 李娜", "Zhou Qiang 周强"}

CUSTOMERS = [
    ("杭州云图科技有限公司", "yuntu-tech.cn", "+86 571 8888 6601", "91330100MA27XK0001"),
    ("上海明远物流有限公司", "mingyuan-log.cn", "+86 21 6666 2202", "91310000MA1FL00002"),
    ("北京华信软件股份有限公司", "huaxin-soft.cn", "+86 10 8888 3303", "91110000MA00000003"),
    ("深圳前海金融服务有限公司", "qianhai-fin.cn", "+86 755 2222 4404", "91440300MA5D000004"),
    ("成都天府制造有限公司", "tianfu-mfg.cn", "+86 28 8555 5505", "91510100MA6C000005"),
    ("苏州工业园区能源有限公司", "sip-energy.cn", "+86 512 6666 6606", "91320500MA1M000006"),
    ("Riverside Logistics Ltd", "riverside-logistics.com", "+44 20 7946 0107", "GB123456707"),
    ("Northwind Retail Group", "northwind-retail.com", "+1 415 555 0108", "US94-0000008"),
    ("Alpine Medical AG", "alpine-medical.ch", "+41 44 555 0109", "CHE-100.000.009"),
    ("Blue Harbor Foods Inc.", "blueharbor-foods.com", "+1 206 555 0110", "US91-0000010"),
    ("Helios Solar GmbH", "helios-solar.de", "+49 30 5555 0111", "DE100000011"),
    ("Maple Education Co.", "maple-edu.ca", "+1 604 555 0112", "CA100000012"),
]


def users(env):
    Users = env["res.users"].with_context(no_reset_password=True)
    groups = {
        "rep": env.ref("sales_team.group_sale_salesman"),
        "leader": env.ref("sales_team.group_sale_salesman_all_leads")
        | env.ref("opportunity_registration.group_registration_approver"),
        "manager": env.ref("sales_team.group_sale_manager"),
    }
    by_name = {}

    def user(name, role):
        if name in by_name:
            return by_name[name]
        login = name.split(" ")[0].lower() + "." + name.split(" ")[1].lower()
        found = Users.search([("login", "=", login)])
        by_name[name] = found or Users.create(
            {
                "name": name,
                "login": login,
                "password": PASSWORD,
                "email": "%s@example.com" % login,
                "lang": "zh_CN" if name in CHINESE_REPS else "en_US",
                "group_ids": [(6, 0, groups[role].ids)],
            }
        )
        return by_name[name]

    teams = []
    for name, leader, deputy, branch, reps in TEAMS:
        members = [user(rep, "rep") for rep in reps]
        team = env["crm.team"].create(
            {
                "name": name,
                "user_id": user(leader, "leader").id,
                "deputy_manager_id": user(deputy, "leader").id,
                "branch_manager_id": user(branch, "manager").id,
                "member_ids": [(6, 0, [m.id for m in members])],
            }
        )
        teams.append((team, members))
    return teams, by_name


def customers(env):
    partners = []
    for name, domain, phone, vat in CUSTOMERS:
        partners.append(
            env["res.partner"].create(
                {
                    "name": name,
                    "is_company": True,
                    "email": "info@%s" % domain,
                    "phone": phone,
                    "vat": vat,
                }
            )
        )
    return partners


def lead(env, name, partner, rep, team, amount, stage, days=45, **extra):
    vals = {
        "name": name,
        "type": "opportunity",
        "partner_id": partner.id,
        "email_from": "buyer@%s" % partner.commercial_partner_id.email.split("@")[1],
        "phone": partner.commercial_partner_id.phone,
        "expected_revenue": amount,
        "date_deadline": date.today() + timedelta(days=days),
        "need_description": "Replace spreadsheets with one shared system for the sales and "
        "purchasing teams.",
        "key_person_identified": True,
        "key_person_name": "CIO",
        "registration_source": "rep",
        "user_id": rep.id,
        "team_id": team.id,
        "stage_id": stage.id,
    }
    vals.update(extra)
    return env["crm.lead"].with_user(rep).create(vals)


def history(env, record, stages, start_days_ago, won=False, lost=False):
    """Move ``record`` through ``stages``, then spread its stays over the past."""
    for stage in stages[1:]:
        # the rep ticks the exit criteria of the stage it leaves
        record.sudo().stage_criterion_done_ids = [(6, 0, record.stage_id.criterion_ids.ids)]
        record.sudo().stage_id = stage
    if won:
        record.sudo().stage_criterion_done_ids = [(6, 0, record.stage_id.criterion_ids.ids)]
        record.sudo().action_set_won()
    if lost:
        record.sudo().action_set_lost()
    rows = env["crm.lead.stage.history"].sudo().search([("lead_id", "=", record.id)], order="id")
    moment = datetime.now() - timedelta(days=start_days_ago)
    step = max(start_days_ago // max(len(rows), 1), 1)
    for index, row in enumerate(rows):
        date_in = moment + timedelta(days=index * step)
        last = index == len(rows) - 1
        date_out = None if last else date_in + timedelta(days=step)
        env.cr.execute(
            "UPDATE crm_lead_stage_history SET date_in = %s, date_out = %s,"
            " days_in_stage = %s WHERE id = %s",
            [date_in, date_out, step if date_out else None, row.id],
        )
    if won or lost:
        env.cr.execute(
            "UPDATE crm_lead SET date_closed = %s WHERE id = %s",
            [moment + timedelta(days=len(rows) * step), record.id],
        )


def channel(env, team, manager):
    """A channel partner with a portal login (partner.demo / demo), who
    registered two deals from the portal: one approved by its channel manager,
    one waiting for the manager's review."""
    team.channel_manager_id = manager
    reseller = env["res.partner"].create(
        {
            "name": "Sunrise Channel Partners 朝阳渠道",
            "is_company": True,
            "email": "sales@sunrise-channel.example.com",
            "registration_team_id": team.id,
            "is_channel_partner": True,
        }
    )
    portal = (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            {
                "name": "Amy Chen 陈艾米",
                "login": "partner.demo",
                "password": PASSWORD,
                "email": "amy.chen@sunrise-channel.example.com",
                "group_ids": [(6, 0, [env.ref("base.group_portal").id])],
            }
        )
    )
    portal.partner_id.parent_id = reseller
    Lead = env["crm.lead"].with_user(portal)
    deals = []
    for company, vat, domain, budget in (
        ("Greenfield Dental Clinics Ltd", "GB987654301", "greenfield-dental.com", "18000"),
        ("杭州西湖连锁酒店有限公司", "91330100MA27XK0099", "xihu-hotels.cn", "26000"),
    ):
        deals.append(
            Lead._portal_register(
                {
                    "company_name": company,
                    "vat": vat,
                    "contact_name": "Purchasing",
                    "email": "purchasing@%s" % domain,
                    "phone": "+44 20 7946 %04d" % len(deals),
                    "need": "Online booking and patient reminders across every site.",
                    "budget": budget,
                    "date_deadline": (date.today() + timedelta(days=75)).isoformat(),
                    "notes": "Met at the regional trade fair.",
                }
            )
        )
    deals[0].with_user(manager).action_approve()


def story(env):
    env["res.lang"]._activate_lang("zh_CN")
    env["ir.module.module"].search([("state", "=", "installed")])._update_translations(["zh_CN"])
    env.company.write({"registration_claim_cooldown_days": 30, "name": "YourCompany 演示公司"})
    env["crm.stage"].action_load_standard_stages()
    stages = env["crm.stage"].search([("standard_code", "!=", False)], order="sequence")
    by_code = {stage.standard_code: stage for stage in stages}
    # one pipeline: Odoo's demo opportunities move to the standard stages
    for xmlid, code in (
        ("crm.stage_lead1", "A"),
        ("crm.stage_lead2", "B"),
        ("crm.stage_lead3", "C"),
        ("crm.stage_lead4", "F"),
    ):
        stock = env.ref(xmlid, raise_if_not_found=False)
        if stock:
            for table in ("crm_lead", "crm_lead_stage_history"):
                env.cr.execute(
                    "UPDATE %s SET stage_id = %%s WHERE stage_id = %%s" % table,
                    [by_code[code].id, stock.id],
                )
            env.invalidate_all()
            stock.unlink()
    (teams, people) = users(env)
    (east, (zhang, li)), (north, (zhou,)), (intl, (james, sophie)) = teams
    leader = people["Wang Lei 王磊"]
    c = customers(env)

    # registered, with a lock about to expire
    held = lead(env, "云图科技 ERP 升级", c[0], zhang, east, 15000, by_code["A"])
    held.with_user(zhang).action_registration_submit()
    held.registration_id.sudo().write({"protection_end_date": date.today() + timedelta(days=3)})
    held._sync_registration()
    history(env, held, stages[:3], 60)
    # one live conflict: Li Na types the same customer's name as the contact's company
    lead(
        env,
        "云图科技 仓储系统",
        env["res.partner"].create({"name": "周总", "parent_id": c[0].id}),
        li,
        east,
        40000,
        by_code["A"],
    )
    # one pending approval in each band (ordinary, important, major)
    for partner, rep, team, amount, name in (
        (c[1], zhang, east, 35000, "明远物流 运输管理平台"),
        (c[2], zhou, north, 120000, "华信软件 全渠道 CRM"),
        (c[7], james, intl, 450000, "Northwind store roll-out"),
    ):
        record = lead(env, name, partner, rep, team, amount, by_code["A"])
        record.with_user(rep).action_registration_submit()
        history(env, record, stages[:2], 20)
    # approved by the approver, with follow-up
    approved = lead(env, "Riverside Logistics rollout", c[6], sophie, intl, 30000, by_code["A"])
    approved.with_user(sophie).action_registration_submit()
    intl_leader = people["Emma Clark"]
    approved.with_user(intl_leader).action_registration_approve()
    history(env, approved, stages[:4], 50)
    lead(
        env,
        "Riverside Logistics rollout (second rep)",
        c[6],
        james,
        intl,
        25000,
        by_code["A"],
    )
    # rejected, withdrawn
    rejected = lead(env, "前海金融 风控系统", c[3], li, east, 60000, by_code["A"])
    rejected.with_user(li).action_registration_submit()
    rejected.with_user(people["Zhao Min 赵敏"]).action_registration_reject(
        reason="预算未确认，请补充客户预算审批文件"
    )
    withdrawn = lead(env, "Alpine Medical imaging archive", c[8], james, intl, 28000, by_code["A"])
    withdrawn.with_user(james).action_registration_submit()
    withdrawn.registration_id.with_user(james).action_withdraw(reason="Duplicate of a partner deal")
    # the public pool: one released, one expired
    released = lead(env, "天府制造 MES", c[4], zhou, north, 9000, by_code["A"])
    history(env, released, stages[:2], 40)
    released.with_user(zhou).action_registration_submit()
    released.registration_id.with_user(zhou).action_release(reason="客户项目推迟到明年")
    expired = lead(env, "Blue Harbor ordering portal", c[9], sophie, intl, 12000, by_code["A"])
    expired.with_user(sophie).action_registration_submit()
    expired.registration_id.sudo().write({"protection_end_date": date.today() - timedelta(days=1)})
    expired._sync_registration()
    env["crm.lead.registration"]._cron_expire()
    # three months of won and lost deals, with their revenue
    for index, (partner, rep, team, amount, name) in enumerate(
        (
            (c[5], zhang, east, 18000, "园区能源 计量系统"),
            (c[10], sophie, intl, 16000, "Helios Solar field service"),
            (c[11], james, intl, 11000, "Maple Education admissions"),
            (c[5], li, east, 7500, "园区能源 移动巡检"),
        )
    ):
        record = lead(env, name, partner, rep, team, amount, by_code["A"])
        record.with_user(rep).action_registration_submit()
        history(env, record, stages[: 5 + index % 2], 90 - index * 15, won=True)
        # finance books what the customer actually paid, after discount
        record.invalidate_recordset(["date_closed"])
        env["crm.lead.revenue"].sudo().create(
            {
                "lead_id": record.id,
                "date": record.date_closed.date(),
                "amount_currency": amount * 0.95,
                "name": "INV/%s/%04d" % (record.date_closed.year, index + 1),
            }
        )
    for index, (partner, rep, team, amount, name) in enumerate(
        (
            (c[10], james, intl, 14000, "Helios Solar spare parts"),
            (c[11], sophie, intl, 6000, "Maple Education library"),
        )
    ):
        record = lead(env, name, partner, rep, team, amount, by_code["A"])
        history(env, record, stages[: 2 + index], 80 - index * 20, lost=True)
    env["crm.lead.stage.history"].sudo().flush_model()
    channel(env, intl, people["Emma Clark"])
    # the forecasts stored at each month's start, and their accuracy
    Snapshot = env["crm.forecast.snapshot"].sudo()
    this_month = date.today().replace(day=1)
    for months_ago in (3, 2, 1, 0, -1):
        Snapshot._store_month(this_month - relativedelta(months=months_ago))
    leader.lang = "en_US"
    env["ir.config_parameter"].sudo().set_param(MARKER, "1")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    with environment(args.db) as env:
        if env["ir.config_parameter"].sudo().get_param(MARKER):
            print("[demo] the story is already loaded")
            return
        story(env)
        print("[demo] loaded: 3 teams, %d customers, registrations in every state" % len(CUSTOMERS))


if __name__ == "__main__":
    main()
