"""WSGI entry point for app servers (gunicorn and friends)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "factually.settings")

application = get_wsgi_application()
