"""Settings for deployment: ``invoke build --publish``.

``SITEURL`` is where the site is served, possibly with a sub-path
(``https://example.gov.cn/gongkai``); set ``GONGKAI_SITEURL`` in the
environment of CI rather than editing this file.
"""

import os
import sys

sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from pelicanconf import *  # noqa: E402,F401,F403

SITEURL = os.environ.get("GONGKAI_SITEURL", "https://gongkai.example.gov.cn").rstrip("/")
RELATIVE_URLS = False
