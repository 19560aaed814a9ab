"""Request bodies over the limit are refused before or while they are read (factually/bodylimit.py),
over HTTP with the test client and against a real gunicorn on loopback."""

from __future__ import annotations

import io
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client
from django.test.client import FakePayload

from factually import bodylimit
from reports.models import ReaderMessage

PROJECT = Path(__file__).resolve().parent.parent.parent
MiB = 1024 * 1024
BOUNDARY = "attack"
TOKEN = "a" * 32  # a CSRF cookie the attacker makes up: the CSRF check then parses the body


def multipart_file(size: int) -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + b"x" * size
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


@pytest.fixture
def bytes_read(monkeypatch):
    """How many body bytes the site read, counted at the test client's wsgi.input."""
    counted = [0]
    real = FakePayload.read

    def read(self, *args, **kwargs):
        data = real(self, *args, **kwargs)
        counted[0] += len(data)
        return data

    monkeypatch.setattr(FakePayload, "read", read)
    return counted


def test_the_limits_are_256_kib_and_4_mib_under_the_admin():
    assert bodylimit.limit_for("/reports/sugar-tax/error/") == 256 * 1024
    assert bodylimit.limit_for("/") == 256 * 1024
    assert bodylimit.limit_for("/admin/sources/source/import/") == 4 * MiB


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "size"), [("/", 2 * MiB), ("/admin/login/", 6 * MiB)])
def test_a_large_upload_is_refused_before_a_byte_of_it_is_read(bytes_read, path, size):
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = TOKEN

    response = client.post(
        path, multipart_file(size), content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )

    assert response.status_code == 413
    assert "Request body too large" in response.content.decode()
    assert bytes_read[0] == 0


@pytest.mark.django_db
def test_an_admin_import_under_its_limit_is_not_refused(bytes_read):
    client = Client()
    body = multipart_file(2 * MiB)

    response = client.post(
        "/admin/login/", body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )

    assert response.status_code == 200  # the login page again: no such form fields
    assert bytes_read[0] == len(body)


def chunked(client: Client, path: str, body: io.BytesIO, **extra):
    """What gunicorn hands the app for a chunked body: no length, the stream ends itself."""
    return client.generic(
        "POST",
        path,
        b"",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": body, "wsgi.input_terminated": True},
        **extra,
    )


@pytest.mark.django_db
def test_a_chunked_body_is_refused_once_the_limit_is_read():
    body = io.BytesIO(b"message=" + b"x" * (50 * MiB))

    response = chunked(Client(), "/suggest/", body)

    assert response.status_code == 413
    assert body.tell() <= 256 * 1024 + 64 * 1024  # the limit, and one piece past it
    assert not ReaderMessage.objects.exists()


@pytest.mark.django_db
def test_a_chunked_body_within_the_limit_reaches_the_form():
    client = Client()
    client.get("/suggest/")
    body = io.BytesIO(b"claim=x&message=y")

    response = chunked(client, "/suggest/", body)

    assert response.status_code != 413
    assert body.tell() == len(body.getvalue())


@pytest.mark.django_db
def test_a_chunked_body_without_a_server_that_ends_it_is_refused():
    response = Client().generic(
        "POST", "/suggest/", b"x" * 10, CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked"
    )
    assert response.status_code == 411


# A real gunicorn on loopback ----------------------------------------------------------------


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """gunicorn (one sync worker) serving the project; the refusals need no database."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.set_inheritable(True)
    port = listener.getsockname()[1]
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": "sqlite:////nonexistent/never-used.sqlite3",
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "factually.wsgi:application"]
            + [f"--bind=fd://{listener.fileno()}", "--workers=1", "--timeout=30"]
            + ["--no-control-socket"],
            cwd=PROJECT,
            env=env,
            pass_fds=[listener.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    listener.close()
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as probe:
                    # Any answer will do: /healthz says 503 (this server has no database).
                    probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    if probe.recv(100).startswith(b"HTTP/1.1 "):
                        break
            except OSError:
                pass
            assert process.poll() is None, log.read_text()
            time.sleep(0.2)
        else:
            pytest.fail(f"gunicorn did not start.\n{log.read_text()}")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=15)


def send_until_refused(port: int, head: bytes, piece: bytes, most: int) -> tuple[int, bytes]:
    """Send `head`, then `piece` after piece (up to `most` bytes) until the server answers or
    hangs up; the body bytes sent and what the server answered (b"" if it reset)."""
    sent, answer = 0, b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        select.select([sock], [], [], 1.0)  # a refusal of the headers comes at once
        try:
            while sent < most and not select.select([sock], [], [], 0)[0]:
                sock.sendall(piece)
                sent += len(piece)
            while chunk := sock.recv(65536):
                answer += chunk
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass
    return sent, answer


def test_gunicorn_refuses_a_huge_declared_upload_before_reading_it(gunicorn):
    declared = 64 * MiB
    head = (
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {declared}\r\nCookie: csrftoken={TOKEN}\r\n\r\n"
    ).encode()

    sent, answer = send_until_refused(gunicorn, head, b"x" * 65536, declared)

    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"Request body too large" in answer
    assert sent < 8 * MiB  # at most what the sockets' buffers took in


def test_gunicorn_stops_reading_a_huge_chunked_body_at_the_limit(gunicorn):
    head = (
        "POST /suggest/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Transfer-Encoding: chunked\r\nCookie: csrftoken={TOKEN}\r\n\r\n"
    ).encode()
    data = b"x" * 65536
    piece = b"%x\r\n%s\r\n" % (len(data), data)

    sent, answer = send_until_refused(gunicorn, head, piece, 256 * MiB)

    assert sent < 16 * MiB  # the server read about 256 KiB, then answered and hung up
    assert answer == b"" or answer.startswith(b"HTTP/1.1 413"), answer[:200]
