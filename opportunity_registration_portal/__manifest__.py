# Copyright 2026 opportunity_registration contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    "name": "Opportunity Registration - Partner Portal",
    "summary": "Channel partners register deals (渠道报备) from the portal: the form, "
    "a spreadsheet upload, their registrations' pages and e-mails",
    "version": "19.0.1.0.0",
    "development_status": "Alpha",
    "category": "Sales/CRM",
    "website": "https://github.com/opportunity-registration/opportunity_registration",
    "author": "opportunity_registration contributors",
    "maintainers": [],
    "license": "AGPL-3",
    "depends": ["opportunity_registration", "portal"],
    "data": [
        "data/mail_template_partner_data.xml",
        "views/portal_templates.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "opportunity_registration_portal/static/tests/tours/**/*",
        ],
    },
    "auto_install": True,
    "installable": True,
}
