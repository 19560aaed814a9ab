"""The client address behind trusted proxies (factually/clients.py)."""

import pytest

from factually.clients import client_address


@pytest.mark.parametrize(
    ("proxies", "meta", "expected"),
    [
        (0, {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}, "192.0.2.1"),
        (1, {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "1.1.1.1, 203.0.113.5"}, "203.0.113.5"),  # noqa: E501
        (2, {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "203.0.113.5, 10.0.0.1"}, "203.0.113.5"),  # noqa: E501
        (2, {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "203.0.113.5"}, "192.0.2.1"),
        (1, {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "garbage"}, "unknown"),
        (0, {"REMOTE_ADDR": "2001:db8:1:2:3:4:5:6"}, "2001:db8:1:2::/64"),
        (0, {"REMOTE_ADDR": "::ffff:192.0.2.7"}, "192.0.2.7"),
        (0, {}, "unknown"),
    ],
)  # fmt: skip
def test_client_address(rf, settings, proxies, meta, expected):
    settings.FACTUALLY_TRUSTED_PROXY_COUNT = proxies
    request = rf.post("/suggest/")
    request.META.pop("REMOTE_ADDR")
    request.META.update(meta)

    assert client_address(request) == expected
