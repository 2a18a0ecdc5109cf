"""``python -m soak`` from benchmarks/: the same as ``benchmarks/soak.py``."""

import sys

from .cli import main

sys.exit(main())
