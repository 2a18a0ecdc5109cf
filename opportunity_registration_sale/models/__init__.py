from . import crm_lead_revenue
from . import crm_lead
from . import sale_order
