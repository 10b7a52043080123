"""`python -m scripts.devstack` (what `make run` runs)."""

import sys

from scripts.devstack.stack import main

sys.exit(main())
