from . import crm_stage_funnel_analysis
