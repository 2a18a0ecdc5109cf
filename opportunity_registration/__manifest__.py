# Copyright 2026 opportunity_registration contributors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
{
    "name": "Opportunity Registration",
    "summary": "Governed opportunity registration (商机报备): completeness review, "
    "customer ownership locks and tiered approval on the standard CRM screens",
    "version": "19.0.1.0.0",
    "development_status": "Alpha",
    "category": "Sales/CRM",
    "website": "https://github.com/opportunity-registration/opportunity_registration",
    "author": "opportunity_registration contributors",
    "maintainers": [],
    "license": "AGPL-3",
    "application": False,
    "installable": True,
    "depends": ["crm", "base_tier_validation"],
    "data": [
        "security/opportunity_registration_security.xml",
        "security/ir.model.access.csv",
        "security/opportunity_registration_stage_security.xml",
        "data/ir_sequence_data.xml",
        "data/ir_cron_data.xml",
        "data/mail_activity_type_data.xml",
        "data/mail_template_data.xml",
        "wizard/crm_lead_registration_reason_views.xml",
        "wizard/crm_lead_registration_arbitration_views.xml",
        "wizard/crm_lead_stage_override_views.xml",
        "wizard/crm_stage_funnel_views.xml",
        "views/crm_lead_registration_views.xml",
        "views/crm_lead_registration_band_views.xml",
        "views/crm_lead_views.xml",
        "views/res_config_settings_views.xml",
        "views/crm_stage_views.xml",
        "views/crm_lead_stage_views.xml",
        "views/crm_lead_stage_history_views.xml",
        "views/crm_stage_funnel_analysis_views.xml",
        "views/crm_menu_views.xml",
    ],
    "demo": [
        "demo/crm_lead_registration_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "opportunity_registration/static/tests/tours/**/*",
        ],
    },
    "pre_init_hook": "pre_init_hook",
    "post_init_hook": "post_init_hook",
}
