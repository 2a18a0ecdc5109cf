from unittest.mock import patch

from odoo.addons.opportunity_registration.models.crm_forecast_metrics import (
    CrmForecastMetrics,
)
from odoo.tests import HttpCase, tagged

from .common_forecast import ForecastCase


@tagged("post_install", "-at_install")
class TestForecastReplica(ForecastCase, HttpCase):
    """Metric reads over JSON-RPC run on the read-only cursor Odoo opens on a
    replica (``--db_replica_host``; ``--dev=replica`` and the test registry
    simulate it with a READ ONLY transaction): they never write.
    """

    def _call(self, method, *args):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/crm.forecast.metrics/{method}",
            {"model": "crm.forecast.metrics", "method": method, "args": list(args), "kwargs": {}},
        )

    def _spy(self, cursors, write=False):
        original = CrmForecastMetrics._metrics_by

        def spy(metrics, *args, **kwargs):
            cursors.append(metrics.env.cr.readonly)
            if write:
                metrics.env.cr.execute("UPDATE crm_lead SET name = name WHERE id = 0")
            return original(metrics, *args, **kwargs)

        return patch.object(CrmForecastMetrics, "_metrics_by", spy)

    def test_metric_reads_run_read_only(self):
        self.authenticate(self.manager.login, self.manager.login)
        cursors = []
        with self._spy(cursors):
            metrics = self._call("get_metrics", "2026-03-01")
            rows = self._call("get_metrics_by", "2026-03-01", ["team_id", "user_id"])
        # Once each, on the read-only cursor, never retried on the primary.
        self.assertEqual(cursors, [True, True])
        self.assertAlmostEqual(metrics["forecast_revenue"], 57000)
        self.assertEqual(len(rows), 2)

    def test_a_write_on_that_path_would_be_refused(self):
        """The control: the same call attempting a write fails on the read-only
        cursor and Odoo retries it on the primary, so one read-only pass alone
        (above) proves that no write happened."""
        self.authenticate(self.manager.login, self.manager.login)
        cursors = []
        with self._spy(cursors, write=True), self.assertLogs("odoo.http", "WARNING") as logs:
            self._call("get_metrics", "2026-03-01")
        self.assertEqual(cursors, [True, False])
        self.assertIn("read-only transaction", "\n".join(logs.output))
