from . import test_sale_revenue
