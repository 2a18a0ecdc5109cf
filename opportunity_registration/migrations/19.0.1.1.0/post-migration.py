"""Scheduled actions, sequences, activity types and e-mail templates are
administrators' records: from this version they are loaded ``noupdate`` (as
Odoo's crm does), and databases installed before keep the changes their
administrators made at the next upgrades too."""

ADMINISTRATORS_MODELS = ("ir.cron", "ir.sequence", "mail.activity.type", "mail.template")


def migrate(cr, version):
    cr.execute(
        """UPDATE ir_model_data SET noupdate = TRUE
            WHERE module = 'opportunity_registration' AND model IN %s AND NOT noupdate""",
        [ADMINISTRATORS_MODELS],
    )
