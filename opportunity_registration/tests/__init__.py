from . import test_customer_identity
from . import test_registration_lifecycle
from . import test_registration_approval
from . import test_registration_install
from . import test_registration_locks
from . import test_registration_ui
from . import test_translations
from . import test_concurrency
from . import test_trust
from . import test_rpc_surface
# Stage control (issue 6)
from . import test_stage_history
from . import test_stage_gates
from . import test_stage_metrics
from . import test_stage_model
from . import test_stage_ui
from . import test_stage_tour
from . import test_cached_settings
