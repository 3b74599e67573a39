"""``python -m hmoe_theory`` is the ``hmoe`` command."""

import sys

from .cli import main

sys.exit(main())
