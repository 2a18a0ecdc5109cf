from odoo.tools import SQL

from .models.customer_identity import normalize_company_name

BACKFILL_PARAM = "opportunity_registration.customer_key_backfill_below"


def pre_init_hook(env):
    """Create crm_lead's new columns before the ORM does, without rewriting the table.

    Adding a column with a constant default is instant in PostgreSQL, whereas
    the ORM would fill defaults and stored computes with full-table UPDATEs
    (about 20 s per 200,000 opportunities each). Customer keys of existing
    opportunities are filled afterwards, in batches, by a scheduled action
    (see ``crm.lead._cron_backfill_customer_key``).
    """
    cr = env.cr
    cr.execute("""
        ALTER TABLE crm_lead
            ADD COLUMN IF NOT EXISTS registration_state varchar DEFAULT 'draft',
            ADD COLUMN IF NOT EXISTS registration_source varchar DEFAULT 'rep',
            ADD COLUMN IF NOT EXISTS customer_key varchar,
            ADD COLUMN IF NOT EXISTS is_valid_opportunity boolean DEFAULT false
    """)
    cr.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM crm_lead")
    (below,) = cr.fetchone()
    cr.execute(
        SQL(
            """
        INSERT INTO ir_config_parameter (key, value, create_date, write_date)
        VALUES (%s, %s, now() at time zone 'UTC', now() at time zone 'UTC')
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
        """,
            BACKFILL_PARAM,
            str(below),
        )
    )


def post_init_hook(env):
    """Bands and sequences for every company; customer keys, forecast
    categories and stage history of existing opportunities by scheduled
    actions, in batches after the install.

    Bands and sequences exist before the first submission, so that concurrent
    first submissions never race to create them.
    """
    Band = env["crm.lead.registration.band"]
    for company in env["res.company"].sudo().search([]):
        Band._get_company_bands(company)
        env["crm.lead.registration"]._company_sequence(company)
    env.ref("opportunity_registration.ir_cron_customer_key_backfill")._trigger()
    env.ref("opportunity_registration.ir_cron_forecast_category_backfill")._trigger()
    env["crm.lead.stage.history"]._backfill_start()
    enroll_channel_partners(env)


def enroll_channel_partners(env):
    """Enroll the partner companies that already registered deals from the
    portal (install, and the 19.0.1.2.0 upgrade that introduced enrollment):
    they keep registering; any other portal user now needs a registration
    manager to enroll their company. Returns the enrolled partners."""
    env.flush_all()
    env.cr.execute("""
        SELECT channel_partner_id FROM crm_lead WHERE channel_partner_id IS NOT NULL
         UNION
        SELECT channel_partner_id FROM crm_lead_registration WHERE channel_partner_id IS NOT NULL
    """)
    partners = (
        env["res.partner"]
        .sudo()
        .with_context(active_test=False)
        .browse([partner_id for (partner_id,) in env.cr.fetchall()])
        .filtered(lambda partner: not partner.is_channel_partner)
    )
    if partners:
        partners.write({"is_channel_partner": True})
    return partners


def fill_customer_keys(cr, low, high):
    """Set customer_key of leads low <= id < high, normalizing each distinct name once."""
    cr.execute(
        SQL(
            """
        SELECT DISTINCT name FROM (
            SELECT cp.name
              FROM crm_lead l
              JOIN res_partner p ON p.id = l.partner_id
              JOIN res_partner cp ON cp.id = p.commercial_partner_id
             WHERE cp.is_company AND l.id >= %(low)s AND l.id < %(high)s
            UNION
            SELECT partner_name FROM crm_lead
             WHERE partner_name IS NOT NULL AND id >= %(low)s AND id < %(high)s
        ) names WHERE name IS NOT NULL
        """,
            low=low,
            high=high,
        )
    )
    pairs = [(name, normalize_company_name(name)) for (name,) in cr.fetchall()]
    cr.execute("DROP TABLE IF EXISTS opreg_name_key")
    cr.execute("CREATE TEMP TABLE opreg_name_key (name varchar PRIMARY KEY, key varchar)")
    for start in range(0, len(pairs), 10000):
        chunk = [pair for pair in pairs[start : start + 10000] if pair[1]]
        if chunk:
            cr.execute(
                SQL(
                    "INSERT INTO opreg_name_key (name, key) VALUES %s ON CONFLICT DO NOTHING",
                    SQL(", ").join(SQL("(%s, %s)", name, key) for name, key in chunk),
                )
            )
    cr.execute("ANALYZE opreg_name_key")
    # Company partner name first, then the lead's company name, then the person.
    cr.execute(
        SQL(
            """
        UPDATE crm_lead l
           SET customer_key = k.key
          FROM (
                SELECT l2.id, COALESCE(
                       CASE WHEN cp.is_company THEN ck.key END,
                       CASE WHEN cp.is_company IS NOT TRUE THEN nk.key END,
                       CASE WHEN cp.id IS NOT NULL AND cp.is_company IS NOT TRUE
                                 AND NULLIF(l2.partner_name, '') IS NULL
                            THEN 'partner:' || cp.id END) AS key
                  FROM crm_lead l2
                  LEFT JOIN res_partner p ON p.id = l2.partner_id
                  LEFT JOIN res_partner cp ON cp.id = p.commercial_partner_id
                  LEFT JOIN opreg_name_key ck ON ck.name = cp.name
                  LEFT JOIN opreg_name_key nk ON nk.name = l2.partner_name
                 WHERE l2.id >= %(low)s AND l2.id < %(high)s
               ) k
         WHERE l.id = k.id AND k.key IS NOT NULL AND l.customer_key IS DISTINCT FROM k.key
        """,
            low=low,
            high=high,
        )
    )
    updated = cr.rowcount
    cr.execute("DROP TABLE opreg_name_key")
    return updated
