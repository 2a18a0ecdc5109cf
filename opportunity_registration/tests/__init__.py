from . import test_customer_identity
from . import test_concurrency
