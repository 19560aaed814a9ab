"""The benchmark: `make bench` (or `.venv/bin/python bench/run.py`). See README, "Performance".

It installs wrk (apt) when missing and gunicorn (requirements.txt), builds a PostgreSQL
database of BENCH_REPORTS generated reports (kept and reused while it holds that many),
collects the static files, then serves the site with gunicorn under production settings
(bench/settings.py: DEBUG off, a fresh SECRET_KEY, plain HTTP on 127.0.0.1 only) twice:
with the Redis cache and with the cache disabled (CACHE_URL=dummycache://). Each time it
measures, with wrk at a fixed concurrency, two ceilings (bench/ceiling.py): "hello"
(/bench/hello/, a bare hello-world Django view with no middleware: Django's own cost per
request) and "ceiling" (/bench/ceiling/, the same through every middleware of the site), the
home page, the report with the most references, a filtered list, a search
and a conditional request answered 304 (with the cache, also home, report and list through
Varnish in front of the same gunicorn: bench/varnish.py); then a loop of different searches,
one at a time (p95); then a mixed load for BENCH_DURATION seconds, sampling each worker's memory.
Every figure is printed with its ratios to both ceilings of the same round, and written to
bench/results/<timestamp>.md and .json.

Settings, from the environment (defaults in brackets):

    BENCH_REPORTS [2000]       reports in the database (100000 for the full figure)
    BENCH_DURATION [20]        seconds of mixed load while worker memory is sampled (300: 5 min)
    BENCH_SECONDS [5]          seconds of each wrk measurement
    BENCH_ROUNDS [3]           rounds of measurements of every page in turn (medians reported)
    BENCH_WARMUP [2]           seconds of wrk before each measurement (not counted)
    BENCH_THREADS [2]          wrk threads
    BENCH_CONNECTIONS [32]     wrk connections (the fixed concurrency)
    BENCH_WORKERS [cores]      gunicorn workers
    BENCH_SEARCHES [200]       searches in the latency loop
    BENCH_MODES [cached,uncached]
    BENCH_DATABASE_URL [postgres://postgres@127.0.0.1:5432/factually_bench_<REPORTS>]
    BENCH_CACHE_URL [redis://127.0.0.1:6379/2]   flushed at the start of the cached run
    BENCH_GUNICORN_ARGS        more gunicorn options, e.g. "--worker-class gthread --threads 4"
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import platform
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# The bare hello-world ceiling's path (bench/ceiling.py); run.py itself imports no Django.
HELLO_PATH = "/bench/hello/"
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
LUA = BENCH / "report.lua"
PYTHON = sys.executable

CORES = os.cpu_count() or 1
REPORTS = int(os.environ.get("BENCH_REPORTS", "2000"))
DURATION = int(os.environ.get("BENCH_DURATION", "20"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = max(1, int(os.environ.get("BENCH_ROUNDS", "3")))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(CORES)))
SEARCHES = int(os.environ.get("BENCH_SEARCHES", "200"))
MODES = [m.strip() for m in os.environ.get("BENCH_MODES", "cached,uncached").split(",") if m]
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/factually_bench_{REPORTS}"
)
CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/2")
GUNICORN_ARGS = shlex.split(os.environ.get("BENCH_GUNICORN_ARGS", ""))

CACHE_URLS = {"cached": CACHE_URL, "uncached": "dummycache://"}

sys.path.insert(0, str(ROOT))
from bench import varnish  # noqa: E402  (pages through Varnish, in the cached mode)

# Ratios the pages must reach to a ceiling of the same round: "hello", the bare hello world
# (the yardstick of issue 17), or "ceiling", /bench/ceiling/ through every middleware (the
# older targets); then search latency and memory.
TARGETS = [
    ("report", "cached", 0.7, "ceiling"),
    ("report", "uncached", 0.25, "hello"),
    ("home", "cached", 0.6, "ceiling"),
    ("list", "cached", 0.6, "ceiling"),
    ("varnish_report", "cached", 3.0, "hello"),
]
RATIO_KEYS = {"hello": "hello_ratio", "ceiling": "ratio"}
SEARCH_P95_TARGET_MS = 30.0
SEARCH_TARGET_REPORTS = 100_000
# A worker's memory is "flat" if it grew by no more than this during the mixed load.
FLAT_GROWTH = 0.05
FLAT_GROWTH_MIB = 3.0


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# Preparing ---------------------------------------------------------------------------------


def ensure_tools() -> None:
    if shutil.which("wrk") is None:
        log("wrk is missing: installing it with apt-get.")
        if shutil.which("apt-get") is None:
            sys.exit("wrk is needed: install it (Debian: apt-get install wrk) and rerun.")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
    if importlib.util.find_spec("gunicorn") is None or importlib.util.find_spec("httpx") is None:
        log("gunicorn is missing: installing requirements.txt.")
        subprocess.run(
            [PYTHON, "-m", "pip", "install", "--quiet", "-r", str(ROOT / "requirements.txt")],
            check=True,
        )


def base_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_REPLICA_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=str(ROOT),
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        # Plain HTTP on the loopback only: no TLS in front of the benchmark.
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=DATABASE_URL,
        CACHE_URL=CACHE_URL,
        LOG_LEVEL="WARNING",
    )
    return env


def manage(env: dict[str, str], *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=False,
        text=True,
        capture_output=capture,
    )
    if result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout or ''}{result.stderr or ''}")
    return result.stdout or ""


def module_answer(env: dict[str, str], module: str, *args: str, prefix: str):
    """What `python -m MODULE ARGS` prints after `prefix` (one JSON line among any other
    output): how the benchmark asks its Django-side helpers, in the benchmark's environment."""
    result = subprocess.run(
        [PYTHON, "-m", module, *args],
        cwd=ROOT,
        env=env,
        check=False,
        text=True,
        capture_output=True,
    )
    for line in result.stdout.splitlines():
        if line.startswith(prefix):
            return json.loads(line.removeprefix(prefix))
    sys.exit(f"{module} {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def targets_script(env: dict[str, str], *args: str):
    """What `python -m bench.targets ARGS` answers."""
    return module_answer(env, "bench.targets", *args, prefix="BENCH_TARGETS ")


def live_reports(env: dict[str, str]) -> int:
    return targets_script(env, "count")


def ensure_database(env: dict[str, str], reports: int = REPORTS) -> None:
    """Create the database env["DATABASE_URL"] names with `reports` generated reports, or reuse
    it if it has them (bench/load.py shares this with its own database)."""
    import psycopg
    from psycopg import sql

    url = urlsplit(env["DATABASE_URL"])
    name = url.path.lstrip("/")
    maintenance = urlunsplit(url._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            log(f"Creating database {name}.")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    manage(env, "migrate", "--no-input", "-v0")
    count = live_reports(env)
    if count == reports:
        log(f"Reusing database {name}: {count} live reports.")
        return
    if count:
        if not name.startswith(("factually_bench", "factually_load")):
            sys.exit(f"{name} holds {count} reports, not {reports}; refusing to replace it.")
        log(f"{name} holds {count} reports, not {reports}: recreating it.")
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        manage(env, "migrate", "--no-input", "-v0")
    log(f"Generating {reports} reports (generate_reports --workers {CORES}).")
    started = time.monotonic()
    manage(env, "generate_reports", "--count", str(reports), "--workers", str(CORES))
    log(f"Generated in {time.monotonic() - started:.0f} s.")


# The server --------------------------------------------------------------------------------


class Server:
    """gunicorn on a free loopback port (the socket is bound here and handed over)."""

    def __init__(self, env: dict[str, str], log_path: Path, extra_args: tuple[str, ...] = ()):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1024)
        self.listener.set_inheritable(True)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        fd = self.listener.fileno()
        command = [
            PYTHON,
            "-m",
            "gunicorn",
            # The site, and /bench/hello/ beside it without middleware (bench/wsgi.py).
            "bench.wsgi:application",
            f"--bind=fd://{fd}",
            f"--workers={WORKERS}",
            "--log-level=warning",
            f"--error-logfile={log_path}",
            "--timeout=60",
            # The default control socket is one path for every gunicorn on the machine.
            "--no-control-socket",
            *GUNICORN_ARGS,
            *extra_args,
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, pass_fds=[fd], stdin=subprocess.DEVNULL
        )
        self.listener.close()

    def wait_ready(self, timeout: float = 60) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                response = httpx.get(f"{self.url}/bench/ceiling/", timeout=2)
                if response.status_code == 200 and len(self.workers()) >= WORKERS:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        sys.exit(f"gunicorn did not start; its log:\n{self.log_path.read_text()}")

    def drain(self, timeout: float = 300) -> None:
        """Wait until the requests wrk left queued when it stopped have been served.

        A sync worker serves a request whose client is gone all the same, so the backlog of
        slow pages can keep the server busy for seconds after wrk ends.
        """
        import httpx

        deadline = time.monotonic() + timeout
        previous = None
        while time.monotonic() < deadline:
            try:
                started = time.perf_counter()
                httpx.get(f"{self.url}/bench/ceiling/", timeout=timeout)
                took = time.perf_counter() - started
            except httpx.HTTPError:
                time.sleep(0.5)
                continue
            # Served at once, or no faster than the last try: no backlog is left ahead of it
            # (on a busy machine even the ceiling can take a while).
            if took < 0.25 or (previous is not None and took > previous / 2):
                return
            previous = took
        sys.exit("gunicorn stayed busy after wrk stopped.")

    def workers(self) -> list[int]:
        result = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)],
            capture_output=True,
            text=True,
            check=False,
        )
        return sorted(int(pid) for pid in result.stdout.split())

    def rss_mib(self) -> dict[int, float]:
        """Resident memory of each worker, in MiB."""
        sizes = {}
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    sizes[pid] = int(line.split()[1]) / 1024
        return sizes

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class MemorySampler(threading.Thread):
    """Samples every worker's RSS every `interval` seconds until stopped."""

    def __init__(self, server: Server, interval: float):
        super().__init__(daemon=True)
        self.server = server
        self.interval = interval
        self.samples: list[tuple[float, dict[int, float]]] = []
        self.started_at = time.monotonic()
        self._stop = threading.Event()

    def sample(self) -> None:
        self.samples.append((time.monotonic() - self.started_at, self.server.rss_mib()))

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def finish(self) -> None:
        self._stop.set()
        self.join()
        self.sample()


# Measuring ---------------------------------------------------------------------------------


def wrk(
    server: Server,
    path: str,
    *,
    seconds: int,
    headers: dict[str, str] | None = None,
    paths_file: Path | None = None,
) -> dict:
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout=10s",
        f"--script={LUA}",
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command.append(server.url + path)
    if paths_file:
        command += ["--", str(paths_file)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            figures = json.loads(line.removeprefix("BENCH_JSON "))
            server.drain()
            return figures
    sys.exit(f"wrk failed ({' '.join(command)}):\n{result.stdout}{result.stderr}")


def conditional_headers(server: Server, path: str) -> tuple[dict[str, str] | None, str]:
    """The If-None-Match header that gets a 304 for `path`, or None and why not."""
    import httpx

    first = httpx.get(server.url + path, timeout=60)
    etag = first.headers.get("ETag")
    if not etag:
        return None, "no ETag on the report page"
    second = httpx.get(server.url + path, headers={"If-None-Match": etag}, timeout=60)
    if second.status_code != 304:
        return None, f"If-None-Match answered {second.status_code}, not 304"
    return {"If-None-Match": etag}, ""


def search_latency(server: Server, queries: list[str]) -> dict:
    """Different searches one after another (no other load): latency in ms."""
    import httpx

    times = []
    failures = 0
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for i in range(SEARCHES):
            query = queries[i % len(queries)]
            started = time.perf_counter()
            response = client.get("/reports/", params={"q": query})
            times.append((time.perf_counter() - started) * 1000)
            failures += response.status_code != 200
    times.sort()
    return {
        "searches": len(times),
        "distinct_queries": min(len(queries), SEARCHES),
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
        "p99_ms": percentile(times, 99),
        "max_ms": times[-1],
        "mean_ms": statistics.fmean(times),
        "failures": failures,
    }


def percentile(ordered: list[float], p: float) -> float:
    index = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def warm_up(server: Server, paths: list[str]) -> None:
    """Every path of the mix once (four at a time): caches filled, every code path loaded."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    with httpx.Client(base_url=server.url, timeout=60) as client, ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda path: client.get(path).status_code, paths))
    failed = [path for path, status in zip(paths, statuses, strict=True) if status != 200]
    if failed:
        sys.exit(f"{len(failed)} pages of the mix did not answer 200, e.g. {failed[0]}")


def cache_status(server: Server, path: str) -> str:
    """How the page cache served `path` just now (factually/pagecache.py's X-Factually-Cache);
    stops the benchmark if the page does not answer 200 (a redirect would be measured)."""
    import httpx

    response = httpx.get(server.url + path, timeout=60)
    if response.status_code != 200:
        sys.exit(f"{path} answered {response.status_code}, not 200: nothing to measure.")
    # Through Varnish, its X-Cache (HIT); from the app, the page cache's own header.
    return response.headers.get("X-Cache") or response.headers.get("X-Factually-Cache", "-")


def run_mode(mode: str, env: dict[str, str], targets: dict, stamp: str) -> dict:
    cache_url = CACHE_URLS[mode]
    env = {**env, "CACHE_URL": cache_url}
    if cache_url.startswith("redis://"):
        import redis

        redis.Redis.from_url(cache_url).flushdb()
    log(f"== {mode}: CACHE_URL={cache_url}, {WORKERS} gunicorn workers ==")
    # Other work on the machine skews everything; the ratios to the ceiling less so.
    load_before = os.getloadavg()[0]
    server = Server(env, RESULTS / f"{stamp}-gunicorn-{mode}.log")
    paths_file = Path(tempfile.mkstemp(prefix="bench-paths-", suffix=".txt")[1])
    front = None
    try:
        server.wait_ready()
        sampler = MemorySampler(server, interval=max(1.0, min(10.0, DURATION / 30)))
        sampler.sample()
        sampler.start()
        paths_file.write_text("\n".join(targets["soak"]) + "\n")
        log(f"warm-up: the {len(targets['soak'])} paths of the mix once each")
        warm_up(server, targets["soak"])

        report = f"/reports/{targets['report']}/"
        pages = [
            ("hello", HELLO_PATH, None),
            ("ceiling", "/bench/ceiling/", None),
            ("home", "/", None),
            ("report", report, None),
            ("list", "/reports/?verdict=false", None),
            ("search", f"/reports/?q={targets['word']}", None),
        ]
        # The same pages through Varnish (bench/varnish.py), measured in the same rounds.
        via: dict[str, object] = {}
        if mode == "cached" and (front := varnish.start(server, secrets.token_urlsafe(24))):
            for page in varnish.pages(report):
                pages.append(page)
                via[page[0]] = front
        measured: dict[str, dict] = {}
        for name, path, _ in pages:
            cache_status(via.get(name, server), path)  # stops unless the page answers 200
            measured[name] = {"path": path, "rounds": []}
        headers, why = conditional_headers(server, report)
        if headers:
            pages.append(("conditional_304", report, headers))
            measured["conditional_304"] = {"path": report, "cache": "not-modified", "rounds": []}
        else:
            log(f"conditional 304: n/a ({why})")
            measured["conditional_304"] = {"path": report, "na": why}
        if WARMUP:
            for name, path, headers in pages:
                wrk(via.get(name, server), path, seconds=WARMUP, headers=headers)
        # Rounds of every page in turn: the machine's speed drifts (it is shared), and each
        # round compares the pages to the ceiling measured within the same minute.
        for number in range(1, ROUNDS + 1):
            log(f"round {number} of {ROUNDS}: {', '.join(name for name, _, _ in pages)}")
            for name, path, headers in pages:
                measured[name]["rounds"].append(
                    wrk(via.get(name, server), path, seconds=SECONDS, headers=headers)
                )
        for name, path, headers in pages:
            if not headers:
                measured[name]["cache"] = cache_status(via.get(name, server), path)
        ceilings = [figures["rps"] for figures in measured["ceiling"]["rounds"]]
        bare = [figures["rps"] for figures in measured["hello"]["rounds"]]
        for figures in measured.values():
            if "rounds" in figures:
                figures.update(summarise_rounds(figures["rounds"], ceilings, bare=bare))
        ceiling = statistics.median(ceilings)

        log(f"search latency: {SEARCHES} different searches, one at a time")
        search = search_latency(server, targets["queries"])
        log(f"memory: {DURATION} s of mixed load over {len(targets['soak'])} paths")
        sampler.sample()
        soak_start = len(sampler.samples) - 1
        soak = wrk(server, "/", seconds=DURATION, paths_file=paths_file)
        sampler.finish()
        return {
            "mode": mode,
            "cache_url": cache_url,
            "load_before": load_before,
            "load_after": os.getloadavg()[0],
            "ceiling_rps": ceiling,
            "hello_rps": statistics.median(bare),
            "pages": measured,
            "search_latency": search,
            "soak": soak,
            "memory": memory_summary(sampler.samples, soak_start),
        }
    finally:
        if front is not None:
            front.stop()
        server.stop()
        paths_file.unlink(missing_ok=True)


def summarise_rounds(
    rounds: list[dict], ceilings: list[float], *, bare: list[float] | None = None
) -> dict:
    """A page's figures over the rounds: the median round's throughput and latency, and the
    median and range of its ratio to the ceiling of the same round (`ratio`), and to the
    bare hello world of the same round (`hello_ratio`) when `bare` gives its rounds."""
    ratios = sorted(r["rps"] / ceiling for r, ceiling in zip(rounds, ceilings, strict=True))
    middle = sorted(rounds, key=lambda r: r["rps"])[len(rounds) // 2]
    hello = {}
    if bare:
        to_bare = sorted(r["rps"] / rps for r, rps in zip(rounds, bare, strict=True))
        hello = {
            "hello_ratio": statistics.median(to_bare),
            "hello_ratio_min": to_bare[0],
            "hello_ratio_max": to_bare[-1],
        }
    return {
        **hello,
        "rps": middle["rps"],
        "p50_ms": middle["p50_ms"],
        "p99_ms": middle["p99_ms"],
        "ratio": statistics.median(ratios),
        "ratio_min": ratios[0],
        "ratio_max": ratios[-1],
        "rps_min": min(r["rps"] for r in rounds),
        "rps_max": max(r["rps"] for r in rounds),
        "error_status": sum(r["error_status"] for r in rounds),
        "socket_errors": sum(r["socket_errors"] for r in rounds),
        "timeouts": sum(r["timeouts"] for r in rounds),
    }


def memory_summary(samples: list[tuple[float, dict[int, float]]], soak_start: int) -> dict:
    """Each worker's RSS at boot, when the mixed load starts and at its end (MiB), and
    whether it stayed flat during the mixed load."""
    boot, start, end = samples[0][1], samples[soak_start][1], samples[-1][1]
    soak = samples[soak_start:]
    workers = []
    for pid in sorted(start):
        series = [sizes[pid] for _, sizes in soak if pid in sizes]
        growth = series[-1] - start[pid]
        workers.append(
            {
                "pid": pid,
                "boot_mib": boot.get(pid),
                "start_mib": start[pid],
                "end_mib": end.get(pid),
                "max_mib": max(series),
                "growth_mib": growth,
                "growth": growth / start[pid],
                "flat": growth <= max(FLAT_GROWTH * start[pid], FLAT_GROWTH_MIB),
                "restarted": pid not in end,
            }
        )
    return {
        "seconds": samples[-1][0] - samples[soak_start][0],
        "samples": len(soak),
        "workers": workers,
        "flat": all(w["flat"] and not w["restarted"] for w in workers),
        "series": [
            {"t": round(t, 1), "rss_mib": {str(k): round(v, 1) for k, v in s.items()}}
            for t, s in samples
        ],
    }


# Reporting ---------------------------------------------------------------------------------


def machine() -> dict:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = int(line.split()[1]) / 1024 / 1024
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "nproc": CORES,
        "cpu": model,
        "ram_gib": round(memory, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "commit": commit + ("+uncommitted" if dirty else ""),
    }


LABELS = {
    "hello": "hello world, no middleware (/bench/hello/)",
    "ceiling": "ceiling, every middleware (/bench/ceiling/)",
    "home": "home",
    "report": "report, most references",
    "list": "list ?verdict=false",
    "search": "search ?q=",
    "conditional_304": "report, If-None-Match → 304",
    **varnish.LABELS,
}


def markdown(results: dict) -> str:
    m = results["machine"]
    c = results["config"]
    lines = [
        f"# Factually benchmark, {results['started']}",
        "",
        f"Machine: {m['nproc']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, Linux {m['kernel']},"
        f" Python {m['python']}; commit {m['commit']}. Shared machine: expect noise.",
        f"Data: {c['reports']} generated reports. gunicorn: {c['workers']} workers"
        f" {' '.join(c['gunicorn_args'])}. wrk from the same machine: -t{c['threads']}"
        f" -c{c['connections']} -d{c['seconds']}s per page in each of {c['rounds']} rounds"
        f" (after {c['warmup']} s of warm-up per page). Figures: the median round's req/s and"
        " latency; the median and range over the rounds of the ratios to that round's two"
        " ceilings: the bare hello-world view with no middleware, and /bench/ceiling/ through"
        " every middleware.",
        "",
    ]
    for mode in results["modes"]:
        lines += [
            f"## {mode['mode']} (CACHE_URL={mode['cache_url']})",
            "",
            f"Load average (1 min) before: {mode['load_before']:.1f}, after:"
            f" {mode['load_after']:.1f}.",
            "",
            "| page | req/s | p50 ms | p99 ms | ratio to hello world | range"
            " | ratio to ceiling | range | served |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for name, figures in mode["pages"].items():
            label = LABELS[name]
            if "na" in figures:
                lines.append(f"| {label} | n/a | | | n/a | | n/a | | {figures['na']} |")
                continue
            flag = ""
            if figures["error_status"] or figures["socket_errors"] or figures["timeouts"]:
                flag = (
                    f" ⚠ {figures['error_status']} error responses,"
                    f" {figures['socket_errors']} socket errors, {figures['timeouts']} timeouts"
                )
            hello = "n/a | "
            if "hello_ratio" in figures:
                hello = (
                    f"{figures['hello_ratio']:.2f} |"
                    f" {figures['hello_ratio_min']:.2f}–{figures['hello_ratio_max']:.2f}"
                )
            lines.append(
                f"| {label}{flag} | {figures['rps']:.0f} | {figures['p50_ms']:.1f} |"
                f" {figures['p99_ms']:.1f} | {hello} | {figures['ratio']:.2f} |"
                f" {figures['ratio_min']:.2f}–{figures['ratio_max']:.2f} | {figures['cache']} |"
            )
        s = mode["search_latency"]
        lines += [
            "",
            f"Search latency, {s['searches']} searches ({s['distinct_queries']} different"
            f" queries of one or two words) one at a time: p50 {s['p50_ms']:.1f} ms,"
            f" p95 {s['p95_ms']:.1f} ms,"
            f" p99 {s['p99_ms']:.1f} ms, max {s['max_ms']:.1f} ms"
            + (f", {s['failures']} failed" if s["failures"] else "")
            + ".",
            "",
            f"Memory per worker (RSS) during {mode['memory']['seconds']:.0f} s of mixed load"
            f" at {mode['soak']['rps']:.0f} req/s (p50 {mode['soak']['p50_ms']:.0f} ms,"
            f" p99 {mode['soak']['p99_ms']:.0f} ms; {mode['memory']['samples']} samples):",
            "",
            "| worker | at boot MiB | load start MiB | load end MiB | max MiB | growth |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for w in mode["memory"]["workers"]:
            boot = f"{w['boot_mib']:.1f}" if w["boot_mib"] else "?"
            end = f"{w['end_mib']:.1f}" if w["end_mib"] else "restarted"
            lines.append(
                f"| {w['pid']} | {boot} | {w['start_mib']:.1f} | {end} | {w['max_mib']:.1f} |"
                f" {w['growth_mib']:+.1f} MiB ({w['growth']:+.1%}) |"
            )
        lines.append("")
    lines += ["## Targets", "", "| target | measured | |", "| --- | ---: | --- |"]
    for row in results["targets"]:
        lines.append(f"| {row['target']} | {row['measured']} | {row['verdict']} |")
    lines.append("")
    return "\n".join(lines)


def check_targets(results: dict) -> list[dict]:
    rows = []
    by_mode = {mode["mode"]: mode for mode in results["modes"]}
    for page, mode, minimum, yardstick in TARGETS:
        if mode not in by_mode or page not in by_mode[mode]["pages"]:
            continue
        figures = by_mode[mode]["pages"][page]
        ratio = figures[RATIO_KEYS[yardstick]]
        other = "ceiling" if yardstick == "hello" else "hello"
        rows.append(
            {
                "target": f"{page} ≥ {minimum} × {LABELS[yardstick].split(' (')[0]}, {mode}",
                "measured": f"{ratio:.2f} ({figures[RATIO_KEYS[other]]:.2f} × {other})",
                "verdict": "met" if ratio >= minimum else "NOT MET",
            }
        )
    for mode in by_mode.values():
        p95 = mode["search_latency"]["p95_ms"]
        verdict = "met" if p95 <= SEARCH_P95_TARGET_MS else "NOT MET"
        if results["config"]["reports"] < SEARCH_TARGET_REPORTS:
            verdict += f" at {results['config']['reports']} reports (the target is at 100,000)"
        rows.append(
            {
                "target": f"search p95 ≤ {SEARCH_P95_TARGET_MS:.0f} ms, {mode['mode']}",
                "measured": f"{p95:.1f} ms",
                "verdict": verdict,
            }
        )
        memory = mode["memory"]
        growth = max(w["growth_mib"] for w in memory["workers"])
        verdict = "flat" if memory["flat"] else "NOT FLAT"
        if memory["seconds"] < 300:
            verdict += f" over {memory['seconds']:.0f} s (the target is 5 minutes)"
        rows.append(
            {
                "target": f"memory per worker flat, {mode['mode']}",
                "measured": f"{growth:+.1f} MiB max",
                "verdict": verdict,
            }
        )
    return rows


def main() -> None:
    os.chdir(ROOT)
    ensure_tools()
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now().astimezone()
    stamp = started.strftime("%Y%m%d-%H%M%S")
    env = base_env()
    ensure_database(env)
    log("collectstatic")
    manage(env, "collectstatic", "--no-input", "-v0")
    targets = targets_script(env)
    log(
        f"report with the most references: {targets['report']} ({targets['references']});"
        f" search word: {targets['word']}"
    )
    results = {
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "config": {
            "reports": targets["reports"],
            "workers": WORKERS,
            "gunicorn_args": GUNICORN_ARGS,
            "threads": THREADS,
            "connections": CONNECTIONS,
            "seconds": SECONDS,
            "rounds": ROUNDS,
            "warmup": WARMUP,
            "duration": DURATION,
            "searches": SEARCHES,
            "database": urlsplit(DATABASE_URL).path.lstrip("/"),
            "report": targets["report"],
            "report_references": targets["references"],
            "search_word": targets["word"],
        },
        "modes": [run_mode(mode, env, targets, stamp) for mode in MODES],
    }
    results["targets"] = check_targets(results)
    text = markdown(results)
    (RESULTS / f"{stamp}.md").write_text(text)
    (RESULTS / f"{stamp}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print()
    print(text)
    log(f"Results: bench/results/{stamp}.md and .json")


if __name__ == "__main__":
    main()
