"""Run the command line: python -m assessment --help."""

import sys

from .cli import main

sys.exit(main())
