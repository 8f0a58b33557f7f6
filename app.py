"""WSGI entry point: `flask --app app run`, `gunicorn app:app`."""

import sys

from ddsite import create_app
from ddsite.config import ConfigError
from ddsite.server import freeze_startup_objects

try:
    app = create_app()
except ConfigError as error:
    # Start-up stops with the message alone: it names the variable and shows a good value.
    sys.exit(f"ddsite: configuration error: {error}")

freeze_startup_objects()  # what start-up built stays for good: the collector need not walk it
