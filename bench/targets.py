"""What bench/run.py measures, read from the benchmark database (run as `python -m bench.targets`).

`python -m bench.targets count` prints how many reports are live; `python -m bench.targets`
prints the pages to measure: the live report with the most references, a frequent claim word
to search for, other queries for the search latency loop and a mix of public paths for the
memory soak. Each answer is JSON on a line of its own that starts with PREFIX. Random
choices are seeded, so two runs on one database agree.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
from collections import Counter
from urllib.parse import quote_plus

# Marks the answer among whatever else the apps print while starting.
PREFIX = "BENCH_TARGETS "


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.db.models import Count

    from bench import search as search_bench
    from reports.models import PublishedVersion

    live = PublishedVersion.objects.live()
    if argv[1:] == ["count"]:
        print(PREFIX + json.dumps(live.count()))
        return
    largest = (
        live.annotate(references=Count("report__references"))
        .order_by("-references", "slug")
        .values("slug", "references")
        .first()
    )
    if largest is None:
        sys.exit("No live report in the benchmark database.")
    rng = random.Random(0)
    ids = list(live.values_list("pk", flat=True))
    sample = rng.sample(ids, min(len(ids), 2000))
    texts = live.filter(pk__in=sample).values_list("claim", "summary_text")
    words = Counter(
        word
        for claim, summary in texts
        for word in re.findall(r"[a-z]{5,}", f"{claim} {summary}".lower())
    )
    # The most frequent claim word is a search with many results, like a reader's topic word.
    claim_words = Counter(
        word for claim, _ in texts for word in re.findall(r"[a-z]{5,}", claim.lower())
    )
    frequent = claim_words.most_common(1)[0][0]
    vocabulary = sorted(words)
    rng.shuffle(vocabulary)
    # The latency loop searches for every query of bench/search.py (common, rare and absent
    # words, typos, pairs: at least 200 different); the mixed load for other words, so that
    # none of the loop's is cached.
    queries = [q for _, q in search_bench.interleaved(search_bench.queries())]
    # Generated texts have few distinct words, most of them in the loop: pairs fill the mix.
    mixed = [word for word in vocabulary if word not in set(queries)][:60]
    while len(mixed) < 60:
        pair = " ".join(rng.sample(vocabulary, 2))
        if pair not in queries and pair not in mixed:
            mixed.append(pair)
    slugs = list(live.filter(pk__in=sample[:300]).values_list("slug", flat=True))
    soak = (
        ["/", "/?page=2", "/reports/", "/reports/?verdict=false", "/reports/?page=3"]
        + [f"/reports/?q={quote_plus(words)}" for words in mixed]
        + [f"/reports/{slug}/" for slug in slugs]
        + [f"/reports/{largest['slug']}/"] * 5
    )
    rng.shuffle(soak)
    print(
        PREFIX
        + json.dumps(
            {
                "reports": len(ids),
                "report": largest["slug"],
                "references": largest["references"],
                "word": frequent,
                "queries": queries,
                "soak": soak,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv)
