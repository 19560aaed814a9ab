"""Security headers Django has no setting for, and the admin login's lockout (django-axes).

Settings (factually/settings.py) give the rest: HSTS, nosniff, Referrer-Policy,
Cross-Origin-Opener-Policy, X-Frame-Options and the Content-Security-Policy.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib import admin
from django.shortcuts import render

from factually.clients import client_address

# Browser features the site never uses, refused for it and for anything it embeds.
# interest-cohort (FLoC) is gone from browsers; browsing-topics is what replaced it.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in [
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "interest-cohort",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    ]
)


class PermissionsPolicyMiddleware:
    """Add `Permissions-Policy` to every response that has none (Django has no setting)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


def login_client_address(request) -> str | None:
    """The client address django-axes counts failed logins against (AXES_CLIENT_IP_CALLABLE).

    The same rule as the reader forms' rate limit (`FACTUALLY_TRUSTED_PROXY_COUNT`): an
    IPv6 client by its /64, stored as that network's address (axes keeps an IP field).
    """
    address = client_address(request)
    if address == "unknown":
        return None
    return address.removesuffix("/64")


def lockout_response(request, original_response=None, credentials=None):
    """The page shown while an address is locked out of one account (AXES_LOCKOUT_CALLABLE).

    429 with Retry-After, and the same for every username, whether or not it exists.
    """
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    response = render(
        request,
        "admin/locked_out.html",
        {
            **admin.site.each_context(request),
            "title": "Too many failed logins",
            "minutes": math.ceil(seconds / 60),
        },
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
