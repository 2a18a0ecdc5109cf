from odoo import SUPERUSER_ID, api
from odoo.addons.opportunity_registration.hooks import enroll_channel_partners


def migrate(cr, version):
    """Channel partner enrollment arrives: the companies that already have
    partner deals are enrolled, so they keep registering."""
    if version:
        enroll_channel_partners(api.Environment(cr, SUPERUSER_ID, {}))
