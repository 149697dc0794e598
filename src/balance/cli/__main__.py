"""`python -m balance.cli.main`: the same as the `balance` command."""

import sys

from balance.cli.main import main

sys.exit(main())
