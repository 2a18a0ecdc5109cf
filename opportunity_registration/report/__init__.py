from . import crm_stage_funnel_analysis
from . import crm_registration_compliance
