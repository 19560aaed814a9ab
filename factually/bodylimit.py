"""Request bodies over the limit are refused before they are read, or while they are read.

Django itself only refuses form data over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB); an uploaded
file is streamed to a temporary file whatever its size, and the CSRF check parses the body
of any POST before a view can look at it. `BodyLimitMiddleware` refuses with 413:

- a `Content-Length` over the limit of the path, at once, before a byte of the body is read;
- a chunked body (no `Content-Length`) as soon as more than the limit has been read: it is
  read up to the limit and then handed to Django as if its length had been sent. Only under
  a server that marks where such a body ends (`wsgi.input_terminated`: gunicorn does);
  elsewhere it is refused with 411.

The limits (bytes): `FACTUALLY_MAX_BODY_BYTES` everywhere (256 KiB: the reader forms take
64 KB and refuse more themselves, with their own page), and `FACTUALLY_BODY_LIMITS`, longest
path prefix first, for what needs more (the admin: 4 MiB, for the source-file and report-text
imports and the previews they post back, which Django caps at 2.5 MB of form data).
In production a buffering proxy refuses larger bodies first (README, "Deployment").
"""

from __future__ import annotations

import io

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpResponse

# Read in pieces this large, so a chunked body never costs more than the limit plus one.
_PIECE = 64 * 1024


def limit_for(path: str) -> int:
    """The most bytes a request body to `path` may have."""
    limits = settings.FACTUALLY_BODY_LIMITS
    for prefix in sorted(limits, key=len, reverse=True):
        if path.startswith(prefix):
            return limits[prefix]
    return settings.FACTUALLY_MAX_BODY_BYTES


class BodyLimitMiddleware:
    """Refuse request bodies over the path's limit before Django reads them (413)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = limit_for(request.path_info)
        meta = request.META
        declared = meta.get("CONTENT_LENGTH") or ""
        if declared.strip():
            if declared.strip().isdigit() and int(declared) > limit:
                return too_large(limit)
        elif "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
            if not meta.get("wsgi.input_terminated"):
                return _refused(411, "Send the request body with a Content-Length header.")
            body = _read_at_most(meta["wsgi.input"], limit)
            if body is None:
                return too_large(limit)
            meta["CONTENT_LENGTH"] = str(len(body))
            # What Django would have made of the same body sent with its length.
            request._stream = LimitedStream(io.BytesIO(body), len(body))
        return self.get_response(request)


def _read_at_most(stream, limit: int) -> bytes | None:
    """The body, or None as soon as it turns out longer than `limit` (the rest left unread)."""
    body = bytearray()
    while piece := stream.read(min(_PIECE, limit + 1 - len(body))):
        body += piece
        if len(body) > limit:
            return None
    return bytes(body)


def too_large(limit: int) -> HttpResponse:
    return _refused(
        413,
        f"Request body too large: this address accepts at most {_size(limit)}. Nothing was saved.",
    )


def _refused(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=status, content_type="text/plain")
    response["Cache-Control"] = "no-store"
    return response


def _size(count: int) -> str:
    if count % (1024 * 1024) == 0:
        return f"{count // (1024 * 1024)} MiB"
    return f"{count // 1024} KiB" if count % 1024 == 0 else f"{count} bytes"
