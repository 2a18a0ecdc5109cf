"""Same customer submitted at the same instant by many reps on two servers.

Runs ``benchmarks/concurrency.py`` (two Odoo servers, one with 4 workers, N
client processes over XML-RPC) against the test database. It commits data
(users, a customer, opportunities) and starts servers, so it runs only when
asked: ``OPREG_CONCURRENCY=1`` (``OPREG_CONCURRENCY_CLIENTS``, default 50),
after the rest of the suite.
"""

import os
import subprocess
import sys
import unittest

from odoo.tests import BaseCase, tagged
from odoo.tools import config

HARNESS = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "benchmarks",
    "concurrency.py",
)


@tagged("post_install", "-at_install", "-standard", "opportunity_registration_concurrency")
@unittest.skipUnless(os.environ.get("OPREG_CONCURRENCY") == "1", "set OPREG_CONCURRENCY=1 to run")
class TestConcurrentSubmissions(BaseCase):
    def test_one_winner_over_rpc(self):
        if not os.path.exists(HARNESS):
            self.skipTest("benchmarks/concurrency.py not found next to the module")
        db = config["db_name"]
        db = db[0] if isinstance(db, list) else db
        clients = os.environ.get("OPREG_CONCURRENCY_CLIENTS", "50")
        result = subprocess.run(
            [sys.executable, HARNESS, "--db", db, "--clients", clients, "--timeout", "180"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        report = result.stdout[result.stdout.find("=== concurrency") :]
        self.assertEqual(result.returncode, 0, report[:4000] + result.stderr[-1000:])
