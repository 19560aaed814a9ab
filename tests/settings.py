"""Test settings: production settings with a throwaway key and fast password hashing."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x" * 40)

from factually.settings import *  # noqa: E402, F403

# Tests do not run collectstatic; the manifest storage would refuse every page.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The test client speaks plain HTTP.
SECURE_SSL_REDIRECT = False
# Tests run inside transactions that never commit, so publishing never marks cached pages
# stale (reports/caching.py bumps on commit): pages are not kept, except in
# tests/reports/test_caching.py and tests/factually/test_pagecache.py, which turn the page
# cache on (and commit its callbacks).
FACTUALLY_PAGE_CACHE_SECONDS = 0
# PostgreSQL's JIT compiler pays off on big analytical queries, never on a test database of a
# few rows. Worse, a search for a rare word turns sequential scans off until the transaction
# ends (reports/public/fulltext.py), and a test is one transaction: every later query of the
# test was estimated at billions, so compiled, 0.4-0.9 s each. JIT changes no plan.
for _database in DATABASES.values():  # noqa: F405
    if _database["ENGINE"] == "django.db.backends.postgresql":
        _options = _database.setdefault("OPTIONS", {})
        _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
