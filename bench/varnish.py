"""Varnish in front of a running app server, with the repository's deploy/varnish.vcl.

`Varnish` starts Debian's varnishd on a free loopback port in front of a given backend
(the VCL's backend is rewritten in a copy; everything else is the file as deployed), for
the benchmark (pages through Varnish beside the ceilings, bench/run.py) and for the tests
(tests/factually/test_frontcache_varnish.py).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VCL = ROOT / "deploy" / "varnish.vcl"
VARNISHD = "/usr/sbin/varnishd"
XKEY_VMOD = "libvmod_xkey.so"


def available() -> str:
    """Why Varnish cannot run here ("" if it can): varnishd and the xkey vmod installed."""
    if not Path(VARNISHD).exists():
        return "varnishd is not installed (make browser installs varnish)"
    vmods = Path("/usr/lib/varnish/vmods")
    if not any(vmods.glob(f"**/{XKEY_VMOD}")) and not any(
        Path("/usr/lib").glob(f"*/varnish/vmods/{XKEY_VMOD}")
    ):
        return "the xkey vmod is not installed (make browser installs varnish-modules)"
    return ""


def backend_vcl(port: int, *, host: str = "127.0.0.1", host_header: str = "localhost") -> str:
    """deploy/varnish.vcl with its backend at `host`:`port` (health probes sent with the
    Host `host_header`)."""
    text = VCL.read_text()
    replaced = 0
    for name, value in (("host", host), ("port", str(port)), ("host_header", host_header)):
        text, count = re.subn(rf'(\n\s*\.{name} = )"[^"]*";', rf'\g<1>"{value}";', text, count=1)
        replaced += count
    if replaced != 3:
        raise ValueError(f"{VCL}: the backend's .host, .port or .host_header was not found")
    return text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Varnish:
    """varnishd in the foreground on 127.0.0.1, in front of `backend_port`, until `stop()`."""

    def __init__(
        self,
        backend_port: int,
        *,
        secret: str,
        host_header: str = "localhost",
        storage: str = "malloc,256m",
        threads: int | None = None,
    ):
        self.workdir = Path(tempfile.mkdtemp(prefix="factually-varnish-"))
        # varnishd drops root's privileges to its own users, who must read the VCL.
        self.workdir.chmod(0o755)
        self.vcl = self.workdir / "factually.vcl"
        self.vcl.write_text(backend_vcl(backend_port, host_header=host_header))
        self.vcl.chmod(0o644)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.workdir / "varnishd.log"
        command = [
            VARNISHD,
            "-F",
            "-n",
            str(self.workdir / "instance"),
            "-a",
            f"127.0.0.1:{self.port}",
            "-T",
            "none",
            "-f",
            str(self.vcl),
            "-s",
            storage,
        ]
        if threads:
            command += ["-p", f"thread_pool_min={threads}"]
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                command,
                env={**os.environ, "FACTUALLY_FRONT_CACHE_SECRET": secret},
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        log = self.log.read_text(errors="replace")
        self.stop()
        raise RuntimeError(f"varnishd did not start; its output:\n{log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            # Its own process group: the manager and the worker it started.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Varnish:
        self.wait_ready()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# The benchmark's pages through Varnish -----------------------------------------------------


class Front:
    """Varnish in front of the benchmark's gunicorn (bench/run.py's `Server`): has the
    `url` and `drain()` that run.py's wrk() needs."""

    def __init__(self, server, secret: str):
        self.server = server
        self.varnish = Varnish(
            int(server.url.rsplit(":", 1)[1]), secret=secret, host_header="127.0.0.1"
        )
        self.url = self.varnish.url

    def drain(self) -> None:
        self.server.drain()

    def stop(self) -> None:
        self.varnish.stop()


def start(server, secret: str) -> Front | None:
    """Varnish in front of `server`, or None (and why, printed) when it is not installed."""
    why = available()
    if why:
        print(f"[bench] pages through Varnish: n/a ({why})", file=sys.stderr, flush=True)
        return None
    front = Front(server, secret)
    front.varnish.wait_ready()
    return front


def pages(report: str) -> list[tuple[str, str, None]]:
    """The pages measured through Varnish: (name, path, headers) as in bench/run.py."""
    return [
        ("varnish_home", "/", None),
        ("varnish_report", report, None),
        ("varnish_list", "/reports/?verdict=false", None),
    ]


LABELS = {
    "varnish_home": "home, through Varnish",
    "varnish_report": "report, through Varnish",
    "varnish_list": "list ?verdict=false, through Varnish",
}
