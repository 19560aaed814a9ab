"""Production settings for the loopback benchmark only (bench/run.py): never deploy these.

Everything is `factually.settings` as production runs it (DEBUG off, manifest static files,
the environment's database and cache), except what plain HTTP on 127.0.0.1 needs: wrk
speaks no TLS, so run.py sets SECURE_SSL_REDIRECT=0 and the cookies are not marked Secure.
The pages measured are anonymous GETs, which set no cookie, so this changes no figure.
The URLs add the ceiling (bench/urls.py), which production does not route.
"""

from factually.settings import *  # noqa: F403

SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
ROOT_URLCONF = "bench.urls"
