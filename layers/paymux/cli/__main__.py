"""`python -m paymux.cli`: the `paymux` command."""

from __future__ import annotations

import sys

from paymux.cli import main

sys.exit(main())
