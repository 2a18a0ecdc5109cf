from . import crm_lead_registration
from . import crm_lead_registration_band
from . import crm_lead
from . import crm_team
from . import res_company
from . import res_config_settings
