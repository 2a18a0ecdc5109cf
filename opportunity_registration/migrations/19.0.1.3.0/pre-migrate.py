from odoo.tools import SQL


def migrate(cr, version):
    """Registration notes are read in each reader's language through their
    subtype and tracking values: the per-language copies once kept on
    ``mail_message`` go, with their column."""
    if version:
        cr.execute(SQL("ALTER TABLE mail_message DROP COLUMN IF EXISTS registration_bodies"))
