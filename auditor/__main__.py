"""``python -m auditor``: the command line."""

import sys

from auditor._entry import main

sys.exit(main())
