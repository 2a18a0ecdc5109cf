#!/usr/bin/env python3
"""A working day on two Odoo servers under faults: runs the ``soak`` package
(benchmarks/soak/, described in its ``__init__``) with this command line."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from soak.cli import main

if __name__ == "__main__":
    sys.exit(main())
