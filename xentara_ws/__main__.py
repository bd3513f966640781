"""`python -m xentara_ws` runs the command line."""

import sys

from .cli import main

sys.exit(main())
