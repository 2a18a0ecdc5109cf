from . import crm_lead_registration_reason
from . import crm_lead_registration_arbitration
from . import crm_lead_stage_override
from . import crm_stage_funnel
