#!/usr/bin/env python3
"""Fill a database with a realistic CRM at scale, with set-based SQL.

    .venv/bin/python benchmarks/generate.py --db opportunity_registration_bench

Steps (each timed):

1. a fresh database with stock ``crm`` installed through Odoo;
2. with set-based SQL (``INSERT ... SELECT generate_series``): 50 sales teams
   (through the ORM: they own mail aliases), 1,000 salespersons (a template
   user made by the ORM, copied in SQL with its groups), 50,000 customer
   companies with Chinese and Latin names (legal suffixes, branches and
   bracketed regions included, so that normalization matters), 160,000
   prospects known only by the company name typed on their opportunity, and
   1,000,000 opportunities over 24 months (about 25 % won, 37 % lost and
   archived, the rest open) with every stored field stock ``crm`` computes
   filled coherently (won status, probability, prorated revenue, e-mail
   domain criterion, sanitized phone, dates...);
3. ``-i opportunity_registration`` on that database, timed: the module's
   install on a million opportunities (the figure ``bench_conflict.py``
   reports); it is kept in ``ir_config_parameter``
   ``opportunity_registration.bench_install_seconds``; then the stage history
   of those opportunities, as the scheduled action the install triggers fills
   it (batches of id ranges), timed too;
4. the module's data in SQL: ``customer_key`` checked against the module's own
   ``normalize_company_name`` (computed once per distinct name in Python),
   about 100,000 active registrations (``approved``/``submitted``, one per
   customer key as the partial unique index demands) plus closed ones, and the
   opportunities' mirror columns;
5. ``ANALYZE``.

Why 210,000 customer keys for 100,000 active locks: the partial unique index
allows one active registration per customer key and company, so 100,000
locks need more than 50,000 customers. The 50,000 companies carry 85 % of the
opportunities with the skew of BASELINE.md (median about 13 per company,
largest about 3,400); the prospects carry one opportunity each.
"""

import argparse
import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import BENCH_DB, MODULE, db_exists, environment, load_identity, run_odoo, say

normalize_company_name = load_identity().normalize_company_name

SEED = 20260101

# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------

CN_REGIONS = "北京 上海 深圳 广州 杭州 南京 苏州 成都 武汉 西安 天津 重庆 青岛 厦门 宁波 长沙 郑州 合肥 济南 大连".split()
CN_BRAND = [
    ("华", "hua"),
    ("中", "zhong"),
    ("天", "tian"),
    ("新", "xin"),
    ("恒", "heng"),
    ("泰", "tai"),
    ("瑞", "rui"),
    ("博", "bo"),
    ("达", "da"),
    ("鑫", "xin"),
    ("盛", "sheng"),
    ("宏", "hong"),
    ("金", "jin"),
    ("隆", "long"),
    ("兴", "xing"),
    ("信", "xin"),
    ("安", "an"),
    ("康", "kang"),
    ("捷", "jie"),
    ("通", "tong"),
    ("远", "yuan"),
    ("航", "hang"),
    ("星", "xing"),
    ("辰", "chen"),
    ("海", "hai"),
    ("峰", "feng"),
    ("丰", "feng"),
    ("源", "yuan"),
    ("汇", "hui"),
    ("创", "chuang"),
    ("智", "zhi"),
    ("联", "lian"),
    ("科", "ke"),
    ("云", "yun"),
    ("正", "zheng"),
    ("明", "ming"),
    ("德", "de"),
    ("嘉", "jia"),
    ("和", "he"),
    ("润", "run"),
    ("东", "dong"),
    ("方", "fang"),
    ("宇", "yu"),
    ("晨", "chen"),
    ("光", "guang"),
    ("锦", "jin"),
    ("誉", "yu"),
    ("凯", "kai"),
    ("腾", "teng"),
    ("亿", "yi"),
    ("万", "wan"),
    ("佳", "jia"),
    ("力", "li"),
    ("能", "neng"),
    ("威", "wei"),
    ("卓", "zhuo"),
    ("越", "yue"),
    ("银", "yin"),
    ("龙", "long"),
    ("鹏", "peng"),
    ("永", "yong"),
    ("顺", "shun"),
    ("百", "bai"),
    ("合", "he"),
    ("立", "li"),
    ("弘", "hong"),
    ("易", "yi"),
    ("维", "wei"),
    ("迅", "xun"),
    ("朗", "lang"),
]
CN_INDUSTRIES = [
    ("科技", "tech"),
    ("网络科技", "net"),
    ("信息技术", "it"),
    ("电子", "elec"),
    ("智能科技", "ai"),
    ("软件", "soft"),
    ("机械", "mach"),
    ("贸易", "trade"),
    ("生物医药", "bio"),
    ("新能源", "energy"),
    ("物流", "logistics"),
    ("建设工程", "build"),
    ("食品", "food"),
    ("文化传媒", "media"),
    ("教育科技", "edu"),
    ("环保科技", "eco"),
    ("汽车零部件", "auto"),
    ("医疗器械", "med"),
    ("精密制造", "precision"),
    ("数据服务", "data"),
    ("供应链管理", "scm"),
    ("化工", "chem"),
    ("新材料", "material"),
    ("投资", "invest"),
    ("咨询", "consult"),
    ("商贸", "commerce"),
    ("实业", "industry"),
    ("电气", "electric"),
    ("通信技术", "telecom"),
    ("光电", "opto"),
]
CN_FORMS = (
    ["有限公司"] * 8
    + ["股份有限公司"] * 3
    + ["有限责任公司"] * 3
    + ["集团有限公司", "集团股份有限公司"]
)
LATIN_A = "Nor Vel Tri Alp Zen Quan Mar Sol Lum Ver Ast Cor Dyn Hel Kin Nex Orb Pol Rad Syn Tec Ult Vor Xen Bri Cal Del Eco Fal Gal".split()
LATIN_B = "ex ia on ar is um ix a os ent ica ora tek gen max via".split()
LATIN_SECOND = [
    "",
    "",
    "",
    "Blue",
    "North",
    "Pacific",
    "Global",
    "United",
    "First",
    "Green",
    "Silver",
    "Summit",
    "Pioneer",
    "Atlas",
    "Delta",
    "Apex",
    "Harbor",
    "Crown",
    "Eagle",
    "River",
]
LATIN_INDUSTRIES = [
    "Technologies",
    "Systems",
    "Logistics",
    "Foods",
    "Pharma",
    "Energy",
    "Solutions",
    "Industries",
    "Electronics",
    "Consulting",
    "Software",
    "Materials",
    "Robotics",
    "Networks",
    "Capital",
    "Trading",
    "Motors",
    "Instruments",
    "Analytics",
    "Medical",
]
LATIN_FORMS = [
    "Co., Ltd.",
    "Inc.",
    "GmbH",
    "LLC",
    "S.A.",
    "Ltd",
    "Corporation",
    "PLC",
    "B.V.",
    "AG",
    "Pte. Ltd.",
    "S.p.A.",
    "SARL",
    "Limited",
    "Corp.",
    "N.V.",
]
LATIN_REGIONS = ["Shanghai", "Beijing", "China", "Shenzhen", "Asia Pacific"]
TLDS_CN = [".com.cn", ".cn", ".com"]
TLDS_LATIN = [".com", ".de", ".fr", ".co.uk", ".com", ".io", ".net", ".sg"]
SURNAMES = "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗".split()
SURNAMES_PY = (
    "wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo".split()
)
GIVEN = (
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 华 平 刚 桂英 建华 志强 晓明".split()
)
FIRST_LATIN = "James Mary Robert Anna Thomas Laura Daniel Sophie Lukas Emma Paul Julia Marc Nina Peter Clara".split()
LAST_LATIN = "Smith Müller Martin Garcia Rossi Dubois Schmidt Brown Jensen Novak Weber Moreau Costa Walsh".split()
PROJECTS = [
    "ERP 实施",
    "CRM 升级",
    "云服务器采购",
    "数据中心扩容",
    "安全审计",
    "年度维保",
    "办公设备采购",
    "ERP rollout",
    "Fleet renewal",
    "Cloud migration",
    "Support contract",
    "Licence renewal",
    "Factory automation",
    "Data platform",
    "Network upgrade",
]
FREE_MAIL = ["qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "foxmail.com", "sina.com"]


def company_names(rng, count, taken):
    """``count`` companies: (name, key, domain, is_chinese), keys all new."""
    result = []
    domains = set()
    while len(result) < count:
        if rng.random() < 0.6:
            (c1, p1), (c2, p2) = rng.sample(CN_BRAND, 2)
            industry, industry_py = rng.choice(CN_INDUSTRIES)
            form = rng.choice(CN_FORMS)
            region = rng.choice(CN_REGIONS)
            pattern = rng.random()
            if pattern < 0.45:
                name = region + c1 + c2 + industry + form
            elif pattern < 0.75:
                name = c1 + c2 + industry + "（%s）" % region + form
            else:
                name = c1 + c2 + industry + form
            slug = p1 + p2 + industry_py
            tlds, chinese = TLDS_CN, True
        else:
            brand = rng.choice(LATIN_A) + rng.choice(LATIN_B)
            second = rng.choice(LATIN_SECOND)
            industry = rng.choice(LATIN_INDUSTRIES)
            form = rng.choice(LATIN_FORMS)
            words = [brand] + ([second] if second else []) + [industry]
            if rng.random() < 0.15:
                words.append("(%s)" % rng.choice(LATIN_REGIONS))
            name = (
                " ".join(words)
                + (", " if form.startswith("Co") and rng.random() < 0.3 else " ")
                + form
            )
            slug = (brand + second).lower()
            tlds, chinese = TLDS_LATIN, False
        key = normalize_company_name(name)
        if not key or key in taken:
            continue
        domain = slug + rng.choice(tlds)
        n = 2
        while domain in domains:
            domain = "%s%d%s" % (slug, n, rng.choice(tlds))
            n += 1
        domains.add(domain)
        taken.add(key)
        result.append((name, key, domain, chinese))
    return result


def variant_of(rng, name, chinese):
    """Another spelling of the same customer: a branch or a bracketed region."""
    if chinese:
        if rng.random() < 0.5:
            return name + rng.choice(CN_REGIONS) + "分公司"
        return name.replace("（", "(").replace("）", ")")
    if rng.random() < 0.5:
        return name + " " + rng.choice(["Shanghai", "Beijing", "Shenzhen"]) + " Branch"
    return name.upper().replace(",", "").replace(".", "")


def person_name(rng, chinese):
    if chinese:
        i = rng.randrange(len(SURNAMES))
        return SURNAMES[i] + rng.choice(GIVEN), SURNAMES_PY[i]
    first, last = rng.choice(FIRST_LATIN), rng.choice(LAST_LATIN)
    return "%s %s" % (first, last), first.lower()


# ---------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------


def timed(label, timings):
    class Timer:
        def __enter__(self):
            say(label + " ...")
            self.start = time.perf_counter()

        def __exit__(self, *exc):
            elapsed = time.perf_counter() - self.start
            timings.append((label, elapsed))
            if not exc[0]:
                say("%s: %.1f s" % (label, elapsed))

    return Timer()


def sql(cr, query, params=None):
    """Run a plain query; ``%%`` always means ``%`` (params are always given)."""
    cr.execute(query, params if params is not None else {})


def insert_values(cr, table, columns, rows, chunk=5000):
    from odoo.tools import SQL

    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        cr.execute(
            SQL(
                "INSERT INTO %s (%s) VALUES %s",
                SQL.identifier(table),
                SQL(", ").join(SQL.identifier(c) for c in columns),
                SQL(", ").join(
                    SQL("(%s)", SQL(", ").join(SQL("%s", v) for v in row)) for row in part
                ),
            )
        )


def create_teams_and_users(env, args, rng):
    cr = env.cr
    company = env.ref("base.main_company")
    salesman = env.ref("sales_team.group_sale_salesman")
    teams = env["crm.team"].create(
        [
            {
                "name": "%s %d"
                % (rng.choice(["华东", "华南", "华北", "West", "North", "Key Accounts"]), i + 1),
                "company_id": company.id,
                "use_opportunities": True,
                "use_leads": False,
            }
            for i in range(args.teams)
        ]
    )
    template = (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            {
                "name": "Bench Template Rep",
                "login": "bench.template@example.com",
                "group_ids": [(6, 0, salesman.ids)],
                "company_id": company.id,
                "company_ids": [(6, 0, company.ids)],
            }
        )
    )
    env.flush_all()
    users = []
    for i in range(args.users):
        chinese = rng.random() < 0.7
        name, slug = person_name(rng, chinese)
        users.append((name, "rep%04d@bench.example.com" % (i + 1)))
    sql(
        cr,
        "CREATE TEMP TABLE bench_user (n int, name varchar, login varchar, partner_id int, user_id int)",
    )
    insert_values(
        cr, "bench_user", ["n", "name", "login"], [(i, u[0], u[1]) for i, u in enumerate(users)]
    )
    sql(
        cr,
        """
        WITH p AS (
            INSERT INTO res_partner (name, complete_name, email, email_normalized, active, type, is_company,
                                     partner_share, company_id, lang, tz, create_date, write_date,
                                     create_uid, write_uid, ref)
            SELECT name, name, login, login, true, 'contact', false, false, %(company)s, 'en_US',
                   'Asia/Shanghai', now(), now(), 1, 1, 'bench-user-' || n
              FROM bench_user
            RETURNING id, ref)
        UPDATE bench_user b SET partner_id = p.id FROM p WHERE p.ref = 'bench-user-' || b.n
    """,
        {"company": company.id},
    )
    sql(cr, "UPDATE res_partner SET commercial_partner_id = id WHERE ref LIKE 'bench-user-%%'")
    sql(
        cr,
        """
        WITH u AS (
            INSERT INTO res_users (login, partner_id, company_id, active, share, notification_type,
                                   create_date, write_date, create_uid, write_uid, password)
            SELECT b.login, b.partner_id, %(company)s, true, false, t.notification_type, now(), now(), 1, 1,
                   t.password
              FROM bench_user b, res_users t WHERE t.id = %(template)s
            RETURNING id, login)
        UPDATE bench_user b SET user_id = u.id FROM u WHERE u.login = b.login
    """,
        {"company": company.id, "template": template.id},
    )
    sql(
        cr,
        """
        INSERT INTO res_groups_users_rel (uid, gid)
        SELECT b.user_id, r.gid FROM bench_user b, res_groups_users_rel r WHERE r.uid = %(template)s;
        INSERT INTO res_company_users_rel (user_id, cid)
        SELECT b.user_id, r.cid FROM bench_user b, res_company_users_rel r WHERE r.user_id = %(template)s;
    """,
        {"template": template.id},
    )
    # 20 members per team; the first one leads it.
    per_team = max(1, args.users // args.teams)
    sql(cr, "CREATE TEMP TABLE bench_team (k int, team_id int)")
    insert_values(cr, "bench_team", ["k", "team_id"], list(enumerate(teams.ids)))
    sql(
        cr,
        """
        INSERT INTO crm_team_member (crm_team_id, user_id, active, create_date, write_date, create_uid, write_uid,
                                     assignment_max, assignment_optout)
        SELECT t.team_id, b.user_id, true, now(), now(), 1, 1, 30, false
          FROM bench_user b JOIN bench_team t ON t.k = b.n / %(per_team)s;
        UPDATE res_users u SET sale_team_id = t.team_id
          FROM bench_user b JOIN bench_team t ON t.k = b.n / %(per_team)s WHERE u.id = b.user_id;
        UPDATE crm_team c SET user_id = b.user_id
          FROM bench_user b JOIN bench_team t ON t.k = b.n / %(per_team)s
         WHERE c.id = t.team_id AND b.n %% %(per_team)s = 0;
    """,
        {"per_team": per_team},
    )
    env.invalidate_all()
    return company


def create_customers(env, args, rng, company):
    cr = env.cr
    taken = set()
    n_base = args.companies - args.companies // 50
    base = company_names(rng, n_base, taken)
    customers = list(base)
    # 2 % of the companies are a second partner record of another one (a branch, another spelling).
    for _ in range(args.companies - n_base):
        name, key, domain, chinese = rng.choice(base[:5000])
        variant = variant_of(rng, name, chinese)
        vkey = normalize_company_name(variant)
        customers.append((variant, vkey, domain, chinese))
    rng.shuffle(customers)
    prospects = company_names(rng, args.prospects, taken)
    cn = env.ref("base.cn").id
    countries = [env.ref("base.%s" % c).id for c in ("de", "fr", "us", "sg", "uk")]
    rows = []
    for i, (name, key, domain, chinese) in enumerate(customers):
        vat = (
            (
                "91%06d%09d%d" % (110000 + i % 890000, rng.randrange(10**9), rng.randrange(10))
                if chinese
                else "DE%09d" % rng.randrange(10**9)
            )
            if rng.random() < 0.7
            else None
        )
        rows.append(
            (
                i,
                name,
                key,
                domain,
                chinese,
                vat,
                cn if chinese else rng.choice(countries),
                "+86 10 %04d %04d" % (rng.randrange(10000), rng.randrange(10000))
                if chinese
                else "+49 30 %07d" % rng.randrange(10**7),
            )
        )
    sql(
        cr,
        """CREATE TEMP TABLE bench_customer (
        idx int PRIMARY KEY, name varchar, key varchar, domain varchar, chinese boolean, vat varchar,
        country_id int, phone varchar, partner_id int)""",
    )
    insert_values(
        cr,
        "bench_customer",
        ["idx", "name", "key", "domain", "chinese", "vat", "country_id", "phone"],
        rows,
    )
    sql(
        cr,
        """
        WITH p AS (
            INSERT INTO res_partner (name, complete_name, is_company, type, active, vat, country_id, phone,
                                     phone_sanitized, email, email_normalized, website, company_id, lang, tz,
                                     partner_share, create_date, write_date, create_uid, write_uid, ref)
            SELECT name, name, true, 'contact', true, vat, country_id, phone,
                   regexp_replace(phone, '\\s', '', 'g'), 'info@' || domain, 'info@' || domain,
                   'https://www.' || domain, NULL, 'en_US',
                   'Asia/Shanghai', true, now() - interval '800 days', now(), 1, 1, 'bench-co-' || idx
              FROM bench_customer
            RETURNING id, ref)
        UPDATE bench_customer c SET partner_id = p.id FROM p WHERE p.ref = 'bench-co-' || c.idx
    """,
    )
    sql(
        cr,
        "UPDATE res_partner SET commercial_partner_id = id, commercial_company_name = name "
        "WHERE ref LIKE 'bench-co-%%'",
    )
    rows = [
        (i, name, key, domain, chinese) for i, (name, key, domain, chinese) in enumerate(prospects)
    ]
    sql(
        cr,
        "CREATE TEMP TABLE bench_prospect (idx int PRIMARY KEY, name varchar, key varchar, "
        "domain varchar, chinese boolean)",
    )
    insert_values(cr, "bench_prospect", ["idx", "name", "key", "domain", "chinese"], rows)
    # Contact names, picked by index in SQL.
    people = [person_name(rng, i % 10 < 7) for i in range(997)]
    sql(cr, "CREATE TEMP TABLE bench_person (idx int PRIMARY KEY, name varchar, slug varchar)")
    insert_values(
        cr, "bench_person", ["idx", "name", "slug"], [(i, n, s) for i, (n, s) in enumerate(people)]
    )
    sql(
        cr,
        "CREATE TEMP TABLE bench_text (kind varchar, idx int, value varchar, PRIMARY KEY (kind, idx))",
    )
    insert_values(
        cr,
        "bench_text",
        ["kind", "idx", "value"],
        [("project", i, p) for i, p in enumerate(PROJECTS)]
        + [("freemail", i, d) for i, d in enumerate(FREE_MAIL)],
    )
    sql(
        cr,
        "ANALYZE bench_customer; ANALYZE bench_prospect; ANALYZE bench_person; ANALYZE bench_text",
    )


def drop_lead_indexes(cr):
    """Drop crm_lead's secondary indexes before the bulk insert; return their DDL."""
    sql(
        cr,
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
          FROM pg_index i
         WHERE i.indrelid = 'crm_lead'::regclass AND NOT i.indisprimary
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    """,
    )
    indexes = cr.fetchall()
    for name, _ddl in indexes:
        cr.execute('DROP INDEX "%s"' % name.strip('"'))
    return [ddl for _name, ddl in indexes]


def create_leads(env, args, company):
    cr = env.cr
    sql(cr, "SELECT id FROM crm_stage WHERE NOT is_won OR is_won IS NULL ORDER BY sequence, id")
    open_stages = [r[0] for r in cr.fetchall()]
    sql(cr, "SELECT id FROM crm_stage WHERE is_won ORDER BY sequence, id LIMIT 1")
    won_stage = cr.fetchone()[0]
    sql(cr, "SELECT array_agg(id ORDER BY id) FROM crm_lost_reason")
    lost_reasons = cr.fetchone()[0]
    from odoo.addons.iap.tools.iap_tools import _MAIL_DOMAIN_BLACKLIST

    sql(cr, "CREATE TEMP TABLE bench_blacklist (domain varchar PRIMARY KEY)")
    insert_values(cr, "bench_blacklist", ["domain"], [(d,) for d in sorted(_MAIL_DOMAIN_BLACKLIST)])
    ddl = drop_lead_indexes(cr)
    n_company_leads = args.leads - args.prospects
    sql(cr, "SELECT setseed(0.42)")
    # One row per opportunity: the random draws first, everything else derived from them.
    sql(
        cr,
        """
        CREATE TEMP TABLE bench_draw AS
        SELECT g AS n,
               CASE WHEN g <= %(n_company)s
                    THEN least(floor(%(companies)s * power(random(), %(skew)s))::int, %(companies)s - 1) END AS cidx,
               CASE WHEN g > %(n_company)s THEN g - %(n_company)s - 1 END AS pidx,
               floor(random() * %(users)s)::int AS uidx,
               random() AS r_outcome, random() AS r_stage, random() AS r_amount, random() AS r_date,
               random() AS r_mail, random() AS r_misc, floor(random() * 997)::int AS person,
               floor(random() * 5)::int AS contact
          FROM generate_series(1, %(leads)s) g
    """,
        {
            "n_company": n_company_leads,
            "companies": args.companies,
            "skew": args.skew,
            "users": args.users,
            "leads": args.leads,
        },
    )
    sql(
        cr,
        """
        CREATE TEMP TABLE bench_lead AS
        SELECT d.*, c.partner_id,
               coalesce(c.name, p.name) AS company_name, coalesce(c.domain, p.domain) AS domain,
               coalesce(c.chinese, p.chinese) AS chinese, c.country_id,
               b.user_id, t.team_id, pe.name AS contact_name, pe.slug AS contact_slug,
               CASE WHEN d.r_outcome < 0.25 THEN 'won' WHEN d.r_outcome < 0.62 THEN 'lost' ELSE 'pending' END AS outcome,
               now() - (d.r_date * interval '730 days') AS created,
               round((5000 + power(d.r_amount, 3) * 495000)::numeric, -2) AS amount
          FROM bench_draw d
          LEFT JOIN bench_customer c ON c.idx = d.cidx
          LEFT JOIN bench_prospect p ON p.idx = d.pidx
          JOIN bench_user b ON b.n = d.uidx
          JOIN bench_team t ON t.k = b.n / %(per_team)s
          JOIN bench_person pe ON pe.idx = d.person
    """,
        {"per_team": max(1, args.users // args.teams)},
    )
    n_open = len(open_stages)
    sql(
        cr,
        """
        INSERT INTO crm_lead (
            name, type, active, company_id, user_id, team_id, stage_id, partner_id, partner_name,
            contact_name, email_from, email_normalized, email_domain_criterion, email_state,
            phone, phone_sanitized, phone_state, country_id, city, lang_id, priority, color,
            won_status, probability, automated_probability, expected_revenue, prorated_revenue,
            recurring_revenue, recurring_revenue_monthly, recurring_revenue_monthly_prorated,
            recurring_revenue_prorated, date_deadline, date_open, day_open, date_closed, day_close,
            date_last_stage_update, date_conversion, lost_reason_id, description,
            create_date, write_date, create_uid, write_uid)
        SELECT
            company_name || ' - ' || pj.value, 'opportunity', outcome <> 'lost', %(company)s, user_id, team_id,
            CASE WHEN outcome = 'won' THEN %(won_stage)s
                 ELSE (%(open_stages)s::int[])[1 + floor(r_stage * %(n_open)s)::int] END,
            partner_id, company_name, contact_name,
            email, lower(email),
            CASE WHEN bl.domain IS NULL THEN '@' || split_part(lower(email), '@', 2) ELSE lower(email) END,
            'correct', phone, regexp_replace(phone, '\\s', '', 'g'), 'correct',
            country_id, NULL, NULL, (floor(r_misc * 4))::int::varchar, 0,
            outcome,
            prob, prob, amount, round(amount * prob::numeric / 100, 2),
            0, 0, 0, 0,
            (created + interval '30 days' + r_amount * interval '120 days')::date,
            created, 0,
            CASE WHEN outcome <> 'pending' THEN created + r_stage * interval '60 days' END,
            CASE WHEN outcome <> 'pending' THEN round((r_stage * 60)::numeric, 2) END,
            created + r_stage * interval '20 days', created,
            CASE WHEN outcome = 'lost' THEN (%(lost_reasons)s::int[])[1 + floor(r_misc * %(n_lost)s)::int] END,
            NULL,
            created, created + r_stage * interval '20 days', user_id, user_id
        FROM (
            SELECT l.*,
                   CASE WHEN outcome = 'won' THEN 100.0 WHEN outcome = 'lost' THEN 0.0
                        ELSE (ARRAY[10.0, 30.0, 60.0, 80.0, 90.0])[1 + floor(r_stage * %(n_open)s)::int] END AS prob,
                   CASE WHEN r_mail < 0.75 THEN contact_slug || '.' || (n %% 97) || '@' || domain
                        ELSE contact_slug || (n %% 9973) || '@' || fm.value END AS email,
                   CASE WHEN chinese THEN '+86 ' || (ARRAY['130', '131', '132', '133', '135', '136', '137', '138',
                                                           '139', '150', '151', '152', '155', '156', '158', '159',
                                                           '186', '188'])[1 + (coalesce(cidx, pidx)::bigint * 7 + contact) %% 18]
                                          || ' ' || lpad(((coalesce(cidx, pidx)::bigint * 5 + contact) * 7919 %% 10000)::text, 4, '0')
                                          || ' ' || lpad(((coalesce(cidx, pidx)::bigint * 13 + contact * 31) %% 10000)::text, 4, '0')
                        ELSE '+49 151 ' || lpad(((coalesce(cidx, pidx)::bigint * 7919 + contact * 104729) %% 100000000)::text, 8, '0')
                   END AS phone
              FROM bench_lead l
              JOIN bench_text fm ON fm.kind = 'freemail' AND fm.idx = l.n %% %(n_free)s
        ) l
        JOIN bench_text pj ON pj.kind = 'project' AND pj.idx = l.n %% %(n_projects)s
        LEFT JOIN bench_blacklist bl ON bl.domain = split_part(lower(email), '@', 2)
        ORDER BY n
    """,
        {
            "company": company.id,
            "won_stage": won_stage,
            "open_stages": open_stages,
            "n_open": n_open,
            "lost_reasons": lost_reasons,
            "n_lost": len(lost_reasons),
            "n_free": len(FREE_MAIL),
            "n_projects": len(PROJECTS),
        },
    )
    return ddl


def create_followers(env):
    """Each opportunity followed by its salesperson with crm's default subtypes,
    as Odoo's auto-subscription leaves it (mail_followers is not empty in a real CRM)."""
    subtypes = env["mail.message.subtype"].default_subtypes("crm.lead")[0].ids
    sql(
        env.cr,
        """
        INSERT INTO mail_followers (res_model, res_id, partner_id)
        SELECT 'crm.lead', l.id, u.partner_id
          FROM crm_lead l JOIN res_users u ON u.id = l.user_id
        ON CONFLICT DO NOTHING
    """,
    )
    sql(
        env.cr,
        """
        INSERT INTO mail_followers_mail_message_subtype_rel (mail_followers_id, mail_message_subtype_id)
        SELECT f.id, s FROM mail_followers f, unnest(%(subtypes)s) s
         WHERE f.res_model = 'crm.lead'
        ON CONFLICT DO NOTHING
    """,
        {"subtypes": subtypes},
    )


def recreate_indexes(cr, ddl):
    for statement in ddl:
        cr.execute(statement)


def fill_module_data(env, args):
    cr = env.cr
    # customer_key: the module's own function, once per distinct name.
    sql(
        cr,
        """
        SELECT DISTINCT name FROM (
            SELECT partner_name AS name FROM crm_lead WHERE partner_name IS NOT NULL
            UNION SELECT name FROM res_partner WHERE is_company) n
    """,
    )
    pairs = [(name, normalize_company_name(name) or None) for (name,) in cr.fetchall()]
    sql(cr, "CREATE TEMP TABLE bench_name_key (name varchar PRIMARY KEY, key varchar)")
    insert_values(cr, "bench_name_key", ["name", "key"], pairs, chunk=10000)
    sql(
        cr,
        """
        UPDATE crm_lead l SET customer_key = k.key
          FROM bench_name_key k
         WHERE k.name = l.partner_name AND l.customer_key IS DISTINCT FROM k.key
    """,
    )
    say(
        "customer_key: %d opportunities differed from the install hook's value and were set"
        % cr.rowcount
    )
    # A third of the opportunities are valid (need + key person + budget). Only the
    # rows that change are written: every full-table UPDATE of crm_lead costs
    # minutes at this size (no HOT update with some thirty indexes).
    sql(
        cr,
        """
        UPDATE crm_lead SET need_description = '需求：' || name, key_person_identified = true,
               key_person_name = contact_name, is_valid_opportunity = expected_revenue > 0
         WHERE id %% 10 < 3
    """,
    )
    # Registrations: one active per customer key, on its latest non-lost opportunity.
    sql(
        cr,
        """
        CREATE TEMP TABLE bench_key AS
        SELECT customer_key AS key, bool_or(partner_id IS NOT NULL) AS has_partner, count(*) AS n
          FROM crm_lead WHERE customer_key IS NOT NULL AND won_status <> 'lost'
         GROUP BY customer_key
    """,
    )
    sql(
        cr,
        """
        CREATE TEMP TABLE bench_reg_key AS
        SELECT key FROM (
            SELECT key, row_number() OVER (ORDER BY n DESC) AS rank_size,
                   abs(hashtext(key)) %% 100 AS h, has_partner FROM bench_key) k
         WHERE (has_partner AND (rank_size <= 100 OR h < 45)) OR NOT has_partner
         ORDER BY has_partner DESC, rank_size <= 100 DESC, h
         LIMIT %(n)s
    """,
        {"n": args.registrations},
    )
    sql(
        cr,
        """
        CREATE TEMP TABLE bench_reg AS
        SELECT DISTINCT ON (l.customer_key)
               l.id AS lead_id, l.customer_key, l.user_id, l.team_id, l.partner_id, l.partner_name,
               l.expected_revenue AS amount, l.won_status,
               greatest(l.create_date, now() - ((abs(hashtext(l.customer_key)) %% 10000) / 10000.0) * interval '100 days')
                   AS submitted
          FROM crm_lead l JOIN bench_reg_key k ON k.key = l.customer_key
         WHERE l.won_status <> 'lost'
         ORDER BY l.customer_key, (l.won_status = 'pending') DESC, l.id DESC
    """,
    )
    sql(
        cr,
        """
        INSERT INTO crm_lead_registration (
            name, lead_id, company_id, user_id, team_id, partner_id, submitted_by_id, approved_by_id,
            state, customer_name, customer_key, amount, band, date_submitted, date_approved,
            protection_end_date, validation_status, create_date, write_date, create_uid, write_uid)
        SELECT 'REG/B/' || lpad(row_number() OVER (ORDER BY r.submitted, r.lead_id)::text, 6, '0'),
               r.lead_id, c.id, r.user_id, r.team_id, r.partner_id, r.user_id,
               CASE WHEN r.state = 'approved' AND r.band <> 'small' THEN %(approver)s END,
               r.state, r.partner_name, r.customer_key, r.amount, r.band, r.submitted,
               CASE WHEN r.state = 'approved' THEN r.submitted + interval '1 day' END,
               CASE WHEN r.state = 'approved' THEN (r.submitted + interval '1 day')::date
                                                   + c.registration_protection_days END,
               CASE WHEN r.state = 'approved' AND r.band <> 'small' THEN 'validated'
                    WHEN r.state = 'submitted' THEN 'pending' ELSE 'no' END,
               r.submitted, r.submitted, r.user_id, r.user_id
          FROM (
            SELECT r.*, b.band,
                   CASE WHEN b.band <> 'small' AND won_status = 'pending' AND abs(hashtext(customer_key)) %% 100 < 25
                        THEN 'submitted' ELSE 'approved' END AS state
              FROM bench_reg r,
                   LATERAL (SELECT code AS band FROM crm_lead_registration_band bd
                             WHERE bd.company_id = %(company)s AND bd.lower_bound <= r.amount
                             ORDER BY bd.lower_bound DESC LIMIT 1) b) r,
               res_company c
         WHERE c.id = %(company)s
    """,
        {"company": env.ref("base.main_company").id, "approver": env.ref("base.user_admin").id},
    )
    say("%d active registrations" % cr.rowcount)
    # Closed registrations (history): on lost opportunities of other customers.
    sql(
        cr,
        """
        INSERT INTO crm_lead_registration (
            name, lead_id, company_id, user_id, team_id, partner_id, submitted_by_id, state,
            customer_name, customer_key, amount, band, date_submitted, date_approved, date_closed,
            validation_status, close_reason, create_date, write_date, create_uid, write_uid)
        SELECT 'REG/H/' || lpad(row_number() OVER (ORDER BY l.id)::text, 6, '0'),
               l.id, l.company_id, l.user_id, l.team_id, l.partner_id, l.user_id,
               (ARRAY['expired', 'released', 'withdrawn', 'rejected'])[1 + l.id %% 4],
               l.partner_name, l.customer_key, l.expected_revenue, 'small', l.create_date,
               CASE WHEN l.id %% 4 < 2 THEN l.create_date + interval '1 day' END, l.date_closed, 'no',
               NULL, l.create_date, l.date_closed, l.user_id, l.user_id
          FROM crm_lead l
         WHERE l.won_status = 'lost' AND l.customer_key IS NOT NULL AND l.id %% 12 = 0
         LIMIT %(n)s
    """,
        {"n": args.registrations * 3 // 10},
    )
    say("%d closed registrations" % cr.rowcount)
    sql(
        cr,
        """
        UPDATE crm_lead_registration r SET user_name = p.name
          FROM res_users u JOIN res_partner p ON p.id = u.partner_id
         WHERE u.id = r.user_id
    """,
    )
    # Mirror the current registration on each opportunity (one per opportunity here:
    # active ones on won or open opportunities, closed ones on lost opportunities).
    sql(
        cr,
        """
        UPDATE crm_lead l SET registration_id = r.id, registration_state = r.state,
               registration_number = r.name,
               protection_end_date = CASE WHEN r.state = 'approved' THEN r.protection_end_date END,
               need_description = coalesce(l.need_description, '需求：' || l.name),
               is_valid_opportunity = (coalesce(l.key_person_identified, false) AND l.expected_revenue > 0)
          FROM crm_lead_registration r WHERE r.lead_id = l.id
    """,
    )
    # The per-company sequence continues after the generated numbers.
    sql(
        cr,
        "SELECT setval(pg_get_serial_sequence('crm_lead_registration', 'id'), "
        "(SELECT max(id) FROM crm_lead_registration))",
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=BENCH_DB)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=50_000)
    parser.add_argument("--prospects", type=int, default=160_000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument("--registrations", type=int, default=100_000)
    parser.add_argument(
        "--skew",
        type=float,
        default=1.96,
        help="company of an opportunity = floor(companies * random() ** skew)",
    )
    parser.add_argument(
        "--crm-template",
        help="copy this database (crm installed, nothing else) "
        "instead of installing crm: a shortcut while developing",
    )
    parser.add_argument(
        "--module-data-only",
        action="store_true",
        help="resume after the module's install: registrations, mirror columns, VACUUM",
    )
    parser.add_argument(
        "--install-seconds", type=float, help="with --module-data-only: the install time"
    )
    parser.add_argument("--force", action="store_true", help="drop the database first if it exists")
    args = parser.parse_args()
    if not (args.db.startswith(BENCH_DB) or re.match(r"wt(?:\d+[a-z]?|_[a-z]+)_", args.db)):
        parser.error("the database must start with %s, wtNN_ (wtNNx_) or wt_NAME_" % BENCH_DB)
    timings = []
    total = time.perf_counter()
    if db_exists(args.db) and not args.module_data_only:
        if not args.force:
            parser.error("database %s exists: pass --force to drop and rebuild it" % args.db)
        subprocess.run(["dropdb", "-h", "127.0.0.1", args.db], check=True)
    rng = random.Random(SEED)
    if args.module_data_only:
        return finish(args, timings, total, args.install_seconds)
    with timed("create the database with crm (Odoo -i crm)", timings):
        if args.crm_template:  # development shortcut: a copy of a database with crm only
            subprocess.run(
                ["createdb", "-h", "127.0.0.1", "-T", args.crm_template, args.db], check=True
            )
        else:
            run_odoo("-d", args.db, "-i", "crm", "--stop-after-init", "--log-level=warn")
    with environment(args.db) as env:
        sql(
            env.cr,
            "SET synchronous_commit = off; SET maintenance_work_mem = '1GB'; SET work_mem = '256MB'",
        )
        with timed("teams and users", timings):
            company = create_teams_and_users(env, args, rng)
        with timed("customers (names normalized in Python)", timings):
            create_customers(env, args, rng, company)
        with timed("opportunities (INSERT ... SELECT generate_series)", timings):
            ddl = create_leads(env, args, company)
        with timed("crm_lead indexes (re)built", timings):
            recreate_indexes(env.cr, ddl)
        with timed("followers (each salesperson follows their opportunities)", timings):
            create_followers(env)
        sql(env.cr, "ANALYZE")
    with timed("install %s on the populated database (Odoo -i)" % MODULE, timings):
        with StatementSampler(args.db) as sampler:
            install_seconds = run_odoo(
                "-d", args.db, "-i", MODULE, "--stop-after-init", "--log-level=warn"
            )
    breakdown = sampler.top()
    for seconds, statement in breakdown:
        say("  install: ~%4.0f s in %s" % (seconds, statement))
    finish(args, timings, total, install_seconds, breakdown)


class StatementSampler:
    """Samples pg_stat_activity every second: where a long step spends its time."""

    def __init__(self, db, interval=1.0):
        self.db = db
        self.interval = interval
        self.seconds = {}

    def __enter__(self):
        import threading

        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=5)

    def run(self):
        import psycopg2

        try:
            connection = psycopg2.connect(host="127.0.0.1", dbname="postgres")
        except psycopg2.Error:
            return
        connection.autocommit = True
        with connection.cursor() as cursor:
            while not self.stop.wait(self.interval):
                cursor.execute(
                    "SELECT query FROM pg_stat_activity WHERE datname = %s AND state = 'active' "
                    "AND pid <> pg_backend_pid()",
                    [self.db],
                )
                for (query,) in cursor.fetchall():
                    statement = " ".join(query.split())[:110]
                    self.seconds[statement] = self.seconds.get(statement, 0) + self.interval
        connection.close()

    def top(self, count=6, minimum=3):
        ranked = sorted(((s, q) for q, s in self.seconds.items() if s >= minimum), reverse=True)
        return ranked[:count]


def finish(args, timings, total, install_seconds, breakdown=None):
    """The module's data, VACUUM ANALYZE, and a summary."""
    with environment(args.db) as env:
        History = env["crm.lead.stage.history"]
        if History._backfill_below():
            # what the scheduled action triggered by the install does, in the
            # background of a live database: batches of id ranges, one commit each
            start = time.perf_counter()
            with timed(
                "stage history of the opportunities (the install's scheduled action)", timings
            ):
                History._cron_backfill_stage_history()
            env["ir.config_parameter"].set_param(
                "opportunity_registration.bench_history_backfill_seconds",
                "%.1f" % (time.perf_counter() - start),
            )
        sql(env.cr, "SET synchronous_commit = off; SET work_mem = '256MB'")
        with timed("registrations and mirror columns", timings):
            fill_module_data(env, args)
        if breakdown:
            import json

            env["ir.config_parameter"].set_param(
                "opportunity_registration.bench_install_breakdown", json.dumps(breakdown)
            )
        if install_seconds is not None:
            env["ir.config_parameter"].set_param(
                "opportunity_registration.bench_install_seconds", "%.1f" % install_seconds
            )
        env["ir.config_parameter"].set_param(
            "opportunity_registration.bench_generated", "%d" % args.leads
        )
    with timed("VACUUM ANALYZE (the install and the updates left dead rows)", timings):
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-d", args.db, "-qc", "VACUUM ANALYZE"], check=True
        )
    with environment(args.db) as env:
        cr = env.cr
        sql(
            cr,
            """SELECT count(*), count(*) FILTER (WHERE won_status = 'won'),
                             count(*) FILTER (WHERE won_status = 'lost'),
                             count(*) FILTER (WHERE won_status = 'pending') FROM crm_lead""",
        )
        leads, won, lost, pending = cr.fetchone()
        sql(
            cr,
            "SELECT count(*) FILTER (WHERE state IN ('submitted', 'approved')), count(*) "
            "FROM crm_lead_registration",
        )
        active, regs = cr.fetchone()
        sql(
            cr,
            """SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY n), max(n) FROM (
                      SELECT count(*) n FROM crm_lead WHERE partner_id IS NOT NULL GROUP BY partner_id) x""",
        )
        median, largest = cr.fetchone()
        sql(cr, "SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cr.fetchone()[0]
    say(
        "done in %.0f s: %d opportunities (%d won, %d lost, %d open), %d registrations (%d active), "
        "opportunities per company: median %s, largest %s; database %s"
        % (
            time.perf_counter() - total,
            leads,
            won,
            lost,
            pending,
            regs,
            active,
            median,
            largest,
            size,
        )
    )
    for label, seconds in timings:
        print("  %-60s %7.1f s" % (label, seconds))


if __name__ == "__main__":
    main()
