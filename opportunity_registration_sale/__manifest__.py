# Copyright 2026 opportunity_registration contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    "name": "Opportunity Registration - Sales",
    "summary": "Actual revenue of won opportunities (折后实际收入) from their confirmed sale orders",
    "version": "19.0.1.0.0",
    "development_status": "Alpha",
    "category": "Sales/CRM",
    "website": "https://github.com/opportunity-registration/opportunity_registration",
    "author": "opportunity_registration contributors",
    "maintainers": [],
    "license": "AGPL-3",
    "depends": ["opportunity_registration", "sale_crm"],
    "data": [],
    "auto_install": True,
    "installable": True,
}
