"""`python -m norlm` is the same as the `norlm` console script."""
import sys

from norlm.cli import main

sys.exit(main())
