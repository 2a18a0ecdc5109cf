from odoo.tools import SQL

from .models.customer_identity import normalize_company_name


def pre_init_hook(env):
    """Prepare crm_lead's new stored columns with set-based SQL.

    Columns that already exist are not recomputed by the ORM at install, so a
    database with many opportunities does not go through a Python loop over
    every lead. Customer keys are normalized once per distinct name, not once
    per lead.
    """
    cr = env.cr
    cr.execute("""
        ALTER TABLE crm_lead
            ADD COLUMN IF NOT EXISTS registration_state varchar DEFAULT 'draft',
            ADD COLUMN IF NOT EXISTS customer_key varchar,
            ADD COLUMN IF NOT EXISTS is_valid_opportunity boolean DEFAULT false,
            ADD COLUMN IF NOT EXISTS won_unregistered boolean
    """)
    cr.execute("UPDATE crm_lead SET won_unregistered = (won_status = 'won')")
    cr.execute("""
        SELECT DISTINCT name FROM (
            SELECT cp.name
              FROM crm_lead l
              JOIN res_partner p ON p.id = l.partner_id
              JOIN res_partner cp ON cp.id = p.commercial_partner_id
             WHERE cp.is_company
            UNION
            SELECT partner_name FROM crm_lead WHERE partner_name IS NOT NULL
        ) names WHERE name IS NOT NULL
    """)
    pairs = [(name, normalize_company_name(name)) for (name,) in cr.fetchall()]
    cr.execute("CREATE TEMP TABLE opreg_name_key (name varchar, key varchar) ON COMMIT DROP")
    for start in range(0, len(pairs), 10000):
        chunk = [pair for pair in pairs[start:start + 10000] if pair[1]]
        if chunk:
            cr.execute(SQL(
                "INSERT INTO opreg_name_key (name, key) VALUES %s",
                SQL(", ").join(SQL("(%s, %s)", name, key) for name, key in chunk),
            ))
    cr.execute("CREATE INDEX ON opreg_name_key (name)")
    cr.execute("ANALYZE opreg_name_key")
    # Company partner name first, then the lead's company name, then the person.
    cr.execute("""
        UPDATE crm_lead l
           SET customer_key = COALESCE(
                   CASE WHEN cp.is_company THEN ck.key END,
                   CASE WHEN cp.is_company IS NOT TRUE THEN nk.key END,
                   CASE WHEN cp.id IS NOT NULL AND cp.is_company IS NOT TRUE
                             AND NULLIF(l2.partner_name, '') IS NULL
                        THEN 'partner:' || cp.id END)
          FROM crm_lead l2
          LEFT JOIN res_partner p ON p.id = l2.partner_id
          LEFT JOIN res_partner cp ON cp.id = p.commercial_partner_id
          LEFT JOIN opreg_name_key ck ON ck.name = cp.name
          LEFT JOIN opreg_name_key nk ON nk.name = l2.partner_name
         WHERE l2.id = l.id
    """)


def post_init_hook(env):
    """Backfill the stage history from the leads' stage tracking (set-based SQL)."""
    env["crm.lead.stage.history"]._backfill_from_tracking()
