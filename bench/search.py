"""Search at scale: `python bench/search.py` (bench/run.py uses its queries too). See README.

Serves the site uncached (CACHE_URL=dummycache://) with gunicorn on the benchmark database
(bench/run.py's BENCH_* settings: BENCH_REPORTS=100000 for the target figure), then:

- latency: BENCH_SEARCHES (at least 200) different searches one at a time, nothing else
  running: common and rare words, words found nowhere, typos, pairs of words; p50/p95/p99
  overall and per kind of query (target: p95 ≤ 30 ms at 100,000 reports);
- throughput: a search of each kind under wrk's BENCH_CONNECTIONS connections beside the
  ceiling (/bench/ceiling/) in the same rounds; each as a ratio to it (target ≥ 0.1).

Results go to bench/results/<timestamp>-search.md and .json. `python -m bench.search
queries` prints the queries (JSON after PREFIX), read from the database with a fixed seed.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/ is on the path, not the project
    sys.path.insert(0, str(ROOT))

PREFIX = "BENCH_SEARCH "
P95_TARGET_MS = 30.0
RATIO_TARGET = 0.1
KINDS = ("common", "rare", "absent", "typo", "pair")


# The queries (run inside Django) ----------------------------------------------------------


def queries() -> dict[str, list[str]]:
    """At least 200 different queries by kind, from the texts of 2,000 live reports."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from reports.models import PublishedVersion

    rng = random.Random(1)
    ids = list(PublishedVersion.objects.live().values_list("pk", flat=True))
    sample = rng.sample(ids, min(len(ids), 2000))
    texts = PublishedVersion.objects.filter(pk__in=sample).values_list("claim", "summary_text")
    counts = Counter(
        word
        for claim, summary in texts
        for word in re.findall(r"[a-z]{4,}", f"{claim} {summary}".lower())
    )
    by_count = [word for word, _ in counts.most_common()]
    common = by_count[:40]
    # Found once in 2,000 reports: a few dozen in 100,000 (a name, a place).
    rare = sorted(word for word, n in counts.items() if n == 1)
    rng.shuffle(rare)
    rare = rare[:50] or by_count[-50:]
    absent = ["".join(rng.choices("bcdfghjklmnpqrstvwxz", k=rng.randint(6, 9))) for _ in range(20)]
    typos = [_typo(rng, word) for word in rng.sample(common, min(25, len(common))) + rare[:25]]
    pairs = [f"{rng.choice(common)} {rng.choice(common)}" for _ in range(25)]
    pairs += [f"{rng.choice(common)} {rng.choice(rare)}" for _ in range(15)]
    pairs += [f"{rng.choice(common)} {_typo(rng, rng.choice(rare))}" for _ in range(10)]
    found = {"common": common, "rare": rare, "absent": absent, "typo": typos, "pair": pairs}
    seen: set[str] = set()
    # Each query once across kinds: a repeated one would be measured warm.
    return {kind: [q for q in found[kind] if not (q in seen or seen.add(q))] for kind in KINDS}


def _typo(rng: random.Random, word: str) -> str:
    """`word` with one letter dropped, doubled or swapped with the next, as readers type."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["drop", "double", "swap"])
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def read_queries(env: dict[str, str]) -> dict[str, list[str]]:
    """`queries()` run in a process with the benchmark's environment."""
    from bench.run import module_answer

    return module_answer(env, "bench.search", "queries", prefix=PREFIX)


def interleaved(by_kind: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(kind, query) pairs, the kinds taking turns, so that no kind runs at one moment only."""
    rng = random.Random(2)
    pairs = [(kind, query) for kind in KINDS for query in by_kind.get(kind, [])]
    rng.shuffle(pairs)
    return pairs


# Measuring -----------------------------------------------------------------------------------


def latency(server, by_kind: dict[str, list[str]], count: int | None = None) -> dict:
    """Different searches one after another (nothing else running): ms, overall and by kind."""
    import httpx

    from bench.run import percentile

    mixed = interleaved(by_kind)
    count = count or len(mixed)
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    failures = 0
    with httpx.Client(base_url=server.url, timeout=30) as client:
        client.get("/reports/", params={"q": "warm up"})  # connections and code loaded
        for kind, query in (mixed * (count // len(mixed) + 1))[:count]:
            started = time.perf_counter()
            response = client.get("/reports/", params={"q": query})
            times[kind].append((time.perf_counter() - started) * 1000)
            failures += response.status_code != 200

    def figures(values: list[float]) -> dict:
        ordered = sorted(values)
        return {
            "searches": len(ordered),
            "p50_ms": percentile(ordered, 50),
            "p95_ms": percentile(ordered, 95),
            "p99_ms": percentile(ordered, 99),
            "max_ms": ordered[-1],
            "mean_ms": statistics.fmean(ordered),
        }

    every = [t for values in times.values() for t in values]
    return {
        **figures(every),
        "distinct_queries": min(len(mixed), count),
        "failures": failures,
        "kinds": {kind: figures(values) for kind, values in times.items() if values},
    }


def throughput(server, by_kind: dict[str, list[str]], *, rounds: int, seconds: int) -> dict:
    """One search of each kind under wrk, rounds of every page in turn with the ceiling."""
    from bench.run import summarise_rounds, wrk

    pages = [("ceiling", "/bench/ceiling/")] + [
        (kind, "/reports/?q=" + by_kind[kind][0].replace(" ", "+"))
        for kind in KINDS
        if by_kind.get(kind)
    ]
    measured = {name: {"path": path, "rounds": []} for name, path in pages}
    for _ in range(rounds):
        for name, path in pages:
            measured[name]["rounds"].append(wrk(server, path, seconds=seconds))
    ceilings = [figures["rps"] for figures in measured["ceiling"]["rounds"]]
    for figures in measured.values():
        figures.update(summarise_rounds(figures["rounds"], ceilings))
    return measured


def markdown(results: dict) -> str:
    lines = [
        f"# Search at {results['reports']:,} reports ({results['started']})",
        "",
        f"Load average before/after: {results['load_before']:.2f} / {results['load_after']:.2f}"
        f" ({results['cores']} cores). Uncached (CACHE_URL=dummycache://), "
        f"{results['workers']} gunicorn workers.",
        "",
        f"Latency, {results['latency']['searches']} searches one at a time "
        f"({results['latency']['distinct_queries']} different):",
        "",
        "| queries | n | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows = [("all", results["latency"]), *results["latency"]["kinds"].items()]
    for name, f in rows:
        lines.append(
            f"| {name} | {f['searches']} | {f['p50_ms']:.1f} | {f['p95_ms']:.1f} "
            f"| {f['p99_ms']:.1f} | {f['max_ms']:.1f} |"
        )
    lines += ["", "Under wrk (medians of the rounds):", ""]
    lines += ["| page | req/s | ratio to ceiling | p99 ms |", "|---|---:|---:|---:|"]
    for name, f in results["throughput"].items():
        lines.append(
            f"| {name} `{f['path']}` | {f.get('rps', 0):.0f} | {f.get('ratio', 0):.3f} "
            f"| {f.get('p99_ms', 0):.0f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    from bench import run

    os.chdir(ROOT)
    run.ensure_tools()
    run.RESULTS.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now().astimezone()
    stamp = started.strftime("%Y%m%d-%H%M%S")
    env = run.base_env()
    run.ensure_database(env)
    run.manage(env, "collectstatic", "--no-input", "-v0")
    by_kind = read_queries(env)
    env = {**env, "CACHE_URL": "dummycache://"}
    load_before = os.getloadavg()[0]
    server = run.Server(env, run.RESULTS / f"{stamp}-gunicorn-search.log")
    try:
        server.wait_ready()
        found = latency(server, by_kind, max(run.SEARCHES, 200))
        run.log(f"latency: p50 {found['p50_ms']:.1f} ms, p95 {found['p95_ms']:.1f} ms")
        loaded = throughput(server, by_kind, rounds=run.ROUNDS, seconds=run.SECONDS)
    finally:
        server.stop()
    results = {
        "started": started.isoformat(timespec="seconds"),
        "reports": run.live_reports(env),
        "database": run.DATABASE_URL.rsplit("/", 1)[-1],
        "cores": run.CORES,
        "workers": run.WORKERS,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "queries": by_kind,
        "latency": found,
        "throughput": loaded,
    }
    results["met"] = {
        "p95": found["p95_ms"] <= P95_TARGET_MS,
        "ratio": all(f["ratio"] >= RATIO_TARGET for f in loaded.values()),
    }
    text = markdown(results)
    (run.RESULTS / f"{stamp}-search.md").write_text(text)
    (run.RESULTS / f"{stamp}-search.json").write_text(json.dumps(results, indent=2))
    print(text)
    run.log(f"Results: bench/results/{stamp}-search.md and .json")


if __name__ == "__main__":
    if sys.argv[1:] == ["queries"]:
        print(PREFIX + json.dumps(queries()))
    else:
        main()
