"""Who is asking: the client's address, as far as the proxies in front can be trusted.

One rule for everything that counts requests by address: the reader forms' rate limit
(reports/public/feedback.py) and the admin login's lockout (factually/security.py).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_address(request) -> str:
    """The address to count the request against.

    `REMOTE_ADDR`, unless `FACTUALLY_TRUSTED_PROXY_COUNT` says that many proxies stand in
    front: each appends the address it was reached from to X-Forwarded-For, so the client is
    the entry that many places from the right (entries further left are the client's own
    say, never trusted). IPv6 clients are counted by their /64, which one household holds.
    "unknown" when there is no valid address.
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.FACTUALLY_TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address) + "/64"
    return str(ip)
