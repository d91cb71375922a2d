"""``python -m toposcope._book run|build``: see :mod:`toposcope._book`."""

import sys

from . import main

sys.exit(main())
