from . import crm_lead_registration
