"""python -m sbprov_fleet"""

import sys

from .cli import main

sys.exit(main())
