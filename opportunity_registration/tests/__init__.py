from . import test_customer_identity
