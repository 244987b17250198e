"""``python -m bench [options]``: the same as ``invoke bench``."""

import sys

from .run import main

sys.exit(main(sys.argv[1:], "python -m bench " + " ".join(sys.argv[1:])))
