"""Settings of the app servers tests/test_scale_out.py starts: the test settings (throwaway
key, fast password hashing, no collectstatic), with the shared page cache on, as in
production, so that a stale page on the second server would show."""

from tests.settings import *  # noqa: F403

FACTUALLY_PAGE_CACHE_SECONDS = 300
