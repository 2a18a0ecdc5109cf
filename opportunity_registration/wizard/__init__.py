from . import crm_lead_registration_reason
from . import crm_lead_registration_arbitration
