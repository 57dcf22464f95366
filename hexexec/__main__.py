"""``python -m hexexec`` = the ``hexexec`` command."""

import sys

from hexexec.cli import main

sys.exit(main())
