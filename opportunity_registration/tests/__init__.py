# Stage control (issue 6)
from . import test_stage_history
from . import test_stage_gates
from . import test_stage_metrics
from . import test_stage_model
from . import test_stage_ui
from . import test_stage_tour
