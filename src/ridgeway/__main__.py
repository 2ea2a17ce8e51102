"""``python -m ridgeway``: the same as the ``ridgeway`` command."""

import sys

from ridgeway.cli import main

if __name__ == "__main__":  # not in the workers that --dask local spawns
    sys.exit(main())
