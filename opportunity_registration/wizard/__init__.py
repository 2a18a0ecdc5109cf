from . import (
    crm_lead_registration_arbitration,
    crm_lead_registration_bulk,
    crm_lead_registration_reason,
    crm_lead_stage_override,
    crm_stage_funnel,
)
