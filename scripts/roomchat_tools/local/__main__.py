"""`python -m roomchat_tools.local` (what `make run` runs)."""

import sys

from roomchat_tools.local.stack import main

sys.exit(main())
