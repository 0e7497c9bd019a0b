"""`python -m sakura` runs the CLI."""

import sys

from sakura.cli import main

sys.exit(main())
