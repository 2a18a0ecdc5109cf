from . import crm_lead_registration
from . import crm_lead_registration_band
from . import crm_lead_registration_event
from . import crm_lead
from . import crm_team
from . import res_partner
from . import res_users
from . import tier_review
from . import res_company
from . import res_config_settings
from . import mail_activity
from . import calendar_event
# Stage control (issue 6)
from . import crm_stage
from . import crm_stage_criterion
from . import crm_lead_stage_history
from . import crm_lead_stage
