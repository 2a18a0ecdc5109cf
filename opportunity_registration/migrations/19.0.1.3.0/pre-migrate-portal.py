"""The partner portal moved to its own add-on, opportunity_registration_portal.

Its pages, e-mail templates and the registration's portal fields are handed
over to the new add-on (their external ids renamed), so nothing is deleted
and re-created, and the add-on is loaded in the same run: a database that had
the portal keeps it, with its administrators' template changes. It is marked
"to upgrade", not "to install": its records already exist, and an install
would load its noupdate e-mail templates over what administrators edited."""

PORTAL_XMLIDS = (
    "portal_my_home_registration",
    "portal_breadcrumbs_registration",
    "portal_registration_state_badge",
    "portal_my_registrations",
    "portal_my_registration",
    "portal_registration_new",
    "portal_registration_bulk",
    "portal_registration_upload_state",
    "portal_registration_upload",
    "portal_registration_refused",
    "mail_template_partner_registration_approved",
    "mail_template_partner_registration_rejected",
    "mail_template_partner_registration_expiry_warning",
    "mail_template_partner_registration_expired",
    "field_crm_lead_registration__access_url",
    "field_crm_lead_registration__access_token",
    "field_crm_lead_registration__access_warning",
)


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """UPDATE ir_model_data SET module = 'opportunity_registration_portal'
            WHERE module = 'opportunity_registration' AND name IN %s""",
        [PORTAL_XMLIDS],
    )
    cr.execute(
        """UPDATE ir_module_module SET state = 'to upgrade'
            WHERE name = 'opportunity_registration_portal' AND state = 'uninstalled'"""
    )
