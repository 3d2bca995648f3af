"""``python -m autocoder.cli``: the ``autocoder`` command."""

import sys

from autocoder.cli import main

sys.exit(main())
