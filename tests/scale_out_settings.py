"""Settings of the app servers tests/test_scale_out.py starts: the test settings (throwaway
key, fast password hashing, no collectstatic), with the shared page cache on, as in
production, so that a stale page on the second server would show."""

import os

from tests.settings import *  # noqa: F403

# Keys of these servers only: other tests and suites share the Redis database.
CACHES["default"]["KEY_PREFIX"] = os.environ["FACTUALLY_TEST_CACHE_PREFIX"]  # noqa: F405

FACTUALLY_PAGE_CACHE_SECONDS = 300
