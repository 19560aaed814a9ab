"""Static files in production: compressed, hashed and cached forever (whitenoise)."""

from django.core.management import call_command
from django.test import Client

import factually.settings


def test_production_serves_compressed_hashed_static_files_forever(settings, tmp_path):
    assert not factually.settings.DEBUG
    production = factually.settings.STORAGES["staticfiles"]["BACKEND"]
    assert production == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": production}}
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", interactive=False, verbosity=0)
    from django.templatetags.static import static

    url = static("css/site.css")
    assert url != "/static/css/site.css"  # hashed
    response = Client().get(url, headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=315360000, public, immutable"
    assert response["Content-Encoding"] == "gzip"
    unhashed = Client().get("/static/css/site.css")
    assert unhashed["Cache-Control"] == "max-age=60, public"
