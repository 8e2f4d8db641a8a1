"""``python -m rnnverify``: the command line."""

import sys

from rnnverify.cli import main

sys.exit(main())
