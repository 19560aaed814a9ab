"""A small public site to check pages against: the demo reports, a correction, a withdrawal.

Shared by the HTML validity tests and the accessibility tests in tests/browser/.
"""

from __future__ import annotations

from django.urls import reverse

from reports import demo, workflow
from reports.models import ChangeKind, Report
from tests.conftest import make_report, publish_now

CORRECTED = "eiffel-tower-grows-in-summer"


def build() -> dict[str, str]:
    """Publish the demo reports, correct one and withdraw another; the pages' addresses."""
    demo.load(say=lambda _: None)
    corrected = Report.objects.get(slug=CORRECTED)
    # Cited as people write markers too (a list, a range), so every check sees their markup.
    corrected.summary += " Measurements since 1890 agree [1, 2] [1–3]."
    corrected.save()
    publish_now(corrected, note="We added the measurement history.", kind=ChangeKind.CORRECTION)
    withdrawn = make_report(claim="A claim we got wrong.", slug="a-claim-we-got-wrong")
    publish_now(withdrawn)
    workflow.withdraw(withdrawn, by=None, reason="Our only source was fabricated.")
    source = corrected.references.exclude(source=None).order_by("number").first().source
    topic = corrected.topics.order_by("slug").first()
    return {
        "home": reverse("reports:home"),
        "list": reverse("reports:list"),
        "search": reverse("reports:list") + "?q=eiffel+tower",
        "filtered": reverse("reports:list") + "?verdict=false&period=year&sort=newest",
        "topic": reverse("reports:topic", args=[topic.slug]),
        "report": reverse("reports:detail", args=[CORRECTED]),
        "history": reverse("reports:history", args=[CORRECTED]),
        "old version": reverse("reports:version", args=[CORRECTED, 1]),
        "withdrawn": reverse("reports:detail", args=[withdrawn.slug]),
        "source": reverse("sources:detail", args=[source.pk]),
        "rating scale": reverse("reports:rating_scale"),
        "flat page": reverse("methodology"),
        "report an error": reverse("reports:report_error", args=[CORRECTED]),
        "suggest a claim": reverse("reports:suggest_claim"),
    }
