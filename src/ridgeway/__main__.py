"""``python -m ridgeway``: the same as the ``ridgeway`` command."""

import sys

from ridgeway.cli import main

sys.exit(main())
